import { ApiError, api } from "../api";
import type {
  ListOf,
  Page,
  PrivateSkill,
  PrivateSkillBase,
  PrivateSkillDetail,
  SkillDryRun,
  SkillDryRunResult,
  SkillFinding,
  SkillPermissionLists,
  SkillReviewItem,
  SkillValidation,
  SkillVersionDetail,
  SkillVersionStatus,
  SkillVersionSummary,
} from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

const TENANT = "/api/dashboard/skills";
const REVIEW = "/api/admin/skills/review";

// ---------------------------------------------------------------------------------------------------
// Tenant: private skills

export const privateSkills = resource((signal) =>
  api.get<ListOf<PrivateSkill>>(`${TENANT}/private`, undefined, signal),
);

/** One skill with every version's manifest, findings and permission diff. */
export const privateSkillDetail = resource(async (signal, skillId: string) => {
  const { skill } = await api.get<{ skill: PrivateSkillDetail }>(
    `${TENANT}/private/${encodeURIComponent(skillId)}`,
    undefined,
    signal,
  );
  return skill;
});

function packageForm(file: File): FormData {
  const form = new FormData();
  form.set("package", file, file.name);
  return form;
}

/** Unpacks and checks the package on the server; nothing is stored. */
export function validatePackage(file: File): Promise<SkillValidation> {
  return api.postForm<SkillValidation>(`${TENANT}/package/validate`, packageForm(file));
}

/** Stores the package as a draft version; the list is fetched again after. */
export async function uploadPackage(
  file: File,
): Promise<{ skill: PrivateSkillBase; version: SkillVersionDetail }> {
  const result = await api.postForm<{ skill: PrivateSkillBase; version: SkillVersionDetail }>(
    `${TENANT}/package/upload`,
    packageForm(file),
  );
  void privateSkills.load();
  return result;
}

export async function submitForReview(versionId: string): Promise<SkillVersionSummary> {
  const { version } = await api.post<{ version: SkillVersionSummary }>(
    `${TENANT}/package/${encodeURIComponent(versionId)}/submit`,
  );
  await privateSkills.load();
  return version;
}

/**
 * Runs the version's own tests in the sandbox (admins only). The answer has no time; the run is kept on
 * the version, so it also replaces the stored one in the open skill's details.
 */
export async function dryRunVersion(versionId: string): Promise<SkillDryRun> {
  const result = await api.post<SkillDryRunResult>(
    `${TENANT}/package/${encodeURIComponent(versionId)}/dry-run`,
  );
  const run = { at: new Date().toISOString(), result };
  const detail = privateSkillDetail.data.value;
  if (detail?.versions.some((v) => v.id === versionId)) {
    privateSkillDetail.set({
      ...detail,
      versions: detail.versions.map((v) => (v.id === versionId ? { ...v, dryRun: run } : v)),
    });
  }
  return run;
}

/** A 422 `package_invalid` carries the findings in `details.findings`, which are not field messages. */
export function findingsOf(e: unknown): SkillFinding[] {
  if (!(e instanceof ApiError)) return [];
  const body = e.body as { details?: { findings?: unknown } } | undefined;
  const findings = body?.details?.findings;
  return Array.isArray(findings) ? (findings as SkillFinding[]) : [];
}

export const SUBMITTABLE: readonly SkillVersionStatus[] = ["draft", "changes_requested"];

// ---------------------------------------------------------------------------------------------------
// Operator: review

export const REVIEW_FILTERS = [
  { value: "pending_review,in_review", label: "Awaiting review" },
  { value: "pending_review", label: "Pending" },
  { value: "in_review", label: "In review" },
  { value: "changes_requested", label: "Changes requested" },
  { value: "approved", label: "Approved" },
  { value: "rejected", label: "Rejected" },
] as const;

export const reviewQueue = resource((signal, status: string, page: number) =>
  api.get<Page<SkillReviewItem>>(REVIEW, { status, page, limit: 25 }, signal),
);

export const reviewItem = resource(async (signal, id: string) => {
  const { item } = await api.get<{ item: SkillReviewItem }>(
    `${REVIEW}/${encodeURIComponent(id)}`,
    undefined,
    signal,
  );
  return item;
});

export type ReviewDecision = "approve" | "reject" | "request-changes";

export async function startReview(id: string): Promise<SkillReviewItem> {
  const { item } = await api.put<{ item: SkillReviewItem }>(`${REVIEW}/${encodeURIComponent(id)}/start`, {});
  reviewItem.set(item);
  return item;
}

export async function decide(id: string, decision: ReviewDecision, reason: string): Promise<SkillReviewItem> {
  const { item } = await api.put<{ item: SkillReviewItem }>(
    `${REVIEW}/${encodeURIComponent(id)}/${decision}`,
    reason.trim() ? { reason: reason.trim() } : {},
  );
  reviewItem.set(item);
  return item;
}

/** The operator's own dry-run; the answer is the review item with the new run. */
export async function reviewDryRun(id: string): Promise<SkillReviewItem> {
  const { item } = await api.post<{ item: SkillReviewItem }>(`${REVIEW}/${encodeURIComponent(id)}/dry-run`);
  reviewItem.set(item);
  return item;
}

// ---------------------------------------------------------------------------------------------------
// Permissions in words

const LIST_LABELS: Record<keyof SkillPermissionLists, string> = {
  domains: "Network domains",
  readPaths: "Reads files",
  writePaths: "Writes files",
  env: "Environment variables",
  messageTypes: "Sends message types",
};

export const PERMISSION_KINDS = Object.keys(LIST_LABELS) as (keyof SkillPermissionLists)[];
export const permissionKindLabel = (k: keyof SkillPermissionLists) => LIST_LABELS[k];

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const key of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The manifest's `permissions` as sentences an operator can judge without reading JSON. */
export function permissionSentences(manifest: Record<string, unknown>): string[] {
  const p = manifest.permissions;
  const out: string[] = [];
  const domains = strings(at(p, "network", "allowedDomains"));
  out.push(domains.length ? `Connects to ${domains.join(", ")}` : "Makes no network connections");
  const reads = strings(at(p, "files", "readPaths"));
  const writes = strings(at(p, "files", "writePaths"));
  if (reads.length) out.push(`Reads files under ${reads.join(", ")}`);
  if (writes.length) out.push(`Writes files under ${writes.join(", ")}`);
  if (!reads.length && !writes.length) out.push("Touches no files");
  const required = strings(at(p, "env", "required"));
  const optional = strings(at(p, "env", "optional"));
  if (required.length) out.push(`Needs the environment variables ${required.join(", ")}`);
  if (optional.length) out.push(`May read the environment variables ${optional.join(", ")}`);
  const send = strings(at(p, "messages", "send"));
  out.push(send.length ? `Sends messages of type ${send.join(", ")}` : "Sends no messages");
  out.push(
    at(p, "models", "gateway") === true
      ? "Calls models through the gateway (billed to the tenant)"
      : "Does not call models",
  );
  return out;
}

onSessionReset(() => {
  privateSkills.reset();
  privateSkillDetail.reset();
  reviewQueue.reset();
  reviewItem.reset();
});
