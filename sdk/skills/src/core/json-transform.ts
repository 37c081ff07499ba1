import { z } from "zod";
import { defineSkill, type JsonValue, noPermissions, SkillError, type SkillManifest } from "../sdk";

const manifest = {
  manifestVersion: 1,
  name: "json-transform",
  version: "1.0.0",
  displayName: "JSON transform",
  description:
    "Reshape JSON with select, pick, rename, filter, map and limit steps over a small path language (a.b[0].c).",
  category: "data",
  entry: "src/core/json-transform.ts",
  runtime: "js",
  permissions: noPermissions(),
} satisfies SkillManifest;

type PathSegment = string | number;

// Keys that would reach an object's prototype are refused outright rather than special-cased.
const UNSAFE_KEYS = new Set(["__proto__", "prototype", "constructor"]);
const PATH_TOKEN = /^(?:[A-Za-z_$][\w$-]*|\[\d{1,6}\])/;

/**
 * Parses a path such as `items[0].name` into its segments, or returns an error message. Keys are
 * identifiers (letters, digits, _ $ -); `[n]` indexes an array. Nothing is evaluated.
 */
export function parsePath(path: string): PathSegment[] | string {
  if (path === "" || path === ".") return [];
  const segments: PathSegment[] = [];
  let rest = path;
  while (rest.length > 0) {
    const match = PATH_TOKEN.exec(rest);
    if (match === null) return `unexpected "${rest.slice(0, 16)}" in path ${path}`;
    const token = match[0];
    if (token.startsWith("[")) segments.push(Number(token.slice(1, -1)));
    else if (UNSAFE_KEYS.has(token)) return `the key ${token} is not allowed`;
    else segments.push(token);
    rest = rest.slice(token.length);
    if (rest.startsWith(".")) {
      rest = rest.slice(1);
      if (rest.length === 0 || rest.startsWith("["))
        return `a path cannot end in "." or put "." before "[" (${path})`;
    } else if (rest.length > 0 && !rest.startsWith("[")) {
      return `expected "." or "[" in path ${path}`;
    }
  }
  return segments;
}

const pathSchema = z
  .string()
  .max(256)
  .superRefine((path, ctx) => {
    const parsed = parsePath(path);
    if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
  });

const fieldName = z
  .string()
  .min(1)
  .max(128)
  .refine((name) => !UNSAFE_KEYS.has(name), "this key is not allowed");

const condition = z.strictObject({
  path: pathSchema,
  equals: z.json().optional(),
  notEquals: z.json().optional(),
  exists: z.boolean().optional(),
  gt: z.number().optional(),
  gte: z.number().optional(),
  lt: z.number().optional(),
  lte: z.number().optional(),
  contains: z.string().optional(),
});
type Condition = z.infer<typeof condition>;

const operation = z.discriminatedUnion("op", [
  /** Replace the current value with the value at `path`. */
  z.strictObject({ op: z.literal("select"), path: pathSchema }),
  /** Keep only these paths (nested structure preserved); on an array, of each element. */
  z.strictObject({ op: z.literal("pick"), paths: z.array(pathSchema).min(1).max(100) }),
  /** Move a top-level field; on an array, in each element. */
  z.strictObject({ op: z.literal("rename"), from: fieldName, to: fieldName }),
  /** Keep array elements for which every given test holds. */
  z.strictObject({ op: z.literal("filter"), where: condition }),
  /** Build a new object from paths; on an array, for each element. */
  z.strictObject({ op: z.literal("map"), fields: z.record(fieldName, pathSchema) }),
  z.strictObject({ op: z.literal("limit"), count: z.number().int().min(0).max(10_000) }),
]);
type Operation = z.infer<typeof operation>;

/** A step that does not fit the data it meets, such as filtering an object. */
export class TransformError extends SkillError {
  constructor(message: string) {
    super("invalid_transform", message);
    this.name = "TransformError";
  }
}

