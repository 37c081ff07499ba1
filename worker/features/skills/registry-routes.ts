import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { FeedEvent } from "../../../durable-objects/protocol";
import type { AppEnv } from "../../env";
import {
  createRouter,
  ErrorSchema,
  errorResponses,
  jsonBody,
  jsonResponse,
  PageQuery,
  pageMeta,
  pageSchema,
} from "../../lib/http";
import { hubStub } from "../../lib/objects";
import { audit } from "../audit/record";
import { actorOf } from "../auth/principal";
import {
  DEFAULT_REVIEW_STATUSES,
  decideReview,
  deprecateTenantVersion,
  deprecateVersionById,
  dryRunVersion,
  getPrivateSkill,
  listPrivateSkills,
  MAX_PACKAGE_BODY_BYTES,
  MAX_PACKAGE_BYTES,
  packageTooLarge,
  REVIEW_DECISIONS,
  type ReviewDecision,
  readPackageForm,
  reviewItem,
  reviewQueue,
  rollbackSkill,
  startReview,
  submitVersion,
  upgradeSkill,
  uploadVersion,
  VERSION_STATUSES,
  type VersionStatus,
  validateUpload,
} from "./registry";

// ---------------------------------------------------------------------------------------------------
// Schemas

const Id = z.string().min(1).max(80);

const Finding = z
  .object({
    severity: z.enum(["error", "warning", "info"]),
    rule: z
      .string()
      .openapi({ description: "Stable rule id, or the package error code (e.g. path_traversal)" }),
    file: z.string().optional(),
    line: z.number().int().optional(),
    message: z.string(),
  })
  .openapi("SkillFinding");

const ChecklistItem = z
  .object({ control: z.string(), passed: z.boolean(), detail: z.string() })
  .openapi("SkillChecklistItem");

const Manifest = z
  .record(z.string(), z.unknown())
  .openapi("SkillManifest", { description: "The package's aegis-skill.json (manifestVersion 1)" });

const DiffLists = z.object({
  domains: z.array(z.string()),
  readPaths: z.array(z.string()),
  writePaths: z.array(z.string()),
  env: z.array(z.string()),
  messageTypes: z.array(z.string()),
});

const PermissionDiff = z
  .object({
    against: z
      .string()
      .nullable()
      .openapi({ description: "The previous approved version compared against; null if none" }),
    added: DiffLists,
    removed: DiffLists,
    modelGateway: z.object({ before: z.boolean(), after: z.boolean() }).nullable(),
    changed: z.boolean(),
  })
  .openapi("SkillPermissionDiff");

const VersionSummary = z
  .object({
    id: z.string(),
    skillId: z.string(),
    version: z.string(),
    status: z.enum(VERSION_STATUSES),
    sha256: z.string().nullable(),
    sizeBytes: z.number().int().nullable(),
    reviewNote: z
      .string()
      .nullable()
      .openapi({ description: "The reviewer's reason (rejection, requested changes) or note" }),
    uploadedBy: z.string().nullable(),
    submittedAt: z.string().nullable(),
    reviewedBy: z.string().nullable(),
    reviewedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("SkillVersionSummary");

const DryRunResult = z
  .object({
    passed: z.boolean(),
    output: z.string().openapi({ description: "The tests' TAP output (at most 64 KiB)" }),
    permissionsUsed: z.array(
      z.object({
        kind: z.string().openapi({ description: "`network` or `env`" }),
        target: z.string(),
        allowed: z.boolean(),
        count: z.number().int(),
      }),
    ),
    tests: z.object({ total: z.number().int(), passed: z.number().int(), failed: z.number().int() }),
    durationMs: z.number().int(),
    limit: z.enum(["time", "memory"]).optional(),
    error: z.string().optional(),
  })
  .openapi("DryRunResult");
const StoredDryRun = z.object({ at: z.string(), result: DryRunResult }).nullable();

const VersionDetail = VersionSummary.extend({
  manifest: Manifest,
  findings: z.array(Finding),
  permissionDiff: PermissionDiff,
  dryRun: StoredDryRun.openapi({ description: "The latest dry-run of this version, if any" }),
}).openapi("SkillVersion");

const PrivateSkillBase = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string(),
  description: z.string(),
  category: z.string(),
  visibility: z.literal("private"),
  latestApprovedVersion: z.string().nullable(),
  createdAt: z.string(),
});

