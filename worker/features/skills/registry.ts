// The private skill registry (S8-05): tenants upload skill packages (`aegis-skill pack`), each version is
// validated, stored content-addressed in R2, and reviewed by an operator before it can be installed.
//
// Version states: draft → pending_review (tenant submits) → in_review (operator starts) →
// approved | rejected | changes_requested; changes_requested → pending_review (tenant resubmits).
// Versions are immutable: a name+version is uploaded once.
import { and, asc, count, desc, eq, inArray, isNull, ne } from "drizzle-orm";
import type { SkillManifest, SkillPermissions } from "../../../sdk/skill-sdk/src/index";
import {
  type AnalysisResult,
  DEFAULT_PACKAGE_LIMITS,
  type Finding,
  sha256Hex,
  validatePackage,
} from "../../../sdk/skill-sdk/src/package/index";
import type { Database } from "../../db/client";
import { agentSkills, skills, skillVersions, tenants } from "../../db/schema";
import { AppError, conflict, forbidden, notFound, ScopedNotFound, validationFailed } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { type PlanTier, planOf } from "../../lib/pricing";
import { getTenantRow } from "../tenants/service";

/** Largest package (.tgz) accepted: the uncompressed limit, since a package cannot usefully be larger. */
export const MAX_PACKAGE_BYTES = DEFAULT_PACKAGE_LIMITS.maxTotalBytes;
/** Multipart framing and the small `sha256` field on top of the package. */
export const MAX_PACKAGE_BODY_BYTES = MAX_PACKAGE_BYTES + 64 * 1024;
/** Requests under this prefix are limited by `MAX_PACKAGE_BODY_BYTES` instead of the global JSON limit. */
export const PACKAGE_PATH_PREFIX = "/api/dashboard/skills/package/";

export const VERSION_STATUSES = [
  "draft",
  "pending_review",
  "in_review",
  "approved",
  "rejected",
  "changes_requested",
  "deprecated",
] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const REVIEW_DECISIONS = {
  approve: { status: "approved", action: "skill.version_approved", reasonRequired: false },
  reject: { status: "rejected", action: "skill.version_rejected", reasonRequired: true },
  "request-changes": {
    status: "changes_requested",
    action: "skill.version_changes_requested",
    reasonRequired: true,
  },
} as const;
export type ReviewDecision = keyof typeof REVIEW_DECISIONS;

/** The states an operator decides from; `start` moves pending_review → in_review. */
const DECIDABLE: VersionStatus[] = ["pending_review", "in_review"];
const SUBMITTABLE: VersionStatus[] = ["draft", "changes_requested"];

type SkillRow = typeof skills.$inferSelect;
type VersionRow = typeof skillVersions.$inferSelect;

const invalidTransition = (from: string, to: string) =>
  conflict(`A version in state '${from}' cannot move to '${to}'`, "invalid_transition", { from, to });

// ---------------------------------------------------------------------------------------------------
// Package input

export interface PackageInput {
  bytes: Uint8Array;
  sha256?: string;
}

/** Reads the multipart body: the `package` file and the optional `sha256` field. */
export async function readPackageForm(req: Request): Promise<PackageInput> {
  const type = req.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data"))
    throw validationFailed(
      { package: ["Send the package as multipart/form-data with a 'package' file field"] },
      "Expected a multipart/form-data body",
    );
  let form: FormData;
  try {
    form = await req.formData();
  } catch {
    throw validationFailed({ package: ["The multipart body could not be read"] }, "Malformed multipart body");
  }
  const file = form.get("package") as unknown as File | string | null;
  if (!file || typeof file === "string")
    throw validationFailed({ package: ["Required: the .tgz made by `aegis-skill pack`, as a file"] });
  if (file.size > MAX_PACKAGE_BYTES) throw packageTooLarge();
  const sha = form.get("sha256");
  if (sha !== null && (typeof sha !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha)))
    throw validationFailed({ sha256: ["Must be the hex SHA-256 of the package (64 characters)"] });
  return { bytes: new Uint8Array(await file.arrayBuffer()), sha256: sha?.toLowerCase() ?? undefined };
}

