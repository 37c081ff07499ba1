import { z } from "zod";
import { type IssueDetails, issueDetails } from "./errors";

/** The message types of the agent messaging API (api-contract.md). */
export const MESSAGE_TYPES = [
  "task_handoff",
  "status_update",
  "data_request",
  "data_response",
  "escalation",
  "notification",
] as const;
export const messageTypeSchema = z.enum(MESSAGE_TYPES);
export type MessageType = z.infer<typeof messageTypeSchema>;

/** Catalogue categories, fixed so the dashboard can filter on them. */
export const SKILL_CATEGORIES = [
  "communication",
  "memory",
  "files",
  "network",
  "data",
  "ai",
  "productivity",
  "integrations",
  "safety",
] as const;

/**
 * Environment variables with this prefix carry the platform's own credentials (agent tokens and the
 * like); no skill may ask for them.
 */
export const RESERVED_ENV_PREFIX = "AEGIS_";

const SKILL_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
// The regular expression published on semver.org.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const IPV4_DOTTED = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const PATH_CHARS = /^[A-Za-z0-9._\-+@*/]+$/;
const ENTRY_EXTENSION = /\.(?:ts|mts|js|mjs)$/;

/** Why a declared domain is unacceptable, or null when it is fine. */
export function domainProblem(value: string): string | null {
  if (value.includes("://")) return "declare a hostname without a scheme (api.example.com, not https://…)";
  if (value === "*") return "a bare * would allow every host; declare the hosts the skill needs";
  if (value.includes(":") || value.startsWith("["))
    return "ports and IPv6 addresses are not allowed; declare a hostname";
  if (value.includes("/")) return "declare a hostname without a path";
  if (IPV4_DOTTED.test(value)) return "IP addresses are not allowed; declare a hostname";
  const wildcard = value.startsWith("*.");
  const base = wildcard ? value.slice(2) : value;
  if (base.includes("*")) return "a wildcard is only allowed as a leading *. (as in *.example.com)";
  if (base.length > 253) return "hostname is longer than 253 characters";
  const labels = base.split(".");
  if (labels.length < 2)
    return wildcard
      ? "a wildcard must cover a domain with at least two labels (*.example.com, not *.com)"
      : "declare a fully qualified hostname (at least two labels, as in api.example.com)";
  if (!labels.every((label) => HOST_LABEL.test(label)))
    return "not a valid hostname (letters, digits and hyphens in dot-separated labels)";
  // The URL standard reads a host whose last label is numeric as an IPv4 address.
  const last = labels[labels.length - 1] ?? "";
  if (!/^[a-z]/i.test(last)) return "the last label must start with a letter; IP addresses are not allowed";
  return null;
}

/** Why a workspace path pattern is unacceptable, or null when it is fine. */
export function pathPatternProblem(value: string, options: { wildcards: boolean }): string | null {
  if (value.length === 0) return "must not be empty";
  if (value.length > 256) return "must be at most 256 characters";
  if (value.includes("\\")) return "use forward slashes";
  if (value.startsWith("/")) return "must be relative to the agent workspace (no leading /)";
  if (value.startsWith("~")) return "must be relative to the agent workspace (no ~)";
  const body = value.endsWith("/") ? value.slice(0, -1) : value;
  const segments = body.split("/");
  if (segments.includes("..")) return "must not contain .. (paths stay inside the workspace)";
  if (segments.includes(".")) return "must not contain . segments";
  if (segments.includes("")) return "must not contain empty segments (//)";
  if (!PATH_CHARS.test(value)) return "may only contain letters, digits, and . _ - + @ * /";
  if (value.includes("*")) {
    if (!options.wildcards) return "wildcards are not allowed here";
    if (value.includes("**")) return "** is not supported; end a pattern with / to include every subfolder";
  }
  return null;
}

function stringWith(problem: (value: string) => string | null) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== null) ctx.addIssue({ code: "custom", message });
  });
}

function uniqueList<T extends z.ZodType<string>>(item: T, max: number) {
  return z
    .array(item)
    .max(max)
    .superRefine((values, ctx) => {
      const seen = new Set<string>();
      values.forEach((value, index) => {
        const key = value.toLowerCase();
        if (seen.has(key))
          ctx.addIssue({ code: "custom", message: `duplicate entry ${value}`, path: [index] });
        seen.add(key);
      });
    });
}

const domainSchema = stringWith(domainProblem).describe(
  'An exact hostname ("api.github.com") or a subdomain wildcard ("*.example.com").',
);
const filePatternSchema = stringWith((value) => pathPatternProblem(value, { wildcards: true })).describe(
  'A path relative to the agent workspace: "notes/" covers a folder, "reports/*.md" matches within one folder.',
);
const envNameSchema = z
  .string()
  .max(128)
  .regex(ENV_NAME, "must be UPPER_SNAKE_CASE")
  .refine(
    (name) => !name.startsWith(RESERVED_ENV_PREFIX),
    `names starting ${RESERVED_ENV_PREFIX} are reserved`,
  );

