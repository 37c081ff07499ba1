/**
 * Just enough JSON Schema (draft 2020-12, as zod's toJSONSchema writes it) to generate a form,
 * validate it in the browser and diff two configurations. Anything it does not understand is left
 * to the server, which validates again.
 */
import type { FieldErrors } from "./api";

export interface JsonSchema {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  maxItems?: number;
}

export type Path = ReadonlyArray<string | number>;

export const pathKey = (path: Path): string => path.join(".");

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Follows a local `$ref` and unwraps `anyOf: [X, null]`; `nullable` says whether null is allowed. */
export function resolve(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  let s = schema;
  for (let i = 0; i < 8 && s.$ref; i++) {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref);
    const target = m ? (m[1] === "$defs" ? root.$defs : root.definitions)?.[m[2] ?? ""] : undefined;
    if (!target) break;
    const { $ref: _ref, ...rest } = s;
    s = { ...target, ...rest };
  }
  const alts = s.anyOf ?? s.oneOf;
  if (alts) {
    const nonNull = alts.filter((a) => a.type !== "null");
    if (nonNull.length === 1 && nonNull[0]) {
      const inner = resolve(nonNull[0], root);
      const { anyOf: _a, oneOf: _o, ...outer } = s;
      return {
        schema: { ...inner.schema, ...outer },
        nullable: nonNull.length < alts.length || inner.nullable,
      };
    }
  }
  if (Array.isArray(s.type) && s.type.includes("null")) {
    const types = s.type.filter((t) => t !== "null");
    return { schema: { ...s, type: types.length === 1 ? types[0] : types }, nullable: true };
  }
  return { schema: s, nullable: false };
}

export function schemaType(s: JsonSchema): string | undefined {
  if (typeof s.type === "string") return s.type;
  if (s.enum) return "enum";
  if (s.properties) return "object";
  return undefined;
}

export function getAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const k of path) {
    if (Array.isArray(v) && typeof k === "number") v = v[k];
    else if (isPlainObject(v)) v = v[String(k)];
    else return undefined;
  }
  return v;
}

