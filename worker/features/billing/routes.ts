import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { agents, tenants, usageRecords } from "../../db/schema";
import { AppError, ScopedNotFound } from "../../lib/errors";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../../lib/http";
import {
  effectiveQuota,
  HIGH_THINKING_SURCHARGE_USD,
  includedAgents,
  type ModelTier,
  nextQuotaReset,
  OVERAGE_RATES_USD,
  type PlanTier,
  planOf,
  platformFeeUsd,
  priceAgents,
  type QuotaState,
  type ThinkingMode,
} from "../../lib/pricing";
import { audit } from "../audit/record";
import { refreshBillingProfiles } from "./profile";
import { enqueueBillingSync } from "./stripe";
import { effectiveQuotaState } from "./usage";

const usd = (micros: number) => Math.round(micros / 10_000) / 100;
const currentMonth = (now = new Date()) => now.toISOString().slice(0, 7);
const QuotaStateSchema = z.enum(["normal", "warning", "grace", "rate_limited", "paused"]);

async function tenantTerms(db: Database, tenantId: string) {
  const t = await db.select().from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!t) throw new AppError(404, "not_found", "Tenant not found");
  return t;
}

const OverviewSchema = z.object({
  month: z.string(),
  plan: z.object({
    tier: z.enum(["starter", "growth", "enterprise"]),
    platformFeeUsd: z.number(),
    includedAgents: z.number(),
    maxAgents: z.number().nullable(),
    overageEligible: z.boolean(),
    overageEnabled: z.boolean(),
  }),
  billingStatus: z.string(),
  nextBillingDate: z.string(),
  agents: z.array(
    z.object({
      agentId: z.string(),
      name: z.string(),
      modelTier: z.string(),
      thinkingMode: z.string(),
      included: z.boolean(),
      feeUsd: z.number(),
      thinkingSurchargeUsd: z.number(),
      quotaState: QuotaStateSchema,
      monthlyTokensUsed: z.number(),
      quota: z.number(),
    }),
  ),
  totals: z.object({
    platformFeeUsd: z.number(),
    agentFeesUsd: z.number(),
    thinkingSurchargesUsd: z.number(),
    overageUsd: z.number(),
    subtotalUsd: z.number(),
  }),
  projection: z.object({ overageUsd: z.number(), subtotalUsd: z.number(), basis: z.string() }),
});

const UsageAgentSchema = z.object({
  agentId: z.string(),
  name: z.string(),
  modelTier: z.string(),
  calls: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  thinkingTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheWriteTokens: z.number(),
  monthlyTokensUsed: z.number(),
  quota: z.number(),
  quotaState: QuotaStateSchema,
  estimatedCostUsd: z.number(),
  overageUsd: z.number(),
  missingUsageCalls: z.number(),
});
const UsageDaySchema = z.object({
  day: z.string(),
  calls: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  thinkingTokens: z.number(),
  cacheReadTokens: z.number(),
  quotaTokens: z.number(),
  estimatedCostUsd: z.number(),
});
const OverageSchema = z.object({
  enabled: z.boolean(),
  eligible: z.boolean(),
  rates: z.record(z.string(), z.object({ input: z.number(), output: z.number() })),
});