const PrivateSkill = PrivateSkillBase.extend({ versions: z.array(VersionSummary) }).openapi("PrivateSkill");
const PendingUpgrade = z
  .object({
    version: z
      .string()
      .openapi({ description: "The latest approved version, awaiting the tenant's approval" }),
    permissionDiff: PermissionDiff,
    agents: z.array(z.object({ agentId: z.string(), version: z.string() })),
  })
  .openapi("SkillPendingUpgrade", {
    description:
      "Agents left on an earlier version because the latest approved one has wider permissions; " +
      "POST …/upgrade moves them",
  });

const PrivateSkillDetail = PrivateSkillBase.extend({
  versions: z.array(VersionDetail),
  pendingUpgrade: PendingUpgrade.nullable(),
}).openapi("PrivateSkillDetail");

const MovedInstall = z.object({ agentId: z.string(), from: z.string(), to: z.string() });
const VersionBody = jsonBody(z.object({ version: z.string().min(1).max(64) }));

const ReviewItem = VersionDetail.extend({
  tenant: z.object({ id: z.string(), name: z.string(), slug: z.string(), planTier: z.string() }),
  skill: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
}).openapi("SkillReviewItem");

/**
 * The multipart body, documented but deliberately not a zod schema: a zod body would have the
 * validator read the form, and the handler must read the file itself (once) with its own limits.
 */
const PackageForm = {
  type: "object" as const,
  required: ["package"],
  properties: {
    package: {
      type: "string" as const,
      format: "binary",
      description: `The .tgz made by \`aegis-skill pack\`, at most ${MAX_PACKAGE_BYTES} bytes`,
    },
    sha256: {
      type: "string" as const,
      description: "Optional hex SHA-256 of the package; a mismatch is 400 `sha256_mismatch`",
    },
  },
};
const packageBody = (withSha: boolean) => ({
  required: true,
  content: {
    "multipart/form-data": {
      schema: withSha
        ? PackageForm
        : { ...PackageForm, properties: { package: PackageForm.properties.package } },
    },
  },
});

const limitPackageBody = bodyLimit({
  maxSize: MAX_PACKAGE_BODY_BYTES,
  onError: () => {
    throw packageTooLarge();
  },
});

const tooLarge = {
  413: jsonResponse(ErrorSchema, "The package exceeds the size limit (`payload_too_large`)"),
};

// ---------------------------------------------------------------------------------------------------
// Tenant routes, mounted at /api/dashboard/skills

export const privateSkillRoutes = createRouter();

privateSkillRoutes.use("/package/*", limitPackageBody);

privateSkillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/package/validate",
    tags: ["skills"],
    summary: "Validate a skill package without storing it",
    description:
      "Unpacks the package with the format's limits (zip slip, sizes, compression ratio), checks the manifest, " +
      "and statically analyses its JavaScript against the declared permissions. Nothing is stored.",
    request: { body: packageBody(false) },
    responses: {
      200: jsonResponse(
        z.object({
          valid: z.boolean(),
          manifest: Manifest.nullable(),
          findings: z.array(Finding),
          checklist: z.array(ChecklistItem),
        }),
        "The validation result; `valid` is false when any finding is an error",
      ),
      ...errorResponses,
      ...tooLarge,
    },
  }),
  async (c) => {
    const { bytes } = await readPackageForm(c.req.raw);
    const result = await validateUpload(bytes);
    return c.json(result as never, 200);
  },
);

privateSkillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/package/upload",
    tags: ["skills"],
    summary: "Upload a new version of a private skill (status draft)",
    description:
      "Validates the package as `/package/validate` does; a package with an error finding is 422 " +
      "`package_invalid` (details.findings) and nothing is stored. The version belongs to the tenant's private " +
      "skill named by the manifest, created when new (counts against the plan's private skills: 403 " +
      "`plan_limit_reached`). A platform skill's name is 409 `name_reserved`; an existing name+version is 409 " +
      "`version_exists` (versions are immutable). The bytes are stored in R2 at `skills/<sha256>.tgz`.",
    request: { body: packageBody(true) },
    responses: {
      201: jsonResponse(z.object({ skill: PrivateSkillBase, version: VersionDetail }), "Stored as draft"),
      ...errorResponses,
      409: jsonResponse(ErrorSchema, "`name_reserved` or `version_exists`"),
      ...tooLarge,
      422: jsonResponse(ErrorSchema, "`package_invalid`, with `details.findings`"),
    },
  }),
  async (c) => {
    const input = await readPackageForm(c.req.raw);
    const actor = actorOf(c.get("principal"));
    const { skill, version, createdSkill } = await uploadVersion(
      c.get("db"),
      c.env.ARCHIVE,
      c.get("tenantId"),
      input,
      actor.id,
    );
    audit(c, {
      action: "skill.version_uploaded",
      target: { type: "skill_version", id: version.id },
      details: {
        skillId: skill.id,
        name: skill.name,
        version: version.version,
        sha256: version.sha256,
        sizeBytes: version.sizeBytes,
        createdSkill,
        warnings: version.findings.filter((f) => f.severity !== "error").length,
        before: null,
        after: { status: version.status },
      },
    });
    return c.json({ skill, version } as never, 201);
  },
);

privateSkillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/package/{id}/submit",
    tags: ["skills"],
    summary: "Submit a skill version for review (draft or changes_requested → pending_review)",
    request: { params: z.object({ id: Id.openapi({ description: "The skill version id" }) }) },
    responses: {
      200: jsonResponse(z.object({ version: VersionSummary }), "Submitted"),
      ...errorResponses,
      409: jsonResponse(ErrorSchema, "`invalid_transition` from any other state"),
      422: jsonResponse(ErrorSchema, "`package_invalid`: the stored package no longer passes validation"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = c.get("tenantId");
    const { skill, before, after } = await submitVersion(c.get("db"), c.env.ARCHIVE, tenantId, id);
    // The reviewer should find the tests' outcome waiting: dry-run it in the background.
    c.executionCtx.waitUntil(
      dryRunVersion(c.env, c.get("db"), id, { tenantId })
        .then((run) => auditDryRun(c, tenantId, run, id))
        .catch((err) => console.error("dry-run after submit failed", { id, error: String(err) })),
    );
    audit(c, {
      action: "skill.version_submitted",
      target: { type: "skill_version", id },
      details: {
        skillId: skill.id,
        name: skill.name,
        version: after.version,
        before: { status: before.status },
        after: { status: after.status },
      },
    });
    const { manifest: _m, findings: _f, permissions: _p, objectKey: _o, ...rest } = after;
    return c.json({ version: { ...rest, status: rest.status as VersionStatus } }, 200);
  },
);

const dryRunDescription =
  "Runs the version's own tests (`test/**/*.test.mjs`, node:test) in the sandbox that enforces its manifest: " +
  "only declared domains, answered by a fixture server (`test/fixtures.json`, else an echo), only declared env, " +
  "the package folder read-only, 10 s and 64 MiB. The result is kept on the version for the reviewer. " +
  "503 `sandbox_unavailable` when the sandbox service cannot be reached.";

type VersionChange = Extract<FeedEvent, { event: "skill_version" }>["change"];

/**
 * Tells the tenant's open dashboards (the live feed) that one of its skill versions changed, so the
 * private skills page shows a decision or a dry-run without a reload. Best effort, after the response.
 */