/** A copy of `value` with `next` at `path` (undefined removes the key), creating objects on the way. */
export function setAt(value: unknown, path: Path, next: unknown): unknown {
  if (path.length === 0) return next;
  const [head, ...rest] = path;
  if (typeof head === "number") {
    const arr = Array.isArray(value) ? [...value] : [];
    arr[head] = setAt(arr[head], rest, next);
    return arr;
  }
  const obj: Record<string, unknown> = isPlainObject(value) ? { ...value } : {};
  const child = setAt(obj[head ?? ""], rest, next);
  if (child === undefined) delete obj[head ?? ""];
  else obj[head ?? ""] = child;
  return obj;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

export interface DiffEntry {
  path: string;
  kind: "added" | "removed" | "changed";
  before: unknown;
  after: unknown;
}

/** Changed leaves (objects are descended into; arrays compare as one value). */
export function diff(before: unknown, after: unknown, path: Path = []): DiffEntry[] {
  if (deepEqual(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => diff(before[k], after[k], [...path, k]));
  }
  // Lists of objects (schedules) compare item by item; lists of plain values stay one line.
  const objects = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every(isPlainObject);
  if (Array.isArray(before) && Array.isArray(after) && (objects(before) || objects(after))) {
    const n = Math.max(before.length, after.length);
    return Array.from({ length: n }, (_, i) => diff(before[i], after[i], [...path, i])).flat();
  }
  const kind = before === undefined ? "added" : after === undefined ? "removed" : "changed";
  return [{ path: pathKey(path) || "(whole configuration)", kind, before, after }];
}

/**
 * A value in a sentence: strings quoted, long ones cut, lists and objects as compact JSON. A missing
 * setting reads "(default)"; a missing list item (`path` ends in an index) reads "(none)".
 */
export function formatValue(v: unknown, max = 80, path = ""): string {
  if (v === undefined && /\.\d+$/.test(path)) return "(none)";
  if (v === undefined) return "(default)";
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function push(errors: FieldErrors, path: Path, message: string): void {
  const k = pathKey(path);
  errors[k] = [...(errors[k] ?? []), message];
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
      return isPlainObject(v);
    case "null":
      return v === null;
    default:
      return true;
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
};

/** Client-side checks, keyed by dot path like the server's `details` (without the `config.` prefix). */
export function validate(
  schema: JsonSchema,
  value: unknown,
  root: JsonSchema = schema,
  path: Path = [],
): FieldErrors {
  const errors: FieldErrors = {};
  walk(schema, value, root, path, errors);
  return errors;
}

function walk(raw: JsonSchema, v: unknown, root: JsonSchema, path: Path, errors: FieldErrors): void {
  if (v === undefined) return;
  const { schema: s, nullable } = resolve(raw, root);
  if (v === null) {
    if (!nullable && s.type !== "null") push(errors, path, "Cannot be empty");
    return;
  }
  if (s.enum && !s.enum.some((e) => deepEqual(e, v))) {
    push(errors, path, `Must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`);
    return;
  }
  if (s.const !== undefined && !deepEqual(s.const, v)) {
    push(errors, path, `Must be ${JSON.stringify(s.const)}`);
    return;
  }
  const type = typeof s.type === "string" ? s.type : undefined;
  if (type && !typeOk(type, v)) {
    push(errors, path, `Must be ${TYPE_WORDS[type] ?? type}`);
    return;
  }
  if (typeof v === "number") {
    if (s.minimum !== undefined && v < s.minimum) push(errors, path, `Must be at least ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) push(errors, path, `Must be at most ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum)
      push(errors, path, `Must be more than ${s.exclusiveMinimum}`);
    if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum)
      push(errors, path, `Must be less than ${s.exclusiveMaximum}`);
  }
  if (typeof v === "string") {
    if (s.minLength !== undefined && v.length < s.minLength)
      push(errors, path, s.minLength === 1 ? "Cannot be empty" : `At least ${s.minLength} characters`);
    if (s.maxLength !== undefined && v.length > s.maxLength)
      push(errors, path, `At most ${s.maxLength} characters (now ${v.length})`);
    if (v === "" && (s.pattern || s.format)) push(errors, path, "Cannot be empty");
    else if (s.format === "email" && !EMAIL_RE.test(v)) push(errors, path, `“${v}” is not an email address`);
    else if (s.pattern) {
      try {
        if (!new RegExp(s.pattern, "u").test(v)) push(errors, path, "Has the wrong format");
      } catch {
        // A pattern this browser cannot compile: the server checks it.
      }
    }
  }
  if (Array.isArray(v)) {
    const items = (n: number) => `${n} ${n === 1 ? "item" : "items"}`;
    if (s.minItems !== undefined && v.length < s.minItems)
      push(errors, path, s.minItems === 1 ? "Choose at least one" : `At least ${items(s.minItems)}`);
    if (s.maxItems !== undefined && v.length > s.maxItems) push(errors, path, `At most ${items(s.maxItems)}`);
    if (s.items) {
      const items = s.items;
      v.forEach((item, i) => {
        walk(items, item, root, [...path, i], errors);
      });
    }
  }
  if (isPlainObject(v)) {
    for (const k of s.required ?? []) if (v[k] === undefined) push(errors, [...path, k], "Required");
    for (const [k, child] of Object.entries(v)) {
      const sub = s.properties?.[k];
      if (sub) walk(sub, child, root, [...path, k], errors);
      else if (s.additionalProperties === false) push(errors, [...path, k], "Unknown setting");
      else if (isPlainObject(s.additionalProperties))
        walk(s.additionalProperties, child, root, [...path, k], errors);
    }
  }
}

/** The server's `details` keys ("config.messaging.maxHops", "body.config…") as form paths. */
export function fromServerDetails(details: FieldErrors | undefined): FieldErrors {
  const out: FieldErrors = {};
  for (const [k, v] of Object.entries(details ?? {})) {
    const key = k.replace(/^(body\.)?config\.?/, "") || "";
    out[key] = [...(out[key] ?? []), ...v];
  }
  return out;
}

/** "maxHops" → "Max hops", "default_ttl" → "Default ttl" */
export function labelFor(key: string): string {
  const words = key
    .replace(/Ids$/, "s")
    .replace(/(.)Id$/, "$1")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
  const cased = words.replace(/\b(ttl|id|ids|url|urls|api|json|llm)\b/g, (w) => w.toUpperCase());
  return cased.charAt(0).toUpperCase() + cased.slice(1);
}

/** Whether the form has a field for this dot path (items of a list count as their list's field). */
export function hasField(schema: JsonSchema, key: string): boolean {
  if (!key) return false;
  let s: JsonSchema | undefined = resolve(schema, schema).schema;
  for (const seg of key.split(".")) {
    if (!s) return false;
    if (schemaType(s) === "array") return true;
    s = s.properties?.[seg];
    if (s) s = resolve(s, schema).schema;
  }
  return s !== undefined;
}
