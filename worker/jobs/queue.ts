import { z } from "zod";
import { createDb } from "../db/client";
import { auditEventSchema } from "../features/audit/record";
import { provisionMessageSchema, runProvisioning } from "../features/tenants/provisioning";
import { writeAuditEvents } from "./audit-writer";

export const queueMessageSchema = z.discriminatedUnion("kind", [
  provisionMessageSchema,
  z.object({ kind: z.literal("audit"), event: auditEventSchema }),
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
      await writeAuditEvents(
        db,
        audits.map((a) => a.event),
      );
      for (const a of audits) a.msg.ack();
    } catch (err) {
      console.error("audit batch failed", { count: audits.length, error: String(err) });
      for (const a of audits) a.msg.retry();
    }
  }
}