export const packageTooLarge = () =>
  new AppError(413, "payload_too_large", `A skill package may be at most ${MAX_PACKAGE_BYTES} bytes`);

export async function validateUpload(bytes: Uint8Array): Promise<AnalysisResult> {
  return validatePackage(bytes);
}

// ---------------------------------------------------------------------------------------------------
// Permission diff

const DIFF_KEYS = ["domains", "readPaths", "writePaths", "env", "messageTypes"] as const;
type DiffKey = (typeof DIFF_KEYS)[number];
type DiffLists = Record<DiffKey, string[]>;

export interface PermissionDiff {
  /** The approved version compared against; null when there is none (everything is "added"). */
  against: string | null;
  added: DiffLists;
  removed: DiffLists;
  /** Set when gateway access to models changes. */
  modelGateway: { before: boolean; after: boolean } | null;
  changed: boolean;
}

function flatten(p: SkillPermissions | null): DiffLists & { gateway: boolean } {
  return {
    domains: p?.network.allowedDomains ?? [],
    readPaths: p?.files.readPaths ?? [],
    writePaths: p?.files.writePaths ?? [],
    env: [...(p?.env.required ?? []), ...(p?.env.optional ?? [])],
    messageTypes: p?.messages.send ?? [],
    gateway: p?.models.gateway ?? false,
  };
}

export function permissionDiff(
  previous: { version: string; permissions: SkillPermissions } | null,
  current: SkillPermissions,
): PermissionDiff {
  const a = flatten(previous?.permissions ?? null);
  const b = flatten(current);
  const added = {} as DiffLists;
  const removed = {} as DiffLists;
  for (const key of DIFF_KEYS) {
    added[key] = b[key].filter((x) => !a[key].includes(x));
    removed[key] = a[key].filter((x) => !b[key].includes(x));
  }
  const modelGateway = a.gateway === b.gateway ? null : { before: a.gateway, after: b.gateway };
  const changed =
    modelGateway !== null || DIFF_KEYS.some((k) => added[k].length > 0 || removed[k].length > 0);
  return { against: previous?.version ?? null, added, removed, modelGateway, changed };
}

/** Semantic version order (major.minor.patch, then a release above its pre-releases). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = "", pre = ""] = v.split("+")[0]?.split(/-(.*)/s) ?? [];
    return { nums: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  return x.pre < y.pre ? -1 : 1;
}

const permissionsOf = (v: VersionRow): SkillPermissions | null => {
  if (v.permissions) return JSON.parse(v.permissions) as SkillPermissions;
  const manifest = JSON.parse(v.manifest) as Partial<SkillManifest>;
  return manifest.permissions ?? null;
};

/** The diff of `v` against the highest approved version of the same skill below it. */
function diffAgainstPrevious(v: VersionRow, siblings: VersionRow[]): PermissionDiff {
  const previous = siblings
    .filter((s) => s.id !== v.id && s.status === "approved" && compareVersions(s.version, v.version) < 0)
    .sort((a, b) => compareVersions(b.version, a.version))[0];
  const prevPermissions = previous ? permissionsOf(previous) : null;
  return permissionDiff(
    previous && prevPermissions ? { version: previous.version, permissions: prevPermissions } : null,
    permissionsOf(v) ?? flatPermissionsNone(),
  );
}

const flatPermissionsNone = (): SkillPermissions => ({
  network: { allowedDomains: [] },
  files: { readPaths: [], writePaths: [] },
  env: { required: [], optional: [] },
  messages: { send: [] },
  models: { gateway: false },
});

// ---------------------------------------------------------------------------------------------------
// Views

function versionView(v: VersionRow) {
  return {
    id: v.id,
    skillId: v.skillId,
    version: v.version,
    status: v.status as VersionStatus,
    sha256: v.sha256,
    sizeBytes: v.sizeBytes,
    reviewNote: v.reviewNote,
    uploadedBy: v.uploadedBy,
    submittedAt: v.submittedAt,
    reviewedBy: v.reviewedBy,
    reviewedAt: v.reviewedAt,
    createdAt: v.createdAt,
  };
}

