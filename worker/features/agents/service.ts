import { and, asc, count, eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { agentSkills, agents, type tenants } from "../../db/schema";
import { sha256Hex, timingSafeEqual } from "../../lib/crypto";
import { AppError, ScopedNotFound } from "../../lib/errors";
import { newId, randomToken } from "../../lib/ids";
import { hubStub, mailboxStub } from "../../lib/objects";
import {
  AGENT_FEE_USD,
  effectiveQuota,
  HIGH_THINKING_SURCHARGE_USD,
  includedAgents,
  isModelAllowed,
  isThinkingModeAllowed,
  MODEL_TIERS,
  type ModelTier,
  nextQuotaReset,
  PLANS,
  type PlanTier,
  previewNewAgent,
  priceAgents,
  type QuotaState,
  THINKING_MODES,
  type ThinkingMode,
} from "../../lib/pricing";
import { runtimeCredentialMatches } from "../clusters/service";
import { CORE_SKILL_IDS } from "../skills/catalog";
import { resolveSkillsForInstall } from "../skills/service";
import { getTenantRow } from "../tenants/service";

type AgentRow = typeof agents.$inferSelect;
type TenantRow = typeof tenants.$inferSelect;

const terms = (t: TenantRow) => ({
  planTier: t.planTier as PlanTier,
  contractPlatformFeeUsd: t.contractPlatformFeeUsd,
  contractIncludedAgents: t.contractIncludedAgents,
});

export interface PublicAgent {
  id: string;
  tenantId: string;
  name: string;
  role: string | null;
  modelTier: ModelTier;
  thinkingMode: ThinkingMode;
  status: string;
  included: boolean;
  costPerMonth: number;
  monthlyTokensUsed: number;
  monthlyTokenQuotaOverride: number | null;
  tokenQuotaResetAt: string;
  quota: number;
  quotaState: QuotaState;
  runtime: {
    status: "pending" | "starting" | "running" | "crashloop" | "stopped";
    restarts: number;
    lastError?: string;
    connectedAt?: string;
  };
  credentialPrefix: string;
  createdAt: string;
  updatedAt: string;
}

/** All agents of the tenant in creation order: the order that decides which are included in the plan. */
async function agentsInOrder(db: Database, tenantId: string): Promise<AgentRow[]> {
  return db
    .select()
    .from(agents)
    .where(eq(agents.tenantId, tenantId))
    .orderBy(asc(agents.createdAt), asc(agents.id))
    .all();
}

function present(tenant: TenantRow, rows: AgentRow[]): PublicAgent[] {
  const priced = priceAgents(
    terms(tenant),
    rows.map((r) => ({
      ...r,
      modelTier: r.modelTier as ModelTier,
      thinkingMode: r.thinkingMode as ThinkingMode,
    })),
  );
  return priced.map((a) => ({
    id: a.id,
    tenantId: a.tenantId,
    name: a.name,
    role: a.role,
    modelTier: a.modelTier,
    thinkingMode: a.thinkingMode,
    status: a.status,
    included: a.included,
    costPerMonth: a.monthlyFeeUsd,
    monthlyTokensUsed: a.monthlyTokensUsed,
    monthlyTokenQuotaOverride: a.monthlyTokenQuotaOverride,
    tokenQuotaResetAt: a.tokenQuotaResetAt,
    quota: effectiveQuota(tenant.monthlyTokenQuota, a.monthlyTokenQuotaOverride),
    quotaState: a.quotaState as QuotaState,
    runtime: { status: a.status === "active" ? "pending" : "stopped", restarts: 0 },
    credentialPrefix: a.credentialPrefix,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  }));
}

export async function listAgents(db: Database, tenantId: string, page?: { page: number; limit: number }) {
  const tenant = await getTenantRow(db, tenantId);
  const all = present(tenant, await agentsInOrder(db, tenantId));
  if (!page) return { rows: all, total: all.length };
  return { rows: all.slice((page.page - 1) * page.limit, page.page * page.limit), total: all.length };
}

export async function getAgent(db: Database, tenantId: string, agentId: string): Promise<PublicAgent> {
  const { rows } = await listAgents(db, tenantId);
  const agent = rows.find((a) => a.id === agentId);
  if (!agent) throw new ScopedNotFound("Agent", "agents", agentId);
  return agent;
}

/** Throws 404 unless the agent exists in this tenant; another tenant's agent is indistinguishable from none. */
export async function assertAgentInTenant(
  db: Database,
  tenantId: string,
  agentId: string,
): Promise<AgentRow> {
  const row = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId)))
    .get();
  if (!row) throw new ScopedNotFound("Agent", "agents", agentId);
  return row;
}

function assertPlanAllows(planTier: PlanTier, model: ModelTier, thinking: ThinkingMode) {
  const plan = PLANS[planTier];
  if (!isModelAllowed(planTier, model)) {
    throw new AppError(403, "model_not_allowed", `Plan '${planTier}' does not allow model '${model}'`, {
      modelTier: [`Not available on the ${plan.label} plan (allowed: ${plan.models.join(", ")})`],
    });
  }
  if (!isThinkingModeAllowed(planTier, thinking)) {
    throw new AppError(
      403,
      "thinking_mode_not_allowed",
      `Plan '${planTier}' does not allow thinking mode '${thinking}'`,
      {
        thinkingMode: [`Not available on the ${plan.label} plan (allowed: ${plan.thinkingModes.join(", ")})`],
      },
    );
  }
}