/** Billing for the tenant's admins (E12-07..10): what the month costs, usage, overage, pauses. */
export const billingRoutes = createRouter();

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/overview",
    tags: ["billing"],
    summary: "The month's bill: plan, agents with fees, surcharges, overage so far, projection",
    responses: { 200: jsonResponse(OverviewSchema, "Billing overview"), ...errorResponses },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenantId");
    const t = await tenantTerms(db, tenantId);
    const terms = { ...t, planTier: t.planTier as PlanTier };
    const month = currentMonth();
    const rows = await db
      .select()
      .from(agents)
      .where(eq(agents.tenantId, tenantId))
      .orderBy(asc(agents.createdAt), asc(agents.id))
      .all();
    const priced = priceAgents(
      terms,
      rows.map((a) => ({
        ...a,
        modelTier: a.modelTier as ModelTier,
        thinkingMode: a.thinkingMode as ThinkingMode,
      })),
    );
    const usage = await db
      .select({
        overage: sql<number>`COALESCE(SUM(${usageRecords.overageMicros}), 0)`,
        days: sql<number>`COUNT(DISTINCT ${usageRecords.day})`,
        tokens: sql<number>`COALESCE(SUM(${usageRecords.quotaTokens}), 0)`,
      })
      .from(usageRecords)
      .where(and(eq(usageRecords.tenantId, tenantId), eq(usageRecords.month, month)))
      .get();
    const agentRows = priced.map((a) => {
      const surcharge = a.thinkingMode === "high" ? HIGH_THINKING_SURCHARGE_USD : 0;
      const current = a.usageMonth === month;
      return {
        agentId: a.id,
        name: a.name,
        modelTier: a.modelTier,
        thinkingMode: a.thinkingMode,
        included: a.included,
        feeUsd: a.monthlyFeeUsd - surcharge,
        thinkingSurchargeUsd: surcharge,
        quotaState: (current ? a.quotaState : "normal") as QuotaState,
        monthlyTokensUsed: current ? a.monthlyTokensUsed : 0,
        quota: effectiveQuota(t.monthlyTokenQuota, a.monthlyTokenQuotaOverride),
      };
    });
    const platformFee = platformFeeUsd(terms);
    const agentFees = agentRows.reduce((s, a) => s + a.feeUsd, 0);
    const surcharges = agentRows.reduce((s, a) => s + a.thinkingSurchargeUsd, 0);
    const overageUsd = usd(usage?.overage ?? 0);
    const now = new Date();
    const daysInMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
    const elapsedDays = Math.max(1, now.getUTCDate());
    // Overage so far, continued at the average daily rate of the days elapsed.
    const projectedOverage = Math.round((overageUsd / elapsedDays) * daysInMonth * 100) / 100;
    const tokensPerDay = (usage?.tokens ?? 0) / elapsedDays;
    const plan = planOf(terms.planTier);
    return c.json(
      {
        month,
        plan: {
          tier: terms.planTier,
          platformFeeUsd: platformFee,
          includedAgents: includedAgents(terms),
          maxAgents: Number.isFinite(plan.maxAgents) ? plan.maxAgents : null,
          overageEligible: plan.overageEligible,
          overageEnabled: t.overageBillingEnabled,
        },
        billingStatus: t.billingStatus,
        nextBillingDate: nextQuotaReset(now),
        agents: agentRows,
        totals: {
          platformFeeUsd: platformFee,
          agentFeesUsd: agentFees,
          thinkingSurchargesUsd: surcharges,
          overageUsd,
          subtotalUsd: Math.round((platformFee + agentFees + surcharges + overageUsd) * 100) / 100,
        },
        projection: {
          overageUsd: projectedOverage,
          subtotalUsd: Math.round((platformFee + agentFees + surcharges + projectedOverage) * 100) / 100,
          basis: `at ${Math.round(tokensPerDay).toLocaleString("en-US")} tokens/day over ${daysInMonth} days (${elapsedDays} elapsed)`,
        },
      },
      200,
    );
  },
);

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/usage",
    tags: ["billing"],
    summary: "Per-agent and daily token usage for a month (UTC)",
    request: {
      query: z.object({
        month: z
          .string()
          .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "Expected YYYY-MM")
          .optional(),
      }),
    },
    responses: {
      200: jsonResponse(
        z.object({ month: z.string(), agents: z.array(UsageAgentSchema), daily: z.array(UsageDaySchema) }),
        "Usage",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenantId");
    const month = c.req.valid("query").month ?? currentMonth();
    const t = await tenantTerms(db, tenantId);
    const sums = {
      calls: sql<number>`SUM(${usageRecords.calls})`,
      inputTokens: sql<number>`SUM(${usageRecords.inputTokens})`,
      outputTokens: sql<number>`SUM(${usageRecords.outputTokens})`,
      thinkingTokens: sql<number>`SUM(${usageRecords.thinkingTokens})`,
      cacheReadTokens: sql<number>`SUM(${usageRecords.cacheReadTokens})`,
      cacheWriteTokens: sql<number>`SUM(${usageRecords.cacheWriteTokens})`,
      quotaTokens: sql<number>`SUM(${usageRecords.quotaTokens})`,
      missing: sql<number>`SUM(${usageRecords.missingUsageCalls})`,
      cost: sql<number>`SUM(${usageRecords.costMicros})`,
      overage: sql<number>`SUM(${usageRecords.overageMicros})`,
    };
    const where = and(eq(usageRecords.tenantId, tenantId), eq(usageRecords.month, month));
    const [perAgent, perDay, agentRows] = await Promise.all([
      db
        .select({ agentId: usageRecords.agentId, ...sums })
        .from(usageRecords)
        .where(where)
        .groupBy(usageRecords.agentId)
        .all(),
      db
        .select({ day: usageRecords.day, ...sums })
        .from(usageRecords)
        .where(where)
        .groupBy(usageRecords.day)
        .orderBy(asc(usageRecords.day))
        .all(),
      db.select().from(agents).where(eq(agents.tenantId, tenantId)).orderBy(asc(agents.createdAt)).all(),
    ]);
    const usageOf = new Map(perAgent.map((u) => [u.agentId, u]));
    const isCurrent = month === currentMonth();
    const rows = agentRows.map((a) => {
      const u = usageOf.get(a.id);
      const quota = effectiveQuota(t.monthlyTokenQuota, a.monthlyTokenQuotaOverride);
      const used = u?.quotaTokens ?? 0;
      return {
        agentId: a.id,
        name: a.name,
        modelTier: a.modelTier,
        calls: u?.calls ?? 0,
        inputTokens: u?.inputTokens ?? 0,
        outputTokens: u?.outputTokens ?? 0,
        thinkingTokens: u?.thinkingTokens ?? 0,
        cacheReadTokens: u?.cacheReadTokens ?? 0,
        cacheWriteTokens: u?.cacheWriteTokens ?? 0,
        monthlyTokensUsed: used,
        quota,
        // This month: the state the gateway enforces; a past month: where the agent ended.
        quotaState: (isCurrent && a.usageMonth === month
          ? a.quotaState
          : effectiveQuotaState(used, quota, false)) as QuotaState,
        estimatedCostUsd: usd(u?.cost ?? 0),
        overageUsd: usd(u?.overage ?? 0),
        missingUsageCalls: u?.missing ?? 0,
      };
    });
    return c.json(
      {
        month,
        agents: rows,
        daily: perDay.map((d) => ({
          day: d.day,
          calls: d.calls,
          inputTokens: d.inputTokens,
          outputTokens: d.outputTokens,
          thinkingTokens: d.thinkingTokens,
          cacheReadTokens: d.cacheReadTokens,
          quotaTokens: d.quotaTokens,
          estimatedCostUsd: usd(d.cost),
        })),
      },
      200,
    );
  },
);