function announceVersion(
  c: Context<AppEnv>,
  skill: { id: string; name: string; tenantId: string | null },
  version: { id: string; version: string; status: string },
  change: VersionChange,
) {
  if (!skill.tenantId) return;
  const event: FeedEvent = {
    event: "skill_version",
    skillId: skill.id,
    versionId: version.id,
    name: skill.name,
    version: version.version,
    status: version.status,
    change,
    at: new Date().toISOString(),
  };
  c.executionCtx.waitUntil(
    hubStub(c.env, skill.tenantId)
      .publish(event)
      .catch((err) => console.error("skill_version feed event failed", { error: String(err) })),
  );
}

/** Records a dry-run in the audit log: the outcome, never the output (it is the package's to print). */
function auditDryRun(
  c: Context<AppEnv>,
  tenantId: string,
  run: Awaited<ReturnType<typeof dryRunVersion>>,
  id: string,
) {
  audit(c, {
    action: "skill.version_dry_run",
    tenantId,
    target: { type: "skill_version", id },
    details: {
      skillId: run.skill.id,
      name: run.skill.name,
      version: run.version.version,
      passed: run.result.passed,
      tests: run.result.tests,
      limit: run.result.limit,
      refused: run.result.permissionsUsed.filter((u) => !u.allowed).map((u) => `${u.kind}:${u.target}`),
    },
  });
  announceVersion(c, run.skill, run.version, "dry_run");
}

privateSkillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/package/{id}/dry-run",
    tags: ["skills"],
    summary: "Dry-run a private skill version's tests in the sandbox",
    description: dryRunDescription,
    request: { params: z.object({ id: Id.openapi({ description: "The skill version id" }) }) },
    responses: {
      200: jsonResponse(DryRunResult, "The run's outcome (passed or not)"),
      ...errorResponses,
      503: jsonResponse(ErrorSchema, "`sandbox_unavailable`"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = c.get("tenantId");
    const run = await dryRunVersion(c.env, c.get("db"), id, { tenantId });
    auditDryRun(c, tenantId, run, id);
    return c.json(run.result as never, 200);
  },
);

privateSkillRoutes.openapi(
  createRoute({
    method: "get",
    path: "/private",
    tags: ["skills"],
    summary: "The tenant's private skills with their versions, states and review notes",
    responses: {
      200: jsonResponse(z.object({ data: z.array(PrivateSkill) }), "Private skills"),
      ...errorResponses,
    },
  }),
  async (c) => c.json({ data: await listPrivateSkills(c.get("db"), c.get("tenantId")) }, 200),
);

privateSkillRoutes.openapi(
  createRoute({
    method: "get",
    path: "/private/{skillId}",
    tags: ["skills"],
    summary: "One private skill: every version with manifest, findings and permission diff",
    description:
      "Each version's `permissionDiff` compares its permissions with the highest approved version below it.",
    request: { params: z.object({ skillId: Id }) },
    responses: {
      200: jsonResponse(z.object({ skill: PrivateSkillDetail }), "The skill"),
      ...errorResponses,
    },
  }),
  async (c) =>
    c.json(
      { skill: await getPrivateSkill(c.get("db"), c.get("tenantId"), c.req.valid("param").skillId) } as never,
      200,
    ),
);

/**
 * One audit event per agent moved to another version of a skill (with the permission diff when the
 * move widened them), or one for the skill when no agent had it installed.
 */
function auditInstallMoves(
  c: Context<AppEnv>,
  action: string,
  skillId: string,
  name: string,
  version: string,
  moved: Array<{ agentId: string; from: string; to: string; permissionDiff?: unknown }>,
) {
  for (const m of moved)
    audit(c, {
      action,
      severity: "medium",
      target: { type: "agent", id: m.agentId },
      details: {
        skillId,
        name,
        ...(m.permissionDiff ? { permissionDiff: m.permissionDiff } : {}),
        before: { version: m.from },
        after: { version: m.to },
      },
    });
  if (moved.length === 0)
    audit(c, {
      action,
      target: { type: "skill", id: skillId },
      details: { skillId, name, version, agents: 0 },
    });
}

privateSkillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/private/{skillId}/rollback",
    tags: ["skills"],
    summary: "Move every agent with the skill installed to an earlier approved version",
    description:
      "The version must be approved (409 `version_not_approved`, or `version_deprecated`); an unknown " +
      "version or another tenant's skill is 404. Audited per agent with the before/after version.",
    request: { params: z.object({ skillId: Id }), body: VersionBody },
    responses: {
      200: jsonResponse(z.object({ version: z.string(), moved: z.array(MovedInstall) }), "Rolled back"),
      ...errorResponses,
      409: jsonResponse(ErrorSchema, "`version_not_approved` or `version_deprecated`"),
    },
  }),
  async (c) => {
    const { skillId } = c.req.valid("param");
    const { skill, version, moved } = await rollbackSkill(
      c.get("db"),
      c.get("tenantId"),
      skillId,
      c.req.valid("json").version,
    );
    auditInstallMoves(c, "skill.rolled_back", skillId, skill.name, version, moved);
    return c.json({ version, moved }, 200);
  },
);

privateSkillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/private/{skillId}/upgrade",
    tags: ["skills"],
    summary: "Approve an upgrade with wider permissions: agents below the version move to it",
    description:
      "The tenant's approval of `pendingUpgrade` (see GET …/private/{skillId}). The version must be approved " +
      "(409 `version_not_approved` / `version_deprecated`). Audited per agent with the permission diff.",
    request: { params: z.object({ skillId: Id }), body: VersionBody },
    responses: {
      200: jsonResponse(
        z.object({
          version: z.string(),
          moved: z.array(MovedInstall.extend({ permissionDiff: PermissionDiff })),
        }),
        "Upgraded",
      ),
      ...errorResponses,
      409: jsonResponse(ErrorSchema, "`version_not_approved` or `version_deprecated`"),
    },
  }),
  async (c) => {
    const { skillId } = c.req.valid("param");
    const { skill, version, moved } = await upgradeSkill(
      c.get("db"),
      c.get("tenantId"),
      skillId,
      c.req.valid("json").version,
    );
    auditInstallMoves(c, "skill.upgrade_approved", skillId, skill.name, version, moved);
    return c.json({ version, moved }, 200);
  },
);

const DeprecatedResult = z.object({
  version: z.string(),
  status: z.literal("deprecated"),
  installedAgents: z
    .array(z.string())
    .openapi({ description: "Agents that keep the deprecated version installed" }),
});

privateSkillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/private/{skillId}/versions/{version}/deprecate",
    tags: ["skills"],
    summary: "Deprecate an approved version (approved → deprecated)",
    description:
      "A deprecated version cannot be newly installed (409 `version_deprecated`); agents that have it keep it. " +
      "When it was the catalogue's version, the catalogue moves to the highest approved version left. " +
      "From any state other than approved: 409 `invalid_transition`.",
    request: { params: z.object({ skillId: Id, version: z.string().min(1).max(64) }) },
    responses: {
      200: jsonResponse(DeprecatedResult, "Deprecated"),
      ...errorResponses,
      409: jsonResponse(ErrorSchema, "`invalid_transition`"),
    },
  }),
  async (c) => {
    const { skillId, version } = c.req.valid("param");
    const { skill, before, installedAgents } = await deprecateTenantVersion(
      c.get("db"),
      c.get("tenantId"),
      skillId,
      version,
    );
    audit(c, {
      action: "skill.version_deprecated",
      severity: "medium",
      target: { type: "skill_version", id: before.id },
      details: {
        skillId,
        name: skill.name,
        version,
        installedAgents,
        before: { status: before.status },
        after: { status: "deprecated" },
      },
    });
    return c.json({ version, status: "deprecated" as const, installedAgents }, 200);
  },
);

// ---------------------------------------------------------------------------------------------------
// Operator routes, mounted at /api/admin/skills/review