function versionDetail(v: VersionRow, siblings: VersionRow[]) {
  return {
    ...versionView(v),
    manifest: JSON.parse(v.manifest) as SkillManifest,
    findings: (v.findings ? JSON.parse(v.findings) : []) as Finding[],
    permissionDiff: diffAgainstPrevious(v, siblings),
    dryRun: storedDryRun(v.dryRun),
  };
}

function skillView(s: SkillRow) {
  return {
    id: s.id,
    name: s.name,
    displayName: s.displayName,
    description: s.description,
    category: s.category,
    visibility: "private" as const,
    latestApprovedVersion: s.latestVersion || null,
    createdAt: s.createdAt,
  };
}

async function versionsOf(db: Database, skillIds: string[]): Promise<VersionRow[]> {
  if (skillIds.length === 0) return [];
  return db.select().from(skillVersions).where(inArray(skillVersions.skillId, skillIds)).all();
}

const byVersionDesc = (a: VersionRow, b: VersionRow) => compareVersions(b.version, a.version);

// ---------------------------------------------------------------------------------------------------
// Tenant side

const privateOf = (tenantId: string) => and(eq(skills.tenantId, tenantId), eq(skills.visibility, "private"));

export async function listPrivateSkills(db: Database, tenantId: string) {
  const rows = await db.select().from(skills).where(privateOf(tenantId)).orderBy(asc(skills.name)).all();
  const versions = await versionsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((s) => ({
    ...skillView(s),
    versions: versions
      .filter((v) => v.skillId === s.id)
      .sort(byVersionDesc)
      .map(versionView),
  }));
}

export async function getPrivateSkill(db: Database, tenantId: string, skillId: string) {
  const skill = await db
    .select()
    .from(skills)
    .where(and(eq(skills.id, skillId), privateOf(tenantId)))
    .get();
  if (!skill) throw new ScopedNotFound("Skill", "skills", skillId);
  const versions = await versionsOf(db, [skill.id]);
  const installs = await installsOf(db, tenantId, skill.id);
  return {
    ...skillView(skill),
    versions: versions.sort(byVersionDesc).map((v) => versionDetail(v, versions)),
    pendingUpgrade: pendingUpgradeOf(skill, versions, installs),
  };
}

export interface UploadResult {
  skill: ReturnType<typeof skillView>;
  version: ReturnType<typeof versionDetail>;
  createdSkill: boolean;
}

/**
 * Stores a validated package as a new draft version of the tenant's private skill of the manifest's
 * name, creating the skill (within the plan's `privateSkills`) when it is new.
 */
