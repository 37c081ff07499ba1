import { and, eq, ne } from "drizzle-orm";
import type { Database } from "../../db/client";
import { agents, tenants } from "../../db/schema";
import { mailboxStub } from "../../lib/objects";
import {
  effectiveQuota,
  isModelAllowed,
  isThinkingModeAllowed,
  MODEL_TIERS,
  type ModelTier,
  type PlanTier,
  type QuotaState,
  RATE_LIMITED_INTERVAL_SECONDS,
  THINKING_MODES,
  type ThinkingMode,
} from "../../lib/pricing";
import { effectiveQuotaState } from "./usage";

/**
 * What the model gateway needs to admit a call, held by the agent's mailbox Durable Object so the
 * hot path never reads D1. Pushed whenever one of its inputs changes (agent model or thinking mode,
 * tenant plan or overage, quota state after usage aggregation, acknowledgement, monthly reset).
 */
export interface BillingProfile {
  planTier: PlanTier;
  modelTier: ModelTier;
  thinkingMode: ThinkingMode;
  quotaState: QuotaState;
  overageEnabled: boolean;
}

export type Admission =
  | { ok: true }
  | {
      ok: false;
      status: 403 | 429;
      code: "model_not_allowed" | "thinking_mode_not_allowed" | "quota_rate_limited" | "quota_paused";
      message: string;
      retryAfterSeconds?: number;
    };

const rank = <T extends string>(order: readonly T[], v: T) => order.indexOf(v);

/** The model tier a model id names (`claude-sonnet-4-5` → sonnet); null for anything else. */
export function tierOfModel(model: string): ModelTier | null {
  const m = model.toLowerCase();
  for (const tier of MODEL_TIERS) if (m.includes(tier)) return tier;
  return null;
}

/** Thinking mode of a Messages API request: none → off; a budget of 8k tokens or more → high. */
export function thinkingModeOf(thinking: unknown): ThinkingMode {
  if (!thinking || typeof thinking !== "object") return "off";
  const t = thinking as { type?: unknown; budget_tokens?: unknown };
  if (t.type !== "enabled") return "off";
  return typeof t.budget_tokens === "number" && t.budget_tokens >= 8192 ? "high" : "low";
}

/**
 * Decides a model call from the profile alone. The plan bounds the tiers and thinking modes; the
 * agent may use its own tier or a cheaper one (it is billed for its own). Quota states are enforced
 * only without overage billing: `rate_limited` admits one call per 10 s, `paused` none.
 */
export function admitModelCall(
  p: BillingProfile,
  req: { tier: ModelTier; thinking: ThinkingMode },
  nowMs: number,
  lastCallMs: number | null,
): Admission {
  if (!isModelAllowed(p.planTier, req.tier) || rank(MODEL_TIERS, req.tier) > rank(MODEL_TIERS, p.modelTier)) {
    return {
      ok: false,
      status: 403,
      code: "model_not_allowed",
      message: `This agent may call ${p.modelTier} models or cheaper on the ${p.planTier} plan; ${req.tier} is not allowed`,
    };
  }
  if (
    !isThinkingModeAllowed(p.planTier, req.thinking) ||
    rank(THINKING_MODES, req.thinking) > rank(THINKING_MODES, p.thinkingMode)
  ) {
    return {
      ok: false,
      status: 403,
      code: "thinking_mode_not_allowed",
      message: `Thinking mode ${req.thinking} is not allowed for this agent (its mode is ${p.thinkingMode})`,
    };
  }
  if (p.overageEnabled) return { ok: true };
  if (p.quotaState === "paused") {
    return {
      ok: false,
      status: 429,
      code: "quota_paused",
      message:
        "This agent used 150% of its monthly token quota; a tenant admin must acknowledge it or raise the quota",
    };
  }
  if (p.quotaState === "rate_limited" && lastCallMs !== null) {
    const waitMs = lastCallMs + RATE_LIMITED_INTERVAL_SECONDS * 1000 - nowMs;
    if (waitMs > 0) {
      return {
        ok: false,
        status: 429,
        code: "quota_rate_limited",
        message: `This agent is over 120% of its monthly token quota: one model call per ${RATE_LIMITED_INTERVAL_SECONDS} s`,
        retryAfterSeconds: Math.ceil(waitMs / 1000),
      };
    }
  }
  return { ok: true };
}

/** Reads an agent's profile from D1: the cold path (first call after a mailbox lost it). */
export async function loadBillingProfile(
  db: Database,
  tenantId: string,
  agentId: string,
): Promise<BillingProfile | null> {
  const row = await db
    .select({
      planTier: tenants.planTier,
      overageEnabled: tenants.overageBillingEnabled,
      modelTier: agents.modelTier,
      thinkingMode: agents.thinkingMode,
      quotaState: agents.quotaState,
    })
    .from(agents)
    .innerJoin(tenants, eq(tenants.id, agents.tenantId))
    .where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId)))
    .get();
  if (!row) return null;
  return {
    planTier: row.planTier as PlanTier,
    modelTier: row.modelTier as ModelTier,
    thinkingMode: row.thinkingMode as ThinkingMode,
    quotaState: row.quotaState as QuotaState,
    overageEnabled: row.overageEnabled,
  };
}

/** Pushes fresh profiles to the mailboxes of the given agents (all of the tenant's when omitted). */
export async function refreshBillingProfiles(
  db: Database,
  env: Env,
  tenantId: string,
  agentIds?: readonly string[],
): Promise<void> {
  const ids =
    agentIds ??
    (
      await db
        .select({ id: agents.id })
        .from(agents)
        .where(and(eq(agents.tenantId, tenantId), ne(agents.status, "deleted")))
        .all()
    ).map((a) => a.id);
  await Promise.all(
    ids.map(async (agentId) => {
      try {
        const profile = await loadBillingProfile(db, tenantId, agentId);
        if (profile)
          await mailboxStub(env, tenantId, agentId).setBillingProfile({ agentId, tenantId }, profile);
      } catch (err) {
        // The mailbox reloads from D1 when it has no profile; a stale one is corrected by the next push.
        console.error("billing profile push failed", { agentId, error: String(err) });
      }
    }),
  );
}

/**
 * After a quota, plan or overage change: each agent's state follows from its month total and its
 * (new) quota — raising the quota lifts `paused` — and every mailbox gets its fresh profile.
 */
export async function recomputeQuotaStates(
  db: Database,
  env: Env,
  tenantId: string,
  agentIds?: readonly string[],
): Promise<void> {
  const t = await db
    .select({ quota: tenants.monthlyTokenQuota })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .get();
  if (!t) return;
  const rows = await db
    .select({
      id: agents.id,
      used: agents.monthlyTokensUsed,
      override: agents.monthlyTokenQuotaOverride,
      state: agents.quotaState,
      acknowledgedAt: agents.quotaAcknowledgedAt,
    })
    .from(agents)
    .where(eq(agents.tenantId, tenantId))
    .all();
  const wanted = agentIds ? new Set(agentIds) : null;
  for (const a of rows) {
    if (wanted && !wanted.has(a.id)) continue;
    const state = effectiveQuotaState(a.used, effectiveQuota(t.quota, a.override), a.acknowledgedAt !== null);
    if (state !== a.state) {
      await db
        .update(agents)
        .set({ quotaState: state })
        .where(and(eq(agents.id, a.id), eq(agents.tenantId, tenantId)));
    }
  }
  await refreshBillingProfiles(db, env, tenantId, agentIds);
}