const StatusList = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return DEFAULT_REVIEW_STATUSES;
    const list = s.split(",").map((x) => x.trim());
    const bad = list.filter((x) => !(VERSION_STATUSES as readonly string[]).includes(x));
    if (bad.length) {
      ctx.addIssue({ code: "custom", message: `Unknown status: ${bad.join(", ")}` });
      return z.NEVER;
    }
    return list as VersionStatus[];
  })
  .openapi({
    type: "string",
    description: `Comma-separated states (${VERSION_STATUSES.join(", ")}); default pending_review,in_review`,
  });

export const skillReviewRoutes = createRouter();

skillReviewRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["skills"],
    summary: "Skill versions awaiting review, with the permission diff against the previous approved version",
    request: { query: PageQuery.extend({ status: StatusList }) },
    responses: {
      200: jsonResponse(pageSchema(ReviewItem), "The review queue, oldest submission first"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { page, limit, status } = c.req.valid("query");
    const { data, total } = await reviewQueue(c.get("db"), status, page, limit);
    return c.json({ data, meta: pageMeta(page, limit, total) } as never, 200);
  },
);

const VersionParam = z.object({ skillVersionId: Id });

skillReviewRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{skillVersionId}",
    tags: ["skills"],
    summary: "One skill version under review (read only; PUT …/start takes it into review)",
    request: { params: VersionParam },
    responses: { 200: jsonResponse(z.object({ item: ReviewItem }), "The version"), ...errorResponses },
  }),
  async (c) =>
    c.json({ item: await reviewItem(c.get("db"), c.req.valid("param").skillVersionId) } as never, 200),
);

skillReviewRoutes.openapi(
  createRoute({
    method: "put",
    path: "/{skillVersionId}/start",
    tags: ["skills"],
    summary: "Take a submitted version into review (pending_review → in_review)",
    request: { params: VersionParam },
    responses: {
      200: jsonResponse(z.object({ item: ReviewItem }), "In review"),
      ...errorResponses,
      409: jsonResponse(ErrorSchema, "`invalid_transition` from any other state"),
    },
  }),
  async (c) => {
    const { skillVersionId } = c.req.valid("param");
    const db = c.get("db");
    const actor = actorOf(c.get("principal"));
    const { skill, before } = await startReview(db, skillVersionId, actor.id);
    audit(c, {
      action: "skill.review_started",
      tenantId: skill.tenantId,
      target: { type: "skill_version", id: skillVersionId },
      details: {
        skillId: skill.id,
        name: skill.name,
        version: before.version,
        before: { status: before.status },
        after: { status: "in_review" },
      },
    });
    announceVersion(c, skill, { ...before, status: "in_review" }, "review_started");
    return c.json({ item: await reviewItem(db, skillVersionId) } as never, 200);
  },
);

skillReviewRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{skillVersionId}/dry-run",
    tags: ["skills"],
    summary: "Dry-run a submitted version's tests in the sandbox (the reviewer's own run)",
    description: dryRunDescription,
    request: { params: VersionParam },
    responses: {
      200: jsonResponse(z.object({ item: ReviewItem }), "The review item with its new dry-run"),
      ...errorResponses,
      503: jsonResponse(ErrorSchema, "`sandbox_unavailable`"),
    },
  }),
  async (c) => {
    const { skillVersionId } = c.req.valid("param");
    const db = c.get("db");
    const run = await dryRunVersion(c.env, db, skillVersionId, { operator: true });
    auditDryRun(c, run.skill.tenantId ?? "", run, skillVersionId);
    return c.json({ item: await reviewItem(db, skillVersionId) } as never, 200);
  },
);