export async function uploadVersion(
  db: Database,
  bucket: R2Bucket,
  tenantId: string,
  input: PackageInput,
  uploadedBy: string | null,
): Promise<UploadResult> {
  const sha256 = await sha256Hex(input.bytes);
  if (input.sha256 && input.sha256 !== sha256)
    throw new AppError(400, "sha256_mismatch", "The package bytes do not match the given sha256", {
      sha256: [`expected ${input.sha256}, the package hashes to ${sha256}`],
    });
  const analysis = await validatePackage(input.bytes);
  const manifest = analysis.manifest;
  if (!analysis.valid || !manifest)
    throw new AppError(422, "package_invalid", "The package did not pass validation; nothing was stored", {
      findings: analysis.findings,
      checklist: analysis.checklist,
    });

  const reserved = await db
    .select({ id: skills.id })
    .from(skills)
    .where(and(isNull(skills.tenantId), eq(skills.name, manifest.name)))
    .get();
  if (reserved)
    throw conflict(
      `'${manifest.name}' is the name of a platform skill; choose another name`,
      "name_reserved",
    );

  let skill = await db
    .select()
    .from(skills)
    .where(and(eq(skills.tenantId, tenantId), eq(skills.name, manifest.name)))
    .get();
  let createdSkill = false;
  if (skill) {
    const taken = await db
      .select({ id: skillVersions.id })
      .from(skillVersions)
      .where(and(eq(skillVersions.skillId, skill.id), eq(skillVersions.version, manifest.version)))
      .get();
    if (taken) throw versionExists(manifest);
  } else {
    await assertPrivateSkillAllowed(db, tenantId);
  }

  const objectKey = `skills/${sha256}.tgz`;
  if (!(await bucket.head(objectKey))) {
    await bucket.put(objectKey, input.bytes, {
      httpMetadata: { contentType: "application/gzip" },
      sha256,
      customMetadata: { skill: manifest.name, version: manifest.version },
    });
  }

  if (!skill) {
    await db
      .insert(skills)
      .values({
        id: newId("skl"),
        tenantId,
        name: manifest.name,
        displayName: manifest.displayName,
        description: manifest.description,
        category: manifest.category,
        visibility: "private",
        isCore: false,
        // The latest *approved* version; empty until one is approved.
        latestVersion: "",
      })
      .onConflictDoNothing()
      .run();
    skill = await db
      .select()
      .from(skills)
      .where(and(eq(skills.tenantId, tenantId), eq(skills.name, manifest.name)))
      .get();
    if (!skill) throw new Error("private skill vanished after insert");
    createdSkill = true;
  }

  const id = newId("skv");
  const inserted = await db
    .insert(skillVersions)
    .values({
      id,
      skillId: skill.id,
      version: manifest.version,
      manifest: JSON.stringify(manifest),
      sha256,
      status: "draft",
      objectKey,
      sizeBytes: input.bytes.length,
      findings: JSON.stringify(analysis.findings),
      permissions: JSON.stringify(manifest.permissions),
      uploadedBy,
    })
    .onConflictDoNothing()
    .run();
  if (inserted.meta.changes !== 1) throw versionExists(manifest);
  const versions = await versionsOf(db, [skill.id]);
  const version = versions.find((v) => v.id === id);
  if (!version) throw new Error("skill version vanished after insert");
  return { skill: skillView(skill), version: versionDetail(version, versions), createdSkill };
}

const versionExists = (m: SkillManifest) =>
  conflict(
    `Version ${m.version} of '${m.name}' exists; versions are immutable, bump the version`,
    "version_exists",
  );

async function assertPrivateSkillAllowed(db: Database, tenantId: string) {
  const tenant = await getTenantRow(db, tenantId);
  const plan = planOf(tenant.planTier as PlanTier);
  if (plan.privateSkills === null) return;
  const n = (await db.select({ n: count() }).from(skills).where(privateOf(tenantId)).get())?.n ?? 0;
  if (n >= plan.privateSkills) {
    throw forbidden(
      plan.privateSkills === 0
        ? `The ${plan.label} plan does not include private skills`
        : `The ${plan.label} plan allows ${plan.privateSkills} private skills`,
      "plan_limit_reached",
    );
  }
}

/** A version of one of the tenant's private skills, or a 404 (audited when it is another tenant's). */
async function tenantVersion(db: Database, tenantId: string, versionId: string) {
  const row = await db
    .select({ version: skillVersions, skill: skills })
    .from(skillVersions)
    .innerJoin(skills, eq(skills.id, skillVersions.skillId))
    .where(eq(skillVersions.id, versionId))
    .get();
  if (!row || row.skill.tenantId !== tenantId || row.skill.visibility !== "private")
    // Named by its skill id, so a version of another tenant's skill is recorded as a cross-tenant attempt.
    throw new ScopedNotFound("Skill version", "skills", row?.skill.id ?? versionId);
  return row;
}

/**
 * Submits a version for review. The stored package is validated again first (the analysis may have
 * learned rules since the upload): a package that no longer passes is 422 `package_invalid` and stays
 * where it was.
 */
