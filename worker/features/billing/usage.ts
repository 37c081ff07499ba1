import { and, eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { agents, quotaNotifications, tenants, usageCalls, usageRecords } from "../../db/schema";
import {
  ACKNOWLEDGED_CEILING,
  CACHE_READ_WEIGHT,
  effectiveQuota,
  type ModelTier,
  nextQuotaReset,
  OVERAGE_RATES_USD,
  QUOTA_THRESHOLDS,
  type QuotaState,
  quotaStateFor,
  quotaTokens,
  UPSTREAM_COST_USD,
} from "../../lib/pricing";
import type { UsageEvent } from "../gateway/usage";

/** An agent row's quota: its override, else its tenant's default. */
const QUOTA_SQL =
  "COALESCE(monthly_token_quota_override, (SELECT monthly_token_quota FROM tenants WHERE tenants.id = agents.tenant_id))";

/** `effectiveQuotaState` in SQL, generated from the same thresholds (pricing.ts) over the stored total. */
const QUOTA_STATE_SQL = (() => {
  const u = "monthly_tokens_used";
  const q = QUOTA_SQL;
  const top = QUOTA_THRESHOLDS[QUOTA_THRESHOLDS.length - 1];
  const arms = [...QUOTA_THRESHOLDS]
    .reverse()
    .map((t) =>
      t === top && t.state === "paused"
        ? `WHEN ${u} >= ${q} * ${t.atLeast} THEN CASE WHEN quota_acknowledged_at IS NOT NULL AND ${u} < ${q} * ${ACKNOWLEDGED_CEILING} THEN 'rate_limited' ELSE 'paused' END`
        : `WHEN ${u} >= ${q} * ${t.atLeast} THEN '${t.state}'`,
    );
  return `CASE WHEN ${q} <= 0 THEN CASE WHEN ${u} > 0 THEN 'paused' ELSE 'normal' END ${arms.join(" ")} ELSE 'normal' END`;
})();

/** Estimated upstream cost in millionths of a dollar: $/1M tokens × tokens = micros. */
export function costMicros(tier: ModelTier, t: Omit<UsageEvent, "id">): number {
  const rate = UPSTREAM_COST_USD[tier];
  return Math.round(
    (t.inputTokens + t.cacheWriteTokens) * rate.input +
      t.cacheReadTokens * rate.input * CACHE_READ_WEIGHT +
      (t.outputTokens + t.thinkingTokens) * rate.output,
  );
}

/** The state an agent is in at `used` tokens; an acknowledged pause lets it run to 200%. */
export function effectiveQuotaState(used: number, quota: number, acknowledged: boolean): QuotaState {
  const state = quotaStateFor(used, quota);
  if (state === "paused" && acknowledged && used < quota * ACKNOWLEDGED_CEILING) return "rate_limited";
  return state;
}

/** Thresholds reached at `used` tokens (each notified once per month), lowest first. */
export function thresholdsReached(used: number, quota: number): QuotaState[] {
  if (quota <= 0) return used > 0 ? ["paused"] : [];
  return QUOTA_THRESHOLDS.filter((t) => used / quota >= t.atLeast).map((t) => t.state);
}

/**
 * The part of one call beyond the quota, split over input and output in proportion, and priced at
 * the overage rates. `before`/`after` are the agent's month totals around the call.
 */
export function overageOf(
  tier: ModelTier,
  t: Pick<UsageEvent, "inputTokens" | "outputTokens" | "thinkingTokens" | "cacheReadTokens">,
  before: number,
  after: number,
  quota: number,
): { inputTokens: number; outputTokens: number; micros: number } {
  const callTokens = after - before;
  const beyond = after - Math.max(before, quota);
  if (beyond <= 0 || callTokens <= 0) return { inputTokens: 0, outputTokens: 0, micros: 0 };
  const share = beyond / callTokens;
  const inputTokens = Math.round((t.inputTokens + Math.ceil(t.cacheReadTokens * CACHE_READ_WEIGHT)) * share);
  const outputTokens = Math.round((t.outputTokens + t.thinkingTokens) * share);
  const rate = OVERAGE_RATES_USD[tier];
  return {
    inputTokens,
    outputTokens,
    micros: Math.round(inputTokens * rate.input + outputTokens * rate.output),
  };
}

export interface QuotaChange {
  tenantId: string;
  agentId: string;
  from: QuotaState;
  to: QuotaState;
}

/** An agent whose usage this batch counted, with its month total and state after it. */
export interface AgentUsageTotal {
  tenantId: string;
  agentId: string;
  monthlyTokensUsed: number;
  quotaState: QuotaState;
}

export interface AggregateResult {
  changes: QuotaChange[];
  totals: AgentUsageTotal[];
}

/**
 * The USAGE consumer (one at a time): calls not yet recorded become usage rows, daily records and
 * the agents' month totals, quota states and threshold rows — all in one D1 batch, so a crash
 * applies all or nothing and a redelivered batch finds its ids recorded and changes nothing.
 */
export async function aggregateUsage(db: Database, events: UsageEvent[]): Promise<AggregateResult> {
  if (events.length === 0) return { changes: [], totals: [] };
  const unique = [...new Map(events.map((e) => [e.id, e])).values()];
  const seen = new Set(
    (
      await db
        .select({ id: usageCalls.id })
        .from(usageCalls)
        .where(
          inArray(
            usageCalls.id,
            unique.map((e) => e.id),
          ),
        )
        .all()
    ).map((r) => r.id),
  );
  const fresh = unique.filter((e) => !seen.has(e.id)).sort((a, b) => a.at.localeCompare(b.at));
  if (fresh.length === 0) return { changes: [], totals: [] };

  const agentIds = [...new Set(fresh.map((e) => e.agentId))];
  const agentRows = await db
    .select({
      id: agents.id,
      tenantId: agents.tenantId,
      used: agents.monthlyTokensUsed,
      usageMonth: agents.usageMonth,
      override: agents.monthlyTokenQuotaOverride,
      state: agents.quotaState,
      acknowledgedAt: agents.quotaAcknowledgedAt,
      tenantQuota: tenants.monthlyTokenQuota,
      overage: tenants.overageBillingEnabled,
    })
    .from(agents)
    .innerJoin(tenants, sql`${tenants.id} = ${agents.tenantId}`)
    .where(inArray(agents.id, agentIds))
    .all();
  const byId = new Map(
    agentRows.map((a) => [
      a.id,
      { ...a, startState: a.state as QuotaState, rolled: false, delta: 0, lastAt: "" },
    ]),
  );

  const statements: BatchItem<"sqlite">[] = [];
  for (const e of fresh) {
    const a = byId.get(e.agentId);
    const day = e.at.slice(0, 10);
    const month = e.at.slice(0, 7);
    const qt = quotaTokens(e);
    const cost = costMicros(e.modelTier, e);
    let overage = { inputTokens: 0, outputTokens: 0, micros: 0 };
    // An agent deleted since the call (or of another tenant) still gets its usage row and record.
    if (a && a.tenantId === e.tenantId) {
      if (!a.usageMonth || month > a.usageMonth) {
        // The first call of a new month starts its count (the Cron reset does the same for idle agents).
        a.usageMonth = month;
        a.used = 0;
        a.acknowledgedAt = null;
        a.state = "normal";
        a.rolled = true;
      }
      if (month === a.usageMonth) {
        a.lastAt = e.at;
        const quota = effectiveQuota(a.tenantQuota, a.override);
        const before = a.used;
        a.used += qt;
        a.delta += qt;
        if (a.overage) overage = overageOf(e.modelTier, e, before, a.used, quota);
        a.state = effectiveQuotaState(a.used, quota, a.acknowledgedAt !== null);
      }
    }
    statements.push(
      db.insert(usageCalls).values({
        id: e.id,
        tenantId: e.tenantId,
        agentId: e.agentId,
        day,
        month,
        model: e.model,
        modelTier: e.modelTier,
        inputTokens: e.inputTokens,
        outputTokens: e.outputTokens,
        thinkingTokens: e.thinkingTokens,
        cacheReadTokens: e.cacheReadTokens,
        cacheWriteTokens: e.cacheWriteTokens,
        quotaTokens: qt,
        usageMissing: e.usageMissing,
        costMicros: cost,
        overageInputTokens: overage.inputTokens,
        overageOutputTokens: overage.outputTokens,
        overageMicros: overage.micros,
        at: e.at,
      }),
      db
        .insert(usageRecords)
        .values({
          tenantId: e.tenantId,
          agentId: e.agentId,
          day,
          month,
          modelTier: e.modelTier,
          calls: 1,
          inputTokens: e.inputTokens,
          outputTokens: e.outputTokens,
          thinkingTokens: e.thinkingTokens,
          cacheReadTokens: e.cacheReadTokens,
          cacheWriteTokens: e.cacheWriteTokens,
          quotaTokens: qt,
          missingUsageCalls: e.usageMissing ? 1 : 0,
          costMicros: cost,
          overageMicros: overage.micros,
        })
        .onConflictDoUpdate({
          target: [usageRecords.agentId, usageRecords.day, usageRecords.modelTier],
          set: {
            calls: sql`${usageRecords.calls} + 1`,
            inputTokens: sql`${usageRecords.inputTokens} + excluded.input_tokens`,
            outputTokens: sql`${usageRecords.outputTokens} + excluded.output_tokens`,
            thinkingTokens: sql`${usageRecords.thinkingTokens} + excluded.thinking_tokens`,
            cacheReadTokens: sql`${usageRecords.cacheReadTokens} + excluded.cache_read_tokens`,
            cacheWriteTokens: sql`${usageRecords.cacheWriteTokens} + excluded.cache_write_tokens`,
            quotaTokens: sql`${usageRecords.quotaTokens} + excluded.quota_tokens`,
            missingUsageCalls: sql`${usageRecords.missingUsageCalls} + excluded.missing_usage_calls`,
            costMicros: sql`${usageRecords.costMicros} + excluded.cost_micros`,
            overageMicros: sql`${usageRecords.overageMicros} + excluded.overage_micros`,
          },
        }),
    );
  }
  for (const a of byId.values()) {
    if (!a.usageMonth || (a.delta === 0 && !a.rolled)) continue;
    // Relative to what is stored, so nothing counted by another writer is lost; the state and the
    // threshold rows are derived from the stored total in the same batch.
    statements.push(
      db
        .update(agents)
        .set({
          monthlyTokensUsed: sql`CASE WHEN ${agents.usageMonth} = ${a.usageMonth} THEN ${agents.monthlyTokensUsed} + ${a.delta} ELSE ${a.delta} END`,
          quotaAcknowledgedAt: sql`CASE WHEN ${agents.usageMonth} = ${a.usageMonth} THEN ${agents.quotaAcknowledgedAt} ELSE NULL END`,
          tokenQuotaResetAt: nextQuotaReset(new Date(`${a.usageMonth}-01T00:00:00Z`)),
          usageMonth: a.usageMonth,
        })
        .where(sql`${agents.id} = ${a.id}`),
      db
        .update(agents)
        .set({ quotaState: sql.raw(QUOTA_STATE_SQL) })
        .where(sql`${agents.id} = ${a.id}`),
    );
    // Threshold rows only for agents near or past one (each fires once a month); the SQL below
    // still checks the stored total, this only skips the statements for agents far below.
    const quota = effectiveQuota(a.tenantQuota, a.override);
    const lowest = QUOTA_THRESHOLDS[0]?.atLeast ?? 0;
    if (quota > 0 && a.used < quota * lowest * 0.95) continue;
    for (const t of QUOTA_THRESHOLDS) {
      if (quota > 0 && a.used < quota * t.atLeast * 0.95) continue;
      statements.push(
        db
          .insert(quotaNotifications)
          .select(
            db
              .select({
                agentId: agents.id,
                month: sql<string>`${agents.usageMonth}`.as("month"),
                state: sql<string>`${t.state}`.as("state"),
                tenantId: agents.tenantId,
                usedTokens: agents.monthlyTokensUsed,
                quota: sql<number>`${sql.raw(QUOTA_SQL)}`.as("quota"),
                at: sql<string>`${a.lastAt || new Date().toISOString()}`.as("at"),
                notifiedAt: sql<string | null>`NULL`.as("notified_at"),
              })
              .from(agents)
              .where(
                and(
                  eq(agents.id, a.id),
                  eq(agents.usageMonth, a.usageMonth),
                  sql`${sql.raw(QUOTA_SQL)} > 0 AND ${agents.monthlyTokensUsed} >= ${sql.raw(QUOTA_SQL)} * ${t.atLeast}`,
                ),
              ),
          )
          .onConflictDoNothing(),
      );
    }
  }
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  const after = await db
    .select({
      id: agents.id,
      tenantId: agents.tenantId,
      state: agents.quotaState,
      used: agents.monthlyTokensUsed,
    })
    .from(agents)
    .where(inArray(agents.id, [...byId.keys()]))
    .all();
  return {
    changes: after
      .filter((a) => a.state !== byId.get(a.id)?.startState)
      .map((a) => ({
        tenantId: a.tenantId,
        agentId: a.id,
        from: byId.get(a.id)?.startState ?? "normal",
        to: a.state as QuotaState,
      })),
    totals: after.map((a) => ({
      tenantId: a.tenantId,
      agentId: a.id,
      monthlyTokensUsed: a.used,
      quotaState: a.state as QuotaState,
    })),
  };
}
