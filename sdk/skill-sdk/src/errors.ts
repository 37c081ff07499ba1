import type { z } from "zod";

/** What a permission-use event is about; mirrors the manifest's permission groups. */
export type PermissionKind = "network" | "file_read" | "file_write" | "env" | "message" | "model";

/** Field path → reasons, the same shape as the API's `validation_failed` details. */
export type IssueDetails = Record<string, string[]>;

/** Base class so a host can tell skill failures (with a stable `code`) from crashes. */
export class SkillError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SkillError";
    this.code = code;
  }
}

/** The skill tried something its manifest does not declare. */
export class PermissionDeniedError extends SkillError {
  readonly kind: PermissionKind;
  readonly target: string;
  readonly reason: string;

  constructor(kind: PermissionKind, target: string, reason: string) {
    super("permission_denied", `Permission denied (${kind} ${target}): ${reason}`);
    this.name = "PermissionDeniedError";
    this.kind = kind;
    this.target = target;
    this.reason = reason;
  }
}

/** The caller gave the skill input its schema rejects. */
export class SkillInputError extends SkillError {
  readonly issues: IssueDetails;

  constructor(issues: IssueDetails) {
    super("invalid_input", `Invalid skill input: ${summarizeIssues(issues)}`);
    this.name = "SkillInputError";
    this.issues = issues;
  }
}

/** The skill produced output that breaks its own schema: a bug in the skill, not the caller. */
export class SkillOutputError extends SkillError {
  readonly issues: IssueDetails;

  constructor(issues: IssueDetails) {
    super("invalid_output", `Skill returned invalid output: ${summarizeIssues(issues)}`);
    this.name = "SkillOutputError";
    this.issues = issues;
  }
}

/** A manifest failed validation, either at `defineSkill` time or when a package is checked. */
export class InvalidManifestError extends SkillError {
  readonly issues: IssueDetails;

  constructor(issues: IssueDetails) {
    super("invalid_manifest", `Invalid skill manifest: ${summarizeIssues(issues)}`);
    this.name = "InvalidManifestError";
    this.issues = issues;
  }
}

/** Turns zod issues into `{ "field.path": ["reason"] }`; the root is "(root)". */
export function issueDetails(error: z.ZodError): IssueDetails {
  const out: IssueDetails = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.map((part) => String(part)).join(".") : "(root)";
    const reasons = out[key] ?? [];
    reasons.push(issue.message);
    out[key] = reasons;
  }
  return out;
}

function summarizeIssues(issues: IssueDetails): string {
  return Object.entries(issues)
    .map(([path, reasons]) => `${path}: ${reasons.join("; ")}`)
    .join(", ");
}