export async function submitVersion(db: Database, bucket: R2Bucket, tenantId: string, versionId: string) {
  const { version, skill } = await tenantVersion(db, tenantId, versionId);
  if (!SUBMITTABLE.includes(version.status as VersionStatus))
    throw invalidTransition(version.status, "pending_review");
  const object = version.objectKey ? await bucket.get(version.objectKey) : null;
  if (!object) throw new AppError(409, "package_missing", "The version's package is no longer stored");
  const analysis = await validatePackage(new Uint8Array(await object.arrayBuffer()));
  if (!analysis.valid)
    throw new AppError(
      422,
      "package_invalid",
      "The package no longer passes validation; it was not submitted",
      {
        findings: analysis.findings,
        checklist: analysis.checklist,
      },
    );
  const res = await db
    .update(skillVersions)
    .set({ status: "pending_review", submittedAt: new Date().toISOString() })
    .where(and(eq(skillVersions.id, versionId), inArray(skillVersions.status, SUBMITTABLE)))
    .run();
  if (res.meta.changes !== 1) throw invalidTransition(version.status, "pending_review");
  const after = await db.select().from(skillVersions).where(eq(skillVersions.id, versionId)).get();
  if (!after) throw notFound("Skill version");
  return { skill, before: version, after };
}

// ---------------------------------------------------------------------------------------------------
// Dry-run: the version's own tests, run by the sandbox service (a Node process; see
// sdk/skill-sdk/src/sandbox). The latest result is kept on the version for the reviewer.

export interface DryRunOutcome {
  passed: boolean;
  output: string;
  permissionsUsed: Array<{ kind: string; target: string; allowed: boolean; count: number }>;
  tests: { total: number; passed: number; failed: number };
  durationMs: number;
  limit?: "time" | "memory";
  error?: string;
}

/** How long the Worker waits for the sandbox: the sandbox's own time limit (10 s) plus start-up. */
const SANDBOX_WAIT_MS = 30_000;

