import { z } from "zod";
import type { Database } from "../db/client";
import { attemptDelivery, backoffSeconds, markDeliveryDead } from "../features/webhooks/delivery";

export const webhookMessageSchema = z.object({
  kind: z.literal("webhook"),
  id: z.string().min(1),
  deliveryId: z.string().min(1),
});
export const emailMessageSchema = z.object({
  kind: z.literal("email"),
  id: z.string().min(1),
  to: z.string().min(3).max(254),
  subject: z.string().min(1).max(300),
  text: z.string().max(20_000),
});
/** Messages on the NOTIFY queue (`aegis-notify`). */
export const notifyMessageSchema = z.discriminatedUnion("kind", [webhookMessageSchema, emailMessageSchema]);
export type NotifyMessage = z.infer<typeof notifyMessageSchema>;

/** The dead-letter queue of NOTIFY: messages whose retries are exhausted arrive here. */
export const NOTIFY_DLQ = "aegis-notify-dlq";

const MAIL_TIMEOUT_MS = 10_000;

/**
 * Sends one email through the mail API: a JSON POST of `{ from, to, subject, text }` with the
 * bearer key, and the message id as `Idempotency-Key` so a retried send is not delivered twice.
 * Returns the error of a failed attempt, or null.
 */
export async function sendEmail(env: Env, m: z.infer<typeof emailMessageSchema>): Promise<string | null> {
  if (!env.MAIL_API_URL) {
    console.warn("MAIL_API_URL is not set; dropping email", { id: m.id, subject: m.subject });
    return null;
  }
  try {
    const res = await fetch(env.MAIL_API_URL, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${env.MAIL_API_KEY}`,
        "idempotency-key": m.id,
      },
      body: JSON.stringify({ from: env.MAIL_FROM, to: m.to, subject: m.subject, text: m.text }),
      signal: AbortSignal.timeout(MAIL_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.ok ? null : `mail API answered ${res.status}`;
  } catch (err) {
    return `mail API unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** One NOTIFY message: acked when done, retried on its own with exponential backoff otherwise. */
export async function handleNotify(
  db: Database,
  env: Env,
  msg: Message<unknown>,
  body: NotifyMessage,
): Promise<void> {
  if (body.kind === "webhook") {
    const outcome = await attemptDelivery(db, env, body.deliveryId);
    if (outcome.result === "done") msg.ack();
    else msg.retry({ delaySeconds: outcome.delaySeconds });
    return;
  }
  const error = await sendEmail(env, body);
  if (error === null) {
    msg.ack();
    return;
  }
  console.error("email send failed", { id: body.id, attempts: msg.attempts, error });
  msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
}

/** A NOTIFY message whose retries are exhausted: its webhook delivery is marked `dead`. */
export async function handleNotifyDeadLetter(db: Database, body: NotifyMessage): Promise<void> {
  if (body.kind === "webhook") await markDeliveryDead(db, body.deliveryId);
  else console.error("email undeliverable after retries", { id: body.id, subject: body.subject });
}