const overageView = (t: { planTier: string; overageBillingEnabled: boolean }) => ({
  enabled: t.overageBillingEnabled,
  eligible: planOf(t.planTier as PlanTier).overageEligible,
  rates: OVERAGE_RATES_USD as Record<string, { input: number; output: number }>,
});

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/overage",
    tags: ["billing"],
    summary: "Whether usage beyond the quota is billed at the overage rates",
    responses: { 200: jsonResponse(OverageSchema, "Overage billing"), ...errorResponses },
  }),
  async (c) => c.json(overageView(await tenantTerms(c.get("db"), c.get("tenantId"))), 200),
);

billingRoutes.openapi(
  createRoute({
    method: "put",
    path: "/overage",
    tags: ["billing"],
    summary: "Turn overage billing on or off (growth and enterprise)",
    request: { body: jsonBody(z.object({ enabled: z.boolean() })) },
    responses: { 200: jsonResponse(OverageSchema, "Overage billing"), ...errorResponses },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenantId");
    const { enabled } = c.req.valid("json");
    const t = await tenantTerms(db, tenantId);
    if (!planOf(t.planTier as PlanTier).overageEligible) {
      throw new AppError(
        403,
        "plan_not_eligible",
        `Overage billing is not available on the ${t.planTier} plan`,
      );
    }
    if (t.overageBillingEnabled !== enabled) {
      await db
        .update(tenants)
        .set({ overageBillingEnabled: enabled, updatedAt: new Date().toISOString() })
        .where(eq(tenants.id, tenantId));
      audit(c, {
        action: "billing.overage_updated",
        target: { type: "tenant", id: tenantId },
        severity: "medium",
        details: {
          before: { overageBillingEnabled: t.overageBillingEnabled },
          after: { overageBillingEnabled: enabled },
        },
      });
      // The gateway enforces rate_limited/paused only without overage: every mailbox must know. The
      // subscription's metered overage item follows the setting (billing sync).
      c.executionCtx.waitUntil(refreshBillingProfiles(db, c.env, tenantId));
      c.executionCtx.waitUntil(enqueueBillingSync(c.env, tenantId));
    } else {
      audit(c, {
        action: "billing.overage_updated",
        target: { type: "tenant", id: tenantId },
        details: { unchanged: true },
      });
    }
    return c.json(overageView({ ...t, overageBillingEnabled: enabled }), 200);
  },
);

billingRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agents/{agentId}/acknowledge",
    tags: ["billing"],
    summary: "Lift a paused agent: it may continue to 200% of its quota (rate limited)",
    request: { params: z.object({ agentId: z.string().min(1).max(64) }) },
    responses: {
      200: jsonResponse(
        z.object({
          agent: z.object({ id: z.string(), quotaState: QuotaStateSchema, quotaAcknowledgedAt: z.string() }),
        }),
        "Acknowledged",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenantId");
    const { agentId } = c.req.valid("param");
    const a = await db
      .select()
      .from(agents)
      .where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId)))
      .get();
    if (!a) throw new ScopedNotFound("Agent", "agents", agentId);
    if (a.quotaState !== "paused") {
      throw new AppError(409, "not_paused", `The agent is ${a.quotaState}, not paused`);
    }
    const t = await tenantTerms(db, tenantId);
    const quota = effectiveQuota(t.monthlyTokenQuota, a.monthlyTokenQuotaOverride);
    const state = effectiveQuotaState(a.monthlyTokensUsed, quota, true);
    if (state === "paused") {
      throw new AppError(
        409,
        "quota_exhausted",
        "The agent has used 200% of its quota; raise its quota to let it continue",
      );
    }
    const at = new Date().toISOString();
    await db
      .update(agents)
      .set({ quotaState: state, quotaAcknowledgedAt: at, updatedAt: at })
      .where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId)));
    audit(c, {
      action: "agent.quota_acknowledged",
      target: { type: "agent", id: agentId },
      severity: "medium",
      details: {
        before: { quotaState: a.quotaState },
        after: { quotaState: state },
        usedTokens: a.monthlyTokensUsed,
        quota,
      },
    });
    await refreshBillingProfiles(db, c.env, tenantId, [agentId]);
    return c.json({ agent: { id: agentId, quotaState: state, quotaAcknowledgedAt: at } }, 200);
  },
);