export const permissionsSchema = z
  .strictObject({
    network: z.strictObject({ allowedDomains: uniqueList(domainSchema, 50) }),
    files: z.strictObject({
      readPaths: uniqueList(filePatternSchema, 50),
      writePaths: uniqueList(filePatternSchema, 50),
    }),
    env: z.strictObject({ required: uniqueList(envNameSchema, 50), optional: uniqueList(envNameSchema, 50) }),
    messages: z.strictObject({ send: uniqueList(messageTypeSchema, MESSAGE_TYPES.length) }),
    models: z.strictObject({
      gateway: z.boolean().describe("Whether the skill may call models through the Aegis model gateway."),
    }),
  })
  .superRefine((permissions, ctx) => {
    const required = new Set(permissions.env.required);
    permissions.env.optional.forEach((name, index) => {
      if (required.has(name))
        ctx.addIssue({
          code: "custom",
          message: `${name} is already required`,
          path: ["env", "optional", index],
        });
    });
  });

/** Version 1 of the permission manifest every skill package carries. */
export const skillManifestSchema = z.strictObject({
  manifestVersion: z.literal(1),
  name: z
    .string()
    .min(2)
    .max(64)
    .regex(SKILL_NAME, "must be lowercase kebab-case (letters, digits and single hyphens)"),
  version: z.string().max(64).regex(SEMVER, "must be a semantic version such as 1.0.0"),
  displayName: z.string().trim().min(1).max(80),
  description: z.string().trim().min(1).max(1000),
  category: z.enum(SKILL_CATEGORIES),
  entry: stringWith((value) => {
    const problem = pathPatternProblem(value, { wildcards: false });
    if (problem !== null) return problem;
    if (value.endsWith("/") || !ENTRY_EXTENSION.test(value)) return "must name a .ts, .mts, .js or .mjs file";
    return null;
  }),
  runtime: z.literal("js"),
  permissions: permissionsSchema,
});

export type SkillManifest = z.infer<typeof skillManifestSchema>;
export type SkillPermissions = SkillManifest["permissions"];

/** JSON Schema of the manifest, for editors and the package validator. */
export const manifestJsonSchema = z.toJSONSchema(skillManifestSchema);

export type ManifestParseResult = { ok: true; manifest: SkillManifest } | { ok: false; issues: IssueDetails };

/** Validates an untrusted manifest, answering field paths and reasons instead of throwing. */
export function parseManifest(raw: unknown): ManifestParseResult {
  const result = skillManifestSchema.safeParse(raw);
  return result.success
    ? { ok: true, manifest: result.data }
    : { ok: false, issues: issueDetails(result.error) };
}

/** Permissions that grant nothing, to spread from when writing a manifest. */
export function noPermissions(): SkillPermissions {
  return {
    network: { allowedDomains: [] },
    files: { readPaths: [], writePaths: [] },
    env: { required: [], optional: [] },
    messages: { send: [] },
    models: { gateway: false },
  };
}

/** The manifest's permissions in plain language, one line per capability, for the dashboard. */
export function describePermissions(manifest: Pick<SkillManifest, "permissions">): string[] {
  const { network, files, env, messages, models } = manifest.permissions;
  const lines: string[] = [];

  if (network.allowedDomains.length === 0) {
    lines.push("No network access");
  } else {
    const hosts = network.allowedDomains.map((domain) =>
      domain.startsWith("*.") ? `any subdomain of ${domain.slice(2)}` : domain,
    );
    lines.push(`Can connect to ${joinWords(hosts)}`);
  }

  if (files.readPaths.length === 0 && files.writePaths.length === 0) {
    lines.push("No access to workspace files");
  } else {
    if (files.readPaths.length > 0) lines.push(`Can read ${joinWords(files.readPaths.map(describePattern))}`);
    if (files.writePaths.length > 0)
      lines.push(`Can create and change ${joinWords(files.writePaths.map(describePattern))}`);
  }

  if (env.required.length > 0) lines.push(`Needs ${plural(env.required, "environment variable")}`);
  if (env.optional.length > 0) lines.push(`Can use ${plural(env.optional, "environment variable")} if set`);

  if (messages.send.length > 0) lines.push(`Can send ${joinWords(messages.send)} messages to other agents`);

  if (models.gateway) lines.push("Can call models through the Aegis gateway");

  return lines;
}

function describePattern(pattern: string): string {
  if (pattern.endsWith("/")) return `files in ${pattern}`;
  if (pattern.includes("*")) return `files matching ${pattern}`;
  return `the file ${pattern}`;
}

function plural(names: readonly string[], noun: string): string {
  return `${noun}${names.length > 1 ? "s" : ""} ${joinWords(names)}`;
}

function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}