// Plain assignment of a "__proto__" key (JSON.parse makes it an own property) would change the
// prototype instead of copying the field; defineProperty always creates an own property.
function setOwn(target: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isRecord(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function segmentsOf(path: string): PathSegment[] {
  const parsed = parsePath(path);
  // Paths were validated with the input; a string here would be a bug in this file.
  if (typeof parsed === "string") throw new TransformError(parsed);
  return parsed;
}

/** The value at `path`, or undefined when any step is missing. */
export function getPath(value: JsonValue, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const segment of segmentsOf(path)) {
    if (typeof segment === "number") current = Array.isArray(current) ? current[segment] : undefined;
    else current = isRecord(current) && Object.hasOwn(current, segment) ? current[segment] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

function setPath(target: { [key: string]: JsonValue }, segments: PathSegment[], value: JsonValue): void {
  let current: { [key: string]: JsonValue } = target;
  // Picked array indexes become object keys ("items[0]" → { items: { "0": … } }), so nothing is sparse.
  const keys = segments.map(String);
  for (const [index, key] of keys.entries()) {
    if (index === keys.length - 1) {
      setOwn(current, key, value);
      return;
    }
    const next = Object.hasOwn(current, key) ? current[key] : undefined;
    if (isRecord(next)) {
      current = next;
    } else {
      const created: { [key: string]: JsonValue } = {};
      setOwn(current, key, created);
      current = created;
    }
  }
}

function matches(element: JsonValue, where: Condition): boolean {
  const found = getPath(element, where.path);
  if (where.exists !== undefined && (found !== undefined) !== where.exists) return false;
  if (where.equals !== undefined && !jsonEqual(found, where.equals)) return false;
  if (where.notEquals !== undefined && jsonEqual(found, where.notEquals)) return false;
  const compares = [where.gt, where.gte, where.lt, where.lte].some((bound) => bound !== undefined);
  if (compares) {
    if (typeof found !== "number") return false;
    if (where.gt !== undefined && !(found > where.gt)) return false;
    if (where.gte !== undefined && !(found >= where.gte)) return false;
    if (where.lt !== undefined && !(found < where.lt)) return false;
    if (where.lte !== undefined && !(found <= where.lte)) return false;
  }
  if (where.contains !== undefined) {
    if (typeof found === "string") return found.includes(where.contains);
    if (Array.isArray(found)) return found.some((item) => item === where.contains);
    return false;
  }
  return true;
}

function jsonEqual(a: JsonValue | undefined, b: JsonValue): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function eachOrOne(value: JsonValue, apply: (item: JsonValue) => JsonValue): JsonValue {
  return Array.isArray(value) ? value.map(apply) : apply(value);
}

function apply(value: JsonValue, step: Operation, index: number): JsonValue {
  switch (step.op) {
    case "select":
      return getPath(value, step.path) ?? null;
    case "pick":
      return eachOrOne(value, (item) => {
        const picked: { [key: string]: JsonValue } = {};
        for (const path of step.paths) {
          const found = getPath(item, path);
          if (found !== undefined) setPath(picked, segmentsOf(path), found);
        }
        return picked;
      });
    case "rename":
      return eachOrOne(value, (item) => {
        if (!isRecord(item) || !Object.hasOwn(item, step.from)) return item;
        const renamed: { [key: string]: JsonValue } = {};
        for (const [key, field] of Object.entries(item)) {
          if (key === step.from) setOwn(renamed, step.to, field);
          else if (key !== step.to) setOwn(renamed, key, field);
        }
        return renamed;
      });
    case "filter":
      if (!Array.isArray(value)) throw new TransformError(`step ${index}: filter needs an array`);
      return value.filter((element) => matches(element, step.where));
    case "map":
      return eachOrOne(value, (item) => {
        const mapped: { [key: string]: JsonValue } = {};
        for (const [name, path] of Object.entries(step.fields)) mapped[name] = getPath(item, path) ?? null;
        return mapped;
      });
    case "limit":
      if (!Array.isArray(value)) throw new TransformError(`step ${index}: limit needs an array`);
      return value.slice(0, step.count);
  }
}

/** Runs the steps in order over `data`. */
export function transformJson(data: JsonValue, operations: readonly Operation[]): JsonValue {
  return operations.reduce<JsonValue>((value, step, index) => apply(value, step, index), data);
}

export const jsonTransform = defineSkill({
  manifest,
  input: z.strictObject({
    data: z.json(),
    operations: z.array(operation).min(1).max(50),
  }),
  output: z.object({ result: z.json() }),
  async handler({ data, operations }) {
    return { result: transformJson(data, operations) };
  },
});
