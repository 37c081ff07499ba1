import { and, asc, eq, isNull } from "drizzle-orm";
import type { Database } from "../../db/client";
import { agents, quotaNotifications, users } from "../../db/schema";
import { newId } from "../../lib/ids";
import { hubStub } from "../../lib/objects";
import type { QuotaState } from "../../lib/pricing";
import { type AuditEvent, buildAuditEvent, enqueueAudit } from "../audit/record";

const SEVERITY: Record<QuotaState, AuditEvent["severity"]> = {
  normal: "info",
  warning: "low",
  grace: "medium",
  rate_limited: "medium",
  paused: "high",
};

const WHAT_HAPPENS: Record<QuotaState, string> = {
  normal: "",
  warning: "The agent keeps working. At 100% it enters its grace period.",
  grace:
    "The agent keeps working. At 120% its model calls are limited to one per 10 seconds unless overage billing is on.",
  rate_limited:
    "Its model calls are limited to one per 10 seconds (unless overage billing is on). At 150% it is paused.",
  paused:
    "Its model calls are refused (unless overage billing is on) until a tenant admin acknowledges it under Billing or raises its quota.",
};

const PERCENT: Record<QuotaState, number> = {
  normal: 0,
  warning: 80,
  grace: 100,
  rate_limited: 120,
  paused: 150,
};

/**
 * Sends what the usage consumer recorded as newly reached thresholds: an audit event, the live
 * feed event (the dashboard banner) and one email to each tenant admin — then marks the row. A row
 * left unmarked (a failure half-way) is sent by the next run; each threshold once per agent per month.
 */
export async function announceQuotaThresholds(db: Database, env: Env, limit = 100): Promise<number> {
  const pending = await db
    .select({
      agentId: quotaNotifications.agentId,
      month: quotaNotifications.month,
      state: quotaNotifications.state,
      tenantId: quotaNotifications.tenantId,
      usedTokens: quotaNotifications.usedTokens,
      quota: quotaNotifications.quota,
      at: quotaNotifications.at,
      name: agents.name,
    })
    .from(quotaNotifications)
    .leftJoin(agents, eq(agents.id, quotaNotifications.agentId))
    .where(isNull(quotaNotifications.notifiedAt))
    .orderBy(asc(quotaNotifications.at))
    .limit(limit)
    .all();
  let sent = 0;
  for (const n of pending) {
    const key = and(
      eq(quotaNotifications.agentId, n.agentId),
      eq(quotaNotifications.month, n.month),
      eq(quotaNotifications.state, n.state),
    );
    // Claimed first, so two runs at once never both send it; a failed send gives the claim back.
    const claimed = await db
      .update(quotaNotifications)
      .set({ notifiedAt: new Date().toISOString() })
      .where(and(key, isNull(quotaNotifications.notifiedAt)))
      .returning({ agentId: quotaNotifications.agentId })
      .all();
    if (claimed.length === 0) continue;
    try {
      await announce(db, env, n);
    } catch (err) {
      await db.update(quotaNotifications).set({ notifiedAt: null }).where(key);
      throw err;
    }
    sent++;
  }
  return sent;
}

async function announce(
  db: Database,
  env: Env,
  n: {
    agentId: string;
    month: string;
    state: string;
    tenantId: string;
    usedTokens: number;
    quota: number;
    at: string;
    name: string | null;
  },
): Promise<void> {
  const state = n.state as QuotaState;
  const name = n.name ?? n.agentId;
  const percent = PERCENT[state];
  await enqueueAudit(env, [
    buildAuditEvent({
      action: `agent.quota_${state}`,
      tenantId: n.tenantId,
      target: { type: "agent", id: n.agentId },
      severity: SEVERITY[state],
      details: { month: n.month, usedTokens: n.usedTokens, quota: n.quota, threshold: `${percent}%` },
      actor: { type: "system", id: null, name: "usage" },
    }),
  ]);
  try {
    await hubStub(env, n.tenantId).publish({
      event: "quota",
      agentId: n.agentId,
      name,
      state,
      usedTokens: n.usedTokens,
      quota: n.quota,
      at: n.at,
    });
  } catch (err) {
    // The banner also reads the agent's state from D1; the feed event only makes it immediate.
    console.error("quota feed event failed", { agentId: n.agentId, error: String(err) });
  }
  const admins = await db
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.tenantId, n.tenantId), eq(users.role, "tenant_admin"), eq(users.status, "active")))
    .all();
  if (admins.length > 0) {
    const subject = `[Aegis] ${name} reached ${percent}% of its monthly token quota`;
    const text = [
      `The agent ${name} has used ${n.usedTokens.toLocaleString("en-US")} of its ${n.quota.toLocaleString("en-US")} tokens for ${n.month} (${percent}% threshold).`,
      "",
      WHAT_HAPPENS[state],
      "",
      "See Billing in the Aegis dashboard for usage by agent and day.",
    ].join("\n");
    await env.NOTIFY.sendBatch(
      admins.map((a) => ({
        body: { kind: "email" as const, id: newId("ntf"), to: a.email, subject, text },
      })),
    );
  }
}