export async function dryRunVersion(
  env: Pick<Env, "ARCHIVE" | "SKILL_SANDBOX_URL" | "SKILL_SANDBOX_SECRET" | "SKILL_DRY_RUN_TIMEOUT_MS">,
  db: Database,
  versionId: string,
  scope: { tenantId: string } | { operator: true },
): Promise<{
  skill: typeof skills.$inferSelect;
  version: typeof skillVersions.$inferSelect;
  result: DryRunOutcome;
  at: string;
}> {
  const { version, skill } =
    "tenantId" in scope
      ? await tenantVersion(db, scope.tenantId, versionId)
      : await versionForReview(db, versionId);
  if (!version.objectKey) throw notFound("Skill version package");
  const object = await env.ARCHIVE.get(version.objectKey);
  if (!object) throw new AppError(409, "package_missing", "The version's package is no longer stored");
  let response: Response;
  try {
    const limit = env.SKILL_DRY_RUN_TIMEOUT_MS ? `?timeoutMs=${Number(env.SKILL_DRY_RUN_TIMEOUT_MS)}` : "";
    response = await fetch(`${env.SKILL_SANDBOX_URL.replace(/\/$/, "")}/dry-run${limit}`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.SKILL_SANDBOX_SECRET}`, "content-type": "application/gzip" },
      body: await object.arrayBuffer(),
      signal: AbortSignal.timeout(SANDBOX_WAIT_MS),
    });
  } catch (err) {
    console.error("sandbox unreachable", { error: String(err) });
    throw new AppError(503, "sandbox_unavailable", "The dry-run sandbox is not reachable; try again shortly");
  }
  if (!response.ok) {
    console.error("sandbox refused the dry-run", { status: response.status });
    throw new AppError(503, "sandbox_unavailable", "The dry-run sandbox could not run this package");
  }
  const result = (await response.json()) as DryRunOutcome;
  const at = new Date().toISOString();
  await db
    .update(skillVersions)
    .set({ dryRun: JSON.stringify({ at, result }) })
    .where(eq(skillVersions.id, versionId))
    .run();
  return { skill, version, result, at };
}

/** The stored latest dry-run of a version, or null. */
export function storedDryRun(raw: string | null): { at: string; result: DryRunOutcome } | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as { at: string; result: DryRunOutcome };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Operator side

export const DEFAULT_REVIEW_STATUSES: VersionStatus[] = ["pending_review", "in_review"];

export async function reviewQueue(
  db: Database,
  statuses: VersionStatus[],
  page: number,
  limit: number,
  versionId?: string,
) {
  const where = and(
    eq(skills.visibility, "private"),
    versionId ? eq(skillVersions.id, versionId) : inArray(skillVersions.status, statuses),
  );
  const total =
    (
      await db
        .select({ n: count() })
        .from(skillVersions)
        .innerJoin(skills, eq(skills.id, skillVersions.skillId))
        .where(where)
        .get()
    )?.n ?? 0;
  const rows = await db
    .select({ version: skillVersions, skill: skills, tenant: tenants })
    .from(skillVersions)
    .innerJoin(skills, eq(skills.id, skillVersions.skillId))
    .innerJoin(tenants, eq(tenants.id, skills.tenantId))
    .where(where)
    .orderBy(asc(skillVersions.submittedAt), desc(skillVersions.createdAt))
    .limit(limit)
    .offset((page - 1) * limit)
    .all();
  const siblings = await versionsOf(db, [...new Set(rows.map((r) => r.skill.id))]);
  const data = rows.map(({ version, skill, tenant }) => ({
    ...versionDetail(
      version,
      siblings.filter((s) => s.skillId === skill.id),
    ),
    tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug, planTier: tenant.planTier },
    skill: { id: skill.id, name: skill.name, displayName: skill.displayName },
  }));
  return { data, total };
}

async function versionForReview(db: Database, versionId: string) {
  const row = await db
    .select({ version: skillVersions, skill: skills })
    .from(skillVersions)
    .innerJoin(skills, eq(skills.id, skillVersions.skillId))
    .where(and(eq(skillVersions.id, versionId), eq(skills.visibility, "private")))
    .get();
  if (!row) throw notFound("Skill version");
  return row;
}

export async function reviewItem(db: Database, versionId: string) {
  await versionForReview(db, versionId);
  const { data } = await reviewQueue(db, [], 1, 1, versionId);
  const [item] = data;
  if (!item) throw notFound("Skill version");
  return item;
}

/** Takes a submitted version into review (pending_review → in_review). */
export async function startReview(db: Database, versionId: string, reviewer: string | null) {
  const { version, skill } = await versionForReview(db, versionId);
  const res = await db
    .update(skillVersions)
    .set({ status: "in_review", reviewedBy: reviewer })
    .where(and(eq(skillVersions.id, versionId), eq(skillVersions.status, "pending_review")))
    .run();
  if (res.meta.changes !== 1) throw invalidTransition(version.status, "in_review");
  return { skill, before: version, after: { ...version, status: "in_review", reviewedBy: reviewer } };
}

export async function decideReview(
  db: Database,
  versionId: string,
  decision: ReviewDecision,
  reason: string | undefined,
  reviewer: string | null,
) {
  const rule = REVIEW_DECISIONS[decision];
  if (rule.reasonRequired && !reason?.trim())
    throw validationFailed({
      reason: [`A reason is required to ${decision.replace("-", " ")}; the tenant sees it`],
    });
  const { version, skill } = await versionForReview(db, versionId);
  const reviewedAt = new Date().toISOString();
  let autoUpgrade: AutoUpgrade | null = null;
  const res = await db
    .update(skillVersions)
    .set({ status: rule.status, reviewNote: reason?.trim() || null, reviewedBy: reviewer, reviewedAt })
    .where(and(eq(skillVersions.id, versionId), inArray(skillVersions.status, DECIDABLE)))
    .run();
  if (res.meta.changes !== 1) throw invalidTransition(version.status, rule.status);

  if (
    rule.status === "approved" &&
    (!skill.latestVersion || compareVersions(version.version, skill.latestVersion) > 0)
  ) {
    // The catalogue shows the latest approved version, with that version's metadata.
    const manifest = JSON.parse(version.manifest) as SkillManifest;
    await db
      .update(skills)
      .set({
        latestVersion: version.version,
        displayName: manifest.displayName,
        description: manifest.description,
        category: manifest.category,
      })
      .where(and(eq(skills.id, skill.id), ne(skills.visibility, "core")))
      .run();
    if (skill.latestVersion) autoUpgrade = await autoUpgradeInstalls(db, skill, skill.latestVersion, version);
  }
  const after = await db.select().from(skillVersions).where(eq(skillVersions.id, versionId)).get();
  if (!after) throw notFound("Skill version");
  return { skill, before: version, after, action: rule.action, autoUpgrade };
}

// ---------------------------------------------------------------------------------------------------
// Installed versions: auto-upgrade, pending upgrades, upgrade, rollback, deprecation

type InstallRow = typeof agentSkills.$inferSelect;

export interface MovedInstall {
  agentId: string;
  from: string;
  to: string;
}

export interface AutoUpgrade {
  from: string;
  to: string;
  permissionDiff: PermissionDiff;
  /** false when the new version's permissions are wider: the agents stay and the tenant must approve. */
  applied: boolean;
  moved: MovedInstall[];
}

/** Wider = something added (domains, paths, env, message types) or model gateway newly enabled. */
export const isWider = (d: PermissionDiff) =>
  DIFF_KEYS.some((k) => d.added[k].length > 0) || d.modelGateway?.after === true;

/** The permission diff of moving from `from` (an installed version, possibly unknown) to `to`. */
function diffBetween(from: VersionRow | undefined, to: VersionRow): PermissionDiff {
  const fromPermissions = from ? permissionsOf(from) : null;
  return permissionDiff(
    from ? { version: from.version, permissions: fromPermissions ?? flatPermissionsNone() } : null,
    permissionsOf(to) ?? flatPermissionsNone(),
  );
}

async function installsOf(db: Database, tenantId: string | null, skillId: string): Promise<InstallRow[]> {
  return db
    .select()
    .from(agentSkills)
    .where(and(eq(agentSkills.skillId, skillId), tenantId ? eq(agentSkills.tenantId, tenantId) : undefined))
    .orderBy(asc(agentSkills.agentId))
    .all();
}

/** Moves the given installs to `to`, each only if it is still on the version it was read at. */
async function moveInstalls(db: Database, installs: InstallRow[], to: string): Promise<MovedInstall[]> {
  const moved: MovedInstall[] = [];
  for (const i of installs) {
    if (i.version === to) continue;
    const res = await db
      .update(agentSkills)
      .set({ version: to })
      .where(
        and(
          eq(agentSkills.agentId, i.agentId),
          eq(agentSkills.skillId, i.skillId),
          eq(agentSkills.tenantId, i.tenantId),
          eq(agentSkills.version, i.version),
        ),
      )
      .run();
    if (res.meta.changes === 1) moved.push({ agentId: i.agentId, from: i.version, to });
  }
  return moved;
}

/**
 * At approval of a new latest version: agents on the previous latest version move to it only when its
 * permissions are not wider; otherwise they stay and the tenant sees a pending upgrade.
 */
async function autoUpgradeInstalls(
  db: Database,
  skill: SkillRow,
  previous: string,
  next: VersionRow,
): Promise<AutoUpgrade> {
  const versions = await versionsOf(db, [skill.id]);
  const diff = diffBetween(
    versions.find((v) => v.version === previous),
    next,
  );
  const installs = (await installsOf(db, skill.tenantId, skill.id)).filter((i) => i.version === previous);
  const applied = !isWider(diff);
  const moved = applied ? await moveInstalls(db, installs, next.version) : [];
  return { from: previous, to: next.version, permissionDiff: diff, applied, moved };
}

/** Agents below the latest approved version whose move to it would widen their permissions. */
function pendingUpgradeOf(skill: SkillRow, versions: VersionRow[], installs: InstallRow[]) {
  const latest = versions.find((v) => v.version === skill.latestVersion && v.status === "approved");
  if (!latest) return null;
  const rowOf = (version: string) => versions.find((v) => v.version === version);
  const pending = installs.filter(
    (i) => compareVersions(i.version, latest.version) < 0 && isWider(diffBetween(rowOf(i.version), latest)),
  );
  if (pending.length === 0) return null;
  const base = pending.map((i) => i.version).sort((a, b) => compareVersions(b, a))[0] ?? "";
  return {
    version: latest.version,
    permissionDiff: diffBetween(rowOf(base), latest),
    agents: pending.map((i) => ({ agentId: i.agentId, version: i.version })),
  };
}

async function tenantPrivateSkill(db: Database, tenantId: string, skillId: string): Promise<SkillRow> {
  const skill = await db
    .select()
    .from(skills)
    .where(and(eq(skills.id, skillId), privateOf(tenantId)))
    .get();
  if (!skill) throw new ScopedNotFound("Skill", "skills", skillId);
  return skill;
}

/** An approved version of the skill to move agents to: 404 unknown, 409 deprecated or not approved. */
async function installableVersion(db: Database, skill: SkillRow, version: string): Promise<VersionRow> {
  const row = await db
    .select()
    .from(skillVersions)
    .where(and(eq(skillVersions.skillId, skill.id), eq(skillVersions.version, version)))
    .get();
  if (!row) throw notFound(`Version ${version} of skill '${skill.name}'`);
  assertInstallable(skill.name, row);
  return row;
}

export function assertInstallable(name: string, row: { version: string; status: string }) {
  if (row.status === "deprecated")
    throw new AppError(409, "version_deprecated", `Version ${row.version} of '${name}' is deprecated`);
  if (row.status !== "approved")
    throw new AppError(
      409,
      "version_not_approved",
      `Version ${row.version} of '${name}' is ${row.status}, not approved`,
    );
}

/** Moves every agent of the tenant with the skill installed to an earlier approved version. */
export async function rollbackSkill(db: Database, tenantId: string, skillId: string, version: string) {
  const skill = await tenantPrivateSkill(db, tenantId, skillId);
  const target = await installableVersion(db, skill, version);
  const moved = await moveInstalls(db, await installsOf(db, tenantId, skill.id), target.version);
  return { skill, version: target.version, moved };
}

/** The tenant approves a wider upgrade: agents below `version` move to it. */
export async function upgradeSkill(db: Database, tenantId: string, skillId: string, version: string) {
  const skill = await tenantPrivateSkill(db, tenantId, skillId);
  const target = await installableVersion(db, skill, version);
  const versions = await versionsOf(db, [skill.id]);
  const installs = (await installsOf(db, tenantId, skill.id)).filter(
    (i) => compareVersions(i.version, target.version) < 0,
  );
  const moved = await moveInstalls(db, installs, target.version);
  return {
    skill,
    version: target.version,
    moved: moved.map((m) => ({
      ...m,
      permissionDiff: diffBetween(
        versions.find((v) => v.version === m.from),
        target,
      ),
    })),
  };
}

/**
 * approved → deprecated. Installed agents keep the version; it can no longer be newly installed. When it
 * was the catalogue's version, the catalogue moves to the highest approved version left (none: hidden).
 */
async function deprecate(db: Database, skill: SkillRow, row: VersionRow) {
  const res = await db
    .update(skillVersions)
    .set({ status: "deprecated" })
    .where(and(eq(skillVersions.id, row.id), eq(skillVersions.status, "approved")))
    .run();
  if (res.meta.changes !== 1) throw invalidTransition(row.status, "deprecated");
  if (skill.latestVersion === row.version) {
    const next = (await versionsOf(db, [skill.id]))
      .filter((v) => v.status === "approved")
      .sort(byVersionDesc)[0];
    await db
      .update(skills)
      .set({ latestVersion: next?.version ?? "" })
      .where(eq(skills.id, skill.id))
      .run();
  }
  const installed = (await installsOf(db, skill.tenantId, skill.id)).filter((i) => i.version === row.version);
  return { skill, before: row, installedAgents: installed.map((i) => i.agentId) };
}

export async function deprecateTenantVersion(
  db: Database,
  tenantId: string,
  skillId: string,
  version: string,
) {
  const skill = await tenantPrivateSkill(db, tenantId, skillId);
  const row = await db
    .select()
    .from(skillVersions)
    .where(and(eq(skillVersions.skillId, skill.id), eq(skillVersions.version, version)))
    .get();
  if (!row) throw notFound(`Version ${version} of skill '${skill.name}'`);
  return deprecate(db, skill, row);
}

export async function deprecateVersionById(db: Database, versionId: string) {
  const { version, skill } = await versionForReview(db, versionId);
  return deprecate(db, skill, version);
}
