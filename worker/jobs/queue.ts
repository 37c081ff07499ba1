import { z } from "zod";
import { createDb } from "../db/client";
import { runAlertRules } from "../features/alerts/engine";
import { auditEventSchema } from "../features/audit/record";
import { provisionMessageSchema, runProvisioning } from "../features/tenants/provisioning";
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
}
