import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`;
const createdAt = () => text("created_at").notNull().default(now);

export const tenants = sqliteTable(
  "tenants",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    region: text("region"),
    /** provisioning | active | failed | suspended */
    status: text("status").notNull().default("provisioning"),
    planTier: text("plan_tier").notNull().default("starter"),
    overageBillingEnabled: integer("overage_billing_enabled", { mode: "boolean" }).notNull().default(false),
    monthlyTokenQuota: integer("monthly_token_quota").notNull().default(2_500_000),
    /** Enterprise contract terms; null means the plan's default. */
    contractPlatformFeeUsd: integer("contract_platform_fee_usd"),
    contractIncludedAgents: integer("contract_included_agents"),
    /** Stripe: the customer and subscription of this tenant, created by the billing sync. */
    stripeCustomerId: text("stripe_customer_id"),
    stripeSubscriptionId: text("stripe_subscription_id"),
    /** none (not yet synced) | active | past_due — from Stripe's invoice webhooks */
    billingStatus: text("billing_status").notNull().default("none"),
    billingStatusAt: text("billing_status_at"),
    /** A billing sync holds this lease while it runs; one that finds it taken leaves `pending` set. */
    billingSyncUntil: text("billing_sync_until"),
    billingSyncPending: integer("billing_sync_pending", { mode: "boolean" }).notNull().default(false),
    /** The connected cluster whose controller runs this tenant's agents; null while there is none. */
    clusterId: text("cluster_id"),
    /** Egress proxy mode for the tenant's agents: log-only (report would-be blocks) or enforce. */
    egressMode: text("egress_mode").notNull().default("enforce"),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull().default(now),
  },
  (t) => [uniqueIndex("tenants_slug_unique").on(t.slug)],
);

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").references(() => tenants.id),
    email: text("email").notNull(),
    name: text("name").notNull(),
    /** platform_admin | tenant_admin | tenant_member */
    role: text("role").notNull(),
    passwordHash: text("password_hash").notNull(),
    /** active | disabled */
    status: text("status").notNull().default("active"),
    lastLoginAt: text("last_login_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_email_unique").on(t.email), index("users_tenant_idx").on(t.tenantId)],
);

/** A login session: the family that every rotated refresh token belongs to. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    ip: text("ip"),
    userAgent: text("user_agent"),
    revokedAt: text("revoked_at"),
    revokedReason: text("revoked_reason"),
    createdAt: createdAt(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id),
    tokenHash: text("token_hash").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_unique").on(t.tokenHash),
    index("refresh_tokens_session_idx").on(t.sessionId),
  ],
);

export const loginFailures = sqliteTable(
  "login_failures",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    ip: text("ip"),
    at: text("at").notNull(),
  },
  (t) => [index("login_failures_email_at_idx").on(t.email, t.at)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    role: text("role").notNull(),
    createdBy: text("created_by"),
    lastUsedAt: text("last_used_at"),
    revokedAt: text("revoked_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("api_keys_hash_unique").on(t.keyHash), index("api_keys_tenant_idx").on(t.tenantId)],
);

export const invites = sqliteTable(
  "invites",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    email: text("email").notNull(),
    name: text("name"),
    role: text("role").notNull(),
    tokenHash: text("token_hash").notNull(),
    invitedBy: text("invited_by"),
    expiresAt: text("expires_at").notNull(),
    acceptedAt: text("accepted_at"),
    revokedAt: text("revoked_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("invites_token_unique").on(t.tokenHash), index("invites_tenant_idx").on(t.tenantId)],
);

export const provisioningJobs = sqliteTable(
  "provisioning_jobs",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    /** pending | running | completed | failed */
    status: text("status").notNull().default("pending"),
    /** JSON array of { name, status, error?, startedAt?, finishedAt? } */
    steps: text("steps").notNull(),
    adminEmail: text("admin_email").notNull(),
    adminName: text("admin_name").notNull(),
    adminPasswordHash: text("admin_password_hash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull().default(now),
  },
  (t) => [index("provisioning_jobs_tenant_idx").on(t.tenantId)],
);

export const configVersions = sqliteTable(
  "config_versions",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    version: integer("version").notNull(),
    config: text("config").notNull(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.version] })],
);

export const agents = sqliteTable(
  "agents",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    role: text("role"),
    modelTier: text("model_tier").notNull(),
    thinkingMode: text("thinking_mode").notNull(),
    /** active | paused | stopped */
    status: text("status").notNull().default("active"),
    credentialHash: text("credential_hash").notNull(),
    credentialPrefix: text("credential_prefix").notNull(),
    monthlyTokensUsed: integer("monthly_tokens_used").notNull().default(0),
    monthlyTokenQuotaOverride: integer("monthly_token_quota_override"),
    tokenQuotaResetAt: text("token_quota_reset_at").notNull(),
    /** normal | warning | grace | rate_limited | paused */
    quotaState: text("quota_state").notNull().default("normal"),
    /** The UTC month (YYYY-MM) that `monthlyTokensUsed` counts. */
    usageMonth: text("usage_month"),
    /** Set when a tenant admin lifted `paused` this month: the agent may continue to 200%. */
    quotaAcknowledgedAt: text("quota_acknowledged_at"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull().default(now),
  },
  (t) => [
    uniqueIndex("agents_tenant_name_unique").on(t.tenantId, t.name),
    index("agents_tenant_idx").on(t.tenantId),
  ],
);

export const skills = sqliteTable(
  "skills",
  {
    id: text("id").primaryKey(),
    /** null for core and public skills; set for a tenant's private skills */
    tenantId: text("tenant_id").references(() => tenants.id),
    name: text("name").notNull(),
    displayName: text("display_name").notNull(),
    description: text("description").notNull(),
    category: text("category").notNull(),
    /** core | public | private */
    visibility: text("visibility").notNull(),
    isCore: integer("is_core", { mode: "boolean" }).notNull().default(false),
    latestVersion: text("latest_version").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("skills_scope_name_unique").on(t.tenantId, t.name),
    index("skills_visibility_idx").on(t.visibility),
  ],
);

export const skillVersions = sqliteTable(
  "skill_versions",
  {
    id: text("id").primaryKey(),
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id),
    version: text("version").notNull(),
    manifest: text("manifest").notNull(),
    sha256: text("sha256"),
    /** draft | pending_review | in_review | approved | rejected | changes_requested | deprecated */
    status: text("status").notNull(),
    /** Private versions: the package in R2 (`skills/<sha256>.tgz`, content-addressed) and its size. */
    objectKey: text("object_key"),
    sizeBytes: integer("size_bytes"),
    /** JSON array of the static analysis findings at upload ({ severity, rule, file?, line?, message }) */
    findings: text("findings"),
    /** JSON of the manifest's permissions, for the reviewer's diff against the previous approved version */
    permissions: text("permissions"),
    /** The reviewer's reason for a rejection or requested changes (or an approval note); shown to the tenant */
    reviewNote: text("review_note"),
    /** JSON of the latest dry-run ({ at, result: { passed, output, permissionsUsed, tests, durationMs, limit? } }) */
    dryRun: text("dry_run"),
    uploadedBy: text("uploaded_by"),
    submittedAt: text("submitted_at"),
    reviewedBy: text("reviewed_by"),
    reviewedAt: text("reviewed_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("skill_versions_skill_version_unique").on(t.skillId, t.version),
    index("skill_versions_status_idx").on(t.status),
  ],
);

export const agentSkills = sqliteTable(
  "agent_skills",
  {
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id),
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    version: text("version").notNull(),
    installedBy: text("installed_by"),
    installedAt: text("installed_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.skillId] }), index("agent_skills_tenant_idx").on(t.tenantId)],
);

/**
 * Append-only record of what happened, hash-chained per tenant: each row holds the hash of the
 * previous row of its chain and of its own content, so verification names the first row that was
 * changed, removed or inserted. `chain` is the tenant id, or "platform" for events with no tenant.
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id"),
    chain: text("chain").notNull().default("platform"),
    seq: integer("seq").notNull().default(0),
    prevHash: text("prev_hash").notNull().default(""),
    hash: text("hash").notNull().default(""),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    severity: text("severity").notNull(),
    details: text("details"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    at: text("at").notNull(),
  },
  (t) => [
    index("audit_tenant_at_idx").on(t.tenantId, t.at),
    index("audit_action_idx").on(t.action),
    uniqueIndex("audit_chain_seq_unique").on(t.chain, t.seq),
    index("audit_request_idx").on(t.requestId),
  ],
);

/** The newest row of each chain; survives retention deleting the rows before it. */
export const auditChainHeads = sqliteTable("audit_chain_heads", {
  chain: text("chain").primaryKey(),
  seq: integer("seq").notNull(),
  hash: text("hash").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** Security alerts raised by the rules in the audit consumer (S6-03). */
export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id"),
    rule: text("rule").notNull(),
    severity: text("severity").notNull(),
    /** open | acknowledged | resolved */
    status: text("status").notNull().default("open"),
    title: text("title").notNull(),
    /** JSON array of audit event ids */
    evidence: text("evidence").notNull(),
    count: integer("count").notNull().default(1),
    dedupeKey: text("dedupe_key").notNull(),
    firstAt: text("first_at").notNull(),
    lastAt: text("last_at").notNull(),
    acknowledgedBy: text("acknowledged_by"),
    acknowledgedAt: text("acknowledged_at"),
    resolvedBy: text("resolved_by"),
    resolvedAt: text("resolved_at"),
  },
  (t) => [
    index("alerts_tenant_status_idx").on(t.tenantId, t.status),
    index("alerts_dedupe_idx").on(t.tenantId, t.dedupeKey, t.lastAt),
  ],
);

/** Tenant webhooks. The signing secret is needed to sign, so it is stored encrypted (AES-GCM), never in clear. */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    url: text("url").notNull(),
    /** JSON array of event names, e.g. ["alert.raised"] */
    events: text("events").notNull(),
    secretCiphertext: text("secret_ciphertext").notNull(),
    secretPrefix: text("secret_prefix").notNull(),
    /** active | disabled */
    status: text("status").notNull().default("active"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
  },
  (t) => [index("webhooks_tenant_idx").on(t.tenantId)],
);

/** Every delivery attempt series to a webhook, visible per webhook. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    event: text("event").notNull(),
    payload: text("payload").notNull(),
    /** pending | succeeded | failed (will retry) | dead (retries exhausted) */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    nextAttemptAt: text("next_attempt_at"),
    deliveredAt: text("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_deliveries_webhook_idx").on(t.webhookId, t.createdAt)],
);

/** One R2 object per tenant per day of archived audit events (S6-01). */
export const auditArchives = sqliteTable(
  "audit_archives",
  {
    tenantId: text("tenant_id").notNull(),
    day: text("day").notNull(),
    objectKey: text("object_key").notNull(),
    rowCount: integer("row_count").notNull(),
    firstId: text("first_id").notNull(),
    lastId: text("last_id").notNull(),
    firstSeq: integer("first_seq").notNull(),
    lastSeq: integer("last_seq").notNull(),
    /** The hash of the day's last row: where the chain continues in D1 or the next archive. */
    chainHash: text("chain_hash").notNull(),
    sha256: text("sha256").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day] })],
);

/**
 * One row per model call through the gateway, written once by the usage consumer (its id is the
 * usage event's id, so a redelivered batch writes nothing twice). Overage is the part of the call
 * beyond the agent's quota, priced when overage billing is on; Stripe reporting marks it.
 */
export const usageCalls = sqliteTable(
  "usage_calls",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    agentId: text("agent_id").notNull(),
    /** YYYY-MM-DD and YYYY-MM, UTC, of the call */
    day: text("day").notNull(),
    month: text("month").notNull(),
    model: text("model").notNull(),
    modelTier: text("model_tier").notNull(),
    inputTokens: integer("input_tokens").notNull(),
    outputTokens: integer("output_tokens").notNull(),
    thinkingTokens: integer("thinking_tokens").notNull(),
    cacheReadTokens: integer("cache_read_tokens").notNull(),
    cacheWriteTokens: integer("cache_write_tokens").notNull(),
    /** input + output + thinking + cache reads at one tenth */
    quotaTokens: integer("quota_tokens").notNull(),
    /** The upstream answered without a usage block: recorded as such, never guessed. */
    usageMissing: integer("usage_missing", { mode: "boolean" }).notNull().default(false),
    /** Estimated upstream cost in millionths of a dollar */
    costMicros: integer("cost_micros").notNull(),
    overageInputTokens: integer("overage_input_tokens").notNull().default(0),
    overageOutputTokens: integer("overage_output_tokens").notNull().default(0),
    overageMicros: integer("overage_micros").notNull().default(0),
    stripeReportedAt: text("stripe_reported_at"),
    at: text("at").notNull(),
  },
  (t) => [
    index("usage_calls_agent_month_idx").on(t.agentId, t.month),
    index("usage_calls_overage_idx").on(t.stripeReportedAt, t.overageMicros),
  ],
);

/** Per agent per day per model tier: the aggregate the billing views read (E12-03). */
export const usageRecords = sqliteTable(
  "usage_records",
  {
    tenantId: text("tenant_id").notNull(),
    agentId: text("agent_id").notNull(),
    day: text("day").notNull(),
    month: text("month").notNull(),
    modelTier: text("model_tier").notNull(),
    calls: integer("calls").notNull().default(0),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    thinkingTokens: integer("thinking_tokens").notNull().default(0),
    cacheReadTokens: integer("cache_read_tokens").notNull().default(0),
    cacheWriteTokens: integer("cache_write_tokens").notNull().default(0),
    quotaTokens: integer("quota_tokens").notNull().default(0),
    missingUsageCalls: integer("missing_usage_calls").notNull().default(0),
    costMicros: integer("cost_micros").notNull().default(0),
    overageMicros: integer("overage_micros").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.day, t.modelTier] }),
    index("usage_records_tenant_month_idx").on(t.tenantId, t.month),
  ],
);

/** Each quota threshold notifies at most once per agent per month: this row is the proof. */
export const quotaNotifications = sqliteTable(
  "quota_notifications",
  {
    agentId: text("agent_id").notNull(),
    month: text("month").notNull(),
    state: text("state").notNull(),
    tenantId: text("tenant_id").notNull(),
    usedTokens: integer("used_tokens").notNull(),
    quota: integer("quota").notNull(),
    at: text("at").notNull(),
    /** Set once the email, feed event and audit row went out; a row without it is retried. */
    notifiedAt: text("notified_at"),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.month, t.state] })],
);

/** Stripe webhook events already applied (idempotency by Stripe's event id). */
export const stripeEvents = sqliteTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  tenantId: text("tenant_id"),
  receivedAt: text("received_at").notNull(),
});

/**
 * A Kubernetes cluster (or a local runner) whose controller dials out to the platform. Operators
 * register platform clusters (`tenantId` null) that may host many tenants; a tenant admin registers
 * one for the tenant alone. Secrets are stored as SHA-256 hashes only.
 */
export const clusters = sqliteTable(
  "clusters",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** The owning tenant of a tenant-registered cluster; null for a platform cluster. */
    tenantId: text("tenant_id"),
    /** The one-time registration token's hash; cleared when it is used. */
    registrationTokenHash: text("registration_token_hash"),
    registrationExpiresAt: text("registration_expires_at"),
    /** The name the controller gave when it registered. */
    reportedName: text("reported_name"),
    registeredAt: text("registered_at"),
    credentialHash: text("credential_hash"),
    /** The desired state's generation and content hash: a new generation only when the content changes. */
    desiredGeneration: integer("desired_generation").notNull().default(0),
    desiredHash: text("desired_hash"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
  },
  (t) => [
    index("clusters_tenant_idx").on(t.tenantId),
    uniqueIndex("clusters_credential_unique").on(t.credentialHash),
  ],
);

/**
 * The credential an agent's runtime in a cluster uses (`POST /v1/auth/token` takes it like the one
 * shown at creation). Issued to the cluster's controller on request, which stores it in a Secret;
 * asking again rotates it.
 */
export const agentRuntimeCredentials = sqliteTable("agent_runtime_credentials", {
  agentId: text("agent_id").primaryKey(),
  clusterId: text("cluster_id").notNull(),
  credentialHash: text("credential_hash").notNull(),
  version: integer("version").notNull(),
  issuedAt: text("issued_at").notNull(),
});