function limitError(planTier: PlanTier) {
  const plan = PLANS[planTier];
  return new AppError(
    403,
    "agent_limit_reached",
    `Plan '${planTier}' allows at most ${plan.maxAgents} agents; upgrade the plan or remove an agent`,
  );
}

/** What the creation wizard needs: which choices the plan allows, with the reason for each it forbids. */
export async function agentOptions(db: Database, tenantId: string) {
  const tenant = await getTenantRow(db, tenantId);
  const tier = tenant.planTier as PlanTier;
  const plan = PLANS[tier];
  const n = (await db.select({ n: count() }).from(agents).where(eq(agents.tenantId, tenantId)).get())?.n ?? 0;
  const canCreate = plan.maxAgents === null || n < plan.maxAgents;
  const reason = `Not available on the ${plan.label} plan`;
  return {
    planTier: tier,
    models: MODEL_TIERS.map((m) => ({
      tier: m,
      allowed: isModelAllowed(tier, m),
      ...(isModelAllowed(tier, m) ? {} : { reason }),
      feeUsd: AGENT_FEE_USD[m],
    })),
    thinkingModes: THINKING_MODES.map((t) => ({
      mode: t,
      allowed: isThinkingModeAllowed(tier, t),
      ...(isThinkingModeAllowed(tier, t) ? {} : { reason }),
      surchargeUsd: t === "high" ? HIGH_THINKING_SURCHARGE_USD : 0,
    })),
    agentCount: n,
    maxAgents: plan.maxAgents,
    includedAgents: includedAgents(terms(tenant)),
    canCreate,
    ...(canCreate ? {} : { limitReason: `The ${plan.label} plan allows at most ${plan.maxAgents} agents` }),
  };
}

export async function pricingPreview(
  db: Database,
  tenantId: string,
  model: ModelTier,
  thinking: ThinkingMode,
) {
  const tenant = await getTenantRow(db, tenantId);
  const existing = await agentsInOrder(db, tenantId);
  const preview = previewNewAgent(
    terms(tenant),
    existing.map((a) => ({
      modelTier: a.modelTier as ModelTier,
      thinkingMode: a.thinkingMode as ThinkingMode,
    })),
    model,
    thinking,
  );
  return {
    ...preview,
    modelAllowed: isModelAllowed(tenant.planTier as PlanTier, model),
    thinkingModeAllowed: isThinkingModeAllowed(tenant.planTier as PlanTier, thinking),
  };
}

export interface CreateAgentInput {
  name: string;
  role?: string;
  modelTier: ModelTier;
  thinkingMode: ThinkingMode;
  skills?: string[];
}

/**
 * Creates the agent with its credential and installs the core skills (plus any requested) in one
 * transaction. The plan's agent limit is checked inside the INSERT itself, so two concurrent
 * creations cannot both take the last seat.
 */
export async function createAgent(
  db: Database,
  tenantId: string,
  input: CreateAgentInput,
  createdBy: string | null,
) {
  const tenant = await getTenantRow(db, tenantId);
  if (tenant.status !== "active") {
    throw new AppError(
      409,
      "tenant_not_active",
      `The tenant is ${tenant.status}; agents can be created once it is active`,
    );
  }
  const tier = tenant.planTier as PlanTier;
  assertPlanAllows(tier, input.modelTier, input.thinkingMode);
  const plan = PLANS[tier];
  const extra = await resolveSkillsForInstall(db, tenantId, input.skills ?? []);

  const taken = await db
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.tenantId, tenantId), eq(agents.name, input.name)))
    .get();
  if (taken) throw nameTaken(input.name);

  const id = newId("agt");
  const credential = `agk_${randomToken(44)}`;
  const now = new Date();
  const limit = plan.maxAgents ?? Number.MAX_SAFE_INTEGER;
  const skillIds = [...new Set([...CORE_SKILL_IDS, ...extra.map((s) => s.id)])];
  const stamp = now.toISOString();
  const d1 = db.$client;
  try {
    const [inserted] = await d1.batch([
      d1
        .prepare(
          `INSERT INTO agents (id, tenant_id, name, role, model_tier, thinking_mode, status, credential_hash,
             credential_prefix, token_quota_reset_at, created_by, created_at, updated_at)
           SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8, ?9, ?10, ?11, ?11
           WHERE (SELECT COUNT(*) FROM agents WHERE tenant_id = ?2) < ?12`,
        )
        .bind(
          id,
          tenantId,
          input.name,
          input.role ?? null,
          input.modelTier,
          input.thinkingMode,
          await sha256Hex(credential),
          credential.slice(0, 12),
          nextQuotaReset(now),
          createdBy,
          stamp,
          limit,
        ),
      d1
        .prepare(
          `INSERT INTO agent_skills (agent_id, skill_id, tenant_id, version, installed_by, installed_at)
           SELECT ?1, s.id, ?2, s.latest_version, ?3, ?4 FROM skills s, json_each(?5) j
           WHERE s.id = j.value AND EXISTS (SELECT 1 FROM agents WHERE id = ?1)`,
        )
        .bind(id, tenantId, createdBy, stamp, JSON.stringify(skillIds)),
    ]);
    if (inserted?.meta.changes !== 1) throw limitError(tier);
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (String(err).includes("UNIQUE")) throw nameTaken(input.name);
    throw err;
  }
  return { agent: await getAgent(db, tenantId, id), credential, skillIds };
}