for (const decision of Object.keys(REVIEW_DECISIONS) as ReviewDecision[]) {
  const rule = REVIEW_DECISIONS[decision];
  skillReviewRoutes.openapi(
    createRoute({
      method: "put",
      path: `/{skillVersionId}/${decision}`,
      tags: ["skills"],
      summary: `${decision === "approve" ? "Approve" : decision === "reject" ? "Reject" : "Request changes to"} a skill version (→ ${rule.status})`,
      description:
        `Valid from pending_review or in_review (else 409 \`invalid_transition\`). ` +
        (rule.reasonRequired
          ? "`reason` is required (400 with the `reason` field path) and is shown to the tenant as `reviewNote`."
          : "`reason` is optional and shown to the tenant as `reviewNote`. The skill's catalogue entry moves to this version when it is the highest approved one."),
      request: {
        params: VersionParam,
        body: { ...jsonBody(z.object({ reason: z.string().max(2000).optional() })), required: false },
      },
      responses: {
        200: jsonResponse(z.object({ item: ReviewItem }), `Now ${rule.status}`),
        ...errorResponses,
        409: jsonResponse(ErrorSchema, "`invalid_transition`"),
      },
    }),
    async (c) => {
      const { skillVersionId } = c.req.valid("param");
      const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
      const db = c.get("db");
      const actor = actorOf(c.get("principal"));
      const { skill, before, after, action, autoUpgrade } = await decideReview(
        db,
        skillVersionId,
        decision,
        body.reason,
        actor.id,
      );
      audit(c, {
        action,
        tenantId: skill.tenantId,
        severity: decision === "approve" ? "medium" : "info",
        target: { type: "skill_version", id: skillVersionId },
        details: {
          skillId: skill.id,
          name: skill.name,
          version: before.version,
          reviewer: actor.name,
          before: { status: before.status, reviewNote: before.reviewNote },
          after: { status: after.status, reviewNote: after.reviewNote },
          autoUpgrade: autoUpgrade
            ? { applied: autoUpgrade.applied, from: autoUpgrade.from, agents: autoUpgrade.moved.length }
            : null,
        },
      });
      // Narrower/equal permissions: applied to the agents on the previous version, audited as the system.
      for (const m of autoUpgrade?.moved ?? [])
        audit(c, {
          action: "skill.auto_upgraded",
          tenantId: skill.tenantId,
          actor: { type: "system", id: null, name: "skill-registry" },
          target: { type: "agent", id: m.agentId },
          details: {
            skillId: skill.id,
            name: skill.name,
            permissionDiff: autoUpgrade?.permissionDiff,
            before: { version: m.from },
            after: { version: m.to },
          },
        });
      announceVersion(c, skill, after, rule.status as VersionChange);
      return c.json({ item: await reviewItem(db, skillVersionId) } as never, 200);
    },
  );
}

skillReviewRoutes.openapi(
  createRoute({
    method: "put",
    path: "/{skillVersionId}/deprecate",
    tags: ["skills"],
    summary: "Deprecate an approved skill version (→ deprecated)",
    description:
      "As the tenant's POST …/private/{skillId}/versions/{version}/deprecate: installed agents keep it, it " +
      "cannot be newly installed. From any state other than approved: 409 `invalid_transition`.",
    request: { params: VersionParam },
    responses: {
      200: jsonResponse(z.object({ item: ReviewItem }), "Deprecated"),
      ...errorResponses,
      409: jsonResponse(ErrorSchema, "`invalid_transition`"),
    },
  }),
  async (c) => {
    const { skillVersionId } = c.req.valid("param");
    const db = c.get("db");
    const { skill, before, installedAgents } = await deprecateVersionById(db, skillVersionId);
    audit(c, {
      action: "skill.version_deprecated",
      tenantId: skill.tenantId,
      severity: "medium",
      target: { type: "skill_version", id: skillVersionId },
      details: {
        skillId: skill.id,
        name: skill.name,
        version: before.version,
        installedAgents,
        before: { status: before.status },
        after: { status: "deprecated" },
      },
    });
    announceVersion(c, skill, { ...before, status: "deprecated" }, "deprecated");
    return c.json({ item: await reviewItem(db, skillVersionId) } as never, 200);
  },
);
