import { z } from "zod";
import { createDb } from "../db/client";
import { runAlertRules } from "../features/alerts/engine";
import { auditEventSchema, buildAuditEvent, enqueueAudit } from "../features/audit/record";
import { refreshBillingProfiles } from "../features/billing/profile";
import { announceQuotaThresholds } from "../features/billing/quota";
import { billingSyncMessageSchema, syncTenantBilling } from "../features/billing/stripe";
import { type AgentUsageTotal, aggregateUsage, type QuotaChange } from "../features/billing/usage";
import { type UsageEvent, usageMessageSchema } from "../features/gateway/usage";
import { provisionMessageSchema, runProvisioning } from "../features/tenants/provisioning";
import { hubStub } from "../lib/objects";
import { writeAuditEvents } from "./audit-writer";
import {
  emailMessageSchema,
  handleNotify,
  handleNotifyDeadLetter,
  NOTIFY_DLQ,
  webhookMessageSchema,
} from "./notify";

export const queueMessageSchema = z.discriminatedUnion("kind", [
  provisionMessageSchema,
  z.object({ kind: z.literal("audit"), event: auditEventSchema }),
  usageMessageSchema,
  billingSyncMessageSchema,
  webhookMessageSchema,
  emailMessageSchema,
]);

/**
 * One consumer for every queue, dispatching on the message kind. Malformed messages are logged
 * and acked (a retry cannot fix them); a failing message is retried on its own.
 */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx?: ExecutionContext,
): Promise<void> {
  const db = createDb(env.DB);
  const audits: Array<{ msg: Message<unknown>; event: z.infer<typeof auditEventSchema> }> = [];
  const usage: Array<{ msg: Message<unknown>; event: UsageEvent }> = [];
  for (const msg of batch.messages) {
    const parsed = queueMessageSchema.safeParse(msg.body);
    if (!parsed.success) {
      console.error("dropping malformed queue message", {
        queue: batch.queue,
        id: msg.id,
        issues: parsed.error.issues.length,
      });
      msg.ack();
      continue;
    }
    const body = parsed.data;
    if (batch.queue === NOTIFY_DLQ) {
      try {
        if (body.kind === "webhook" || body.kind === "email") await handleNotifyDeadLetter(db, body);
        msg.ack();
      } catch (err) {
        console.error("dead letter handling failed", { id: msg.id, error: String(err) });
        msg.retry();
      }
      continue;
    }
    if (body.kind === "webhook" || body.kind === "email") {
      try {
        await handleNotify(db, env, msg, body);
      } catch (err) {
        console.error("notify message failed", { id: msg.id, kind: body.kind, error: String(err) });
        msg.retry({ delaySeconds: Math.min(300, 2 ** msg.attempts) });
      }
      continue;
    }
    if (body.kind === "audit") {
      audits.push({ msg, event: body.event });
      continue;
    }
    if (body.kind === "usage") {
      usage.push({ msg, event: body.event });
      continue;
    }
    if (body.kind === "billing_sync") {
      try {
        await syncTenantBilling(db, env, body.tenantId);
        msg.ack();
      } catch (err) {
        console.error("billing sync failed", { id: msg.id, tenantId: body.tenantId, error: String(err) });
        msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
      }
      continue;
    }
    try {
      await runProvisioning(db, env, body);
      msg.ack();
    } catch (err) {
      console.error("provisioning message failed", { id: msg.id, error: String(err) });
      msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    }
  }
  if (audits.length) {
    try {
      const events = audits.map((a) => a.event);
      await writeAuditEvents(db, events);
      // After the write, in the same try: a failed evaluation retries the batch, and both steps
      // skip what they already did (event ids, and event ids as alert evidence).
      await runAlertRules(db, env, events);
      for (const a of audits) a.msg.ack();
    } catch (err) {
      console.error("audit batch failed", { count: audits.length, error: String(err) });
      for (const a of audits) a.msg.retry();
    }
  }
  if (usage.length) {
    try {
      const { changes, totals } = await aggregateUsage(
        db,
        usage.map((u) => u.event),
      );
      // The gateway's copy of each changed state, then the threshold notices; both are repeated
      // safely by a retry (profiles are absolute, notices are claimed once).
      for (const [tenantId, ids] of groupBy(changes)) await refreshBillingProfiles(db, env, tenantId, ids);
      await publishUsage(env, totals);
      await announceQuotaThresholds(db, env);
      // A call the upstream answered without usage is counted as zero, never guessed: say so.
      await enqueueAudit(
        env,
        usage
          .filter((u) => u.event.usageMissing)
          .map(({ event: e }) =>
            buildAuditEvent({
              action: "model.usage_missing",
              tenantId: e.tenantId,
              target: { type: "agent", id: e.agentId },
              severity: "medium",
              details: { usageId: e.id, model: e.model, stream: e.stream },
              actor: { type: "system", id: null, name: "gateway" },
            }),
          ),
      );
      for (const u of usage) u.msg.ack();
    } catch (err) {
      console.error("usage batch failed", { count: usage.length, error: String(err) });
      for (const u of usage) u.msg.retry({ delaySeconds: Math.min(60, 2 ** u.msg.attempts) });
    }
  }
}

/** The tenant feed's `usage` event: live month totals for the billing page and agent views. */
async function publishUsage(env: Env, totals: AgentUsageTotal[]): Promise<void> {
  const byTenant = new Map<string, AgentUsageTotal[]>();
  for (const t of totals) byTenant.set(t.tenantId, [...(byTenant.get(t.tenantId) ?? []), t]);
  const at = new Date().toISOString();
  await Promise.all(
    [...byTenant].map(async ([tenantId, list]) => {
      try {
        await hubStub(env, tenantId).publish({
          event: "usage",
          agents: list.map(({ agentId, monthlyTokensUsed, quotaState }) => ({
            agentId,
            monthlyTokensUsed,
            quotaState,
          })),
          at,
        });
      } catch (err) {
        console.error("usage feed event failed", { tenantId, error: String(err) });
      }
    }),
  );
}

function groupBy(changes: QuotaChange[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of changes) out.set(c.tenantId, [...(out.get(c.tenantId) ?? []), c.agentId]);
  return out;
}