const nameTaken = (name: string) =>
  new AppError(409, "name_taken", `An agent named '${name}' already exists`, {
    name: ["An agent with this name exists"],
  });

export interface UpdateAgentInput {
  name?: string;
  role?: string | null;
  modelTier?: ModelTier;
  thinkingMode?: ThinkingMode;
  monthlyTokenQuotaOverride?: number | null;
}

export async function updateAgent(db: Database, tenantId: string, agentId: string, input: UpdateAgentInput) {
  const before = await getAgent(db, tenantId, agentId);
  const tenant = await getTenantRow(db, tenantId);
  assertPlanAllows(
    tenant.planTier as PlanTier,
    input.modelTier ?? before.modelTier,
    input.thinkingMode ?? before.thinkingMode,
  );
  try {
    await db
      .update(agents)
      .set({ ...input, updatedAt: new Date().toISOString() })
      .where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId)));
  } catch (err) {
    if (String(err).includes("UNIQUE") && input.name) throw nameTaken(input.name);
    throw err;
  }
  return { before, after: await getAgent(db, tenantId, agentId) };
}

export async function deleteAgent(db: Database, tenantId: string, agentId: string) {
  const before = await getAgent(db, tenantId, agentId);
  await db.batch([
    db.delete(agentSkills).where(and(eq(agentSkills.agentId, agentId), eq(agentSkills.tenantId, tenantId))),
    db.delete(agents).where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId))),
  ]);
  return before;
}

export const AGENT_ACTIONS = ["pause", "resume", "restart"] as const;
export type AgentAction = (typeof AGENT_ACTIONS)[number];

export async function agentAction(db: Database, tenantId: string, agentId: string, action: AgentAction) {
  const before = await getAgent(db, tenantId, agentId);
  if (action === "pause" && before.status === "paused")
    throw new AppError(409, "conflict", "The agent is already paused");
  if (action === "resume" && before.status !== "paused")
    throw new AppError(409, "conflict", "The agent is not paused");
  // A restart leaves the status alone: restarting a paused agent does not resume it.
  const status = action === "pause" ? "paused" : action === "resume" ? "active" : before.status;
  await db
    .update(agents)
    .set({ status, updatedAt: new Date().toISOString() })
    .where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId)));
  return { before, after: await getAgent(db, tenantId, agentId) };
}

/** Verifies an agent's credential for `POST /v1/auth/token`. */
export async function verifyAgentCredential(
  db: Database,
  agentId: string,
  credential: string,
): Promise<AgentRow | null> {
  const row = await db.select().from(agents).where(eq(agents.id, agentId)).get();
  if (!row) return null;
  const hash = await sha256Hex(credential);
  if (timingSafeEqual(hash, row.credentialHash)) return row;
  // Or the runtime credential its cluster's controller was issued for it.
  return (await runtimeCredentialMatches(db, agentId, credential)) ? row : null;
}

/** Fills `runtime` from TenantHub's presence table: one RPC for the whole list. */
export async function withRuntime(env: Env, tenantId: string, list: PublicAgent[]): Promise<PublicAgent[]> {
  if (list.length === 0) return list;
  const presence = new Map((await hubStub(env, tenantId).presence()).map((p) => [p.agentId, p]));
  return list.map((a) => {
    const p = presence.get(a.id);
    if (a.status !== "active") return { ...a, runtime: { ...a.runtime, status: "stopped" } };
    if (p?.connected) return { ...a, runtime: { ...a.runtime, status: "running", connectedAt: p.at } };
    return a;
  });
}

/** Pausing closes the agent's socket and refuses new ones; resuming lets it connect again. */
export async function syncMailboxStatus(
  env: Env,
  tenantId: string,
  agentId: string,
  status: "active" | "paused" | "deleted",
) {
  await mailboxStub(env, tenantId, agentId).setStatus({ agentId, tenantId }, status);
}

/** A deleted agent leaves the allowlist: a new version without its links, pushed to every mailbox. */
export async function removeFromAllowlist(
  env: Env,
  tenantId: string,
  agentId: string,
  updatedBy: string | null,
) {
  const hub = hubStub(env, tenantId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await hub.getAllowlist();
    const edges = current.edges.filter((e) => e.from !== agentId && e.to !== agentId);
    if (edges.length === current.edges.length) return;
    const res = await hub.setAllowlist({ tenantId, expectedVersion: current.version, edges, updatedBy });
    if (res.ok || res.code !== "version_conflict") return;
  }
}
