import { and, eq, notInArray, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { webhookDeliveries, webhooks } from "../../db/schema";
import { hmacSha256Hex, openSecret } from "../../lib/crypto";
import { WEBHOOK_SECRET_PURPOSE } from "./service";
import { webhookUrlProblem } from "./url";

/** How long a receiver has to answer one attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Retry delay after the n-th failed attempt: 2^n seconds, at most this. */
export const MAX_BACKOFF_SECONDS = 300;

export const backoffSeconds = (attempts: number) => Math.min(MAX_BACKOFF_SECONDS, 2 ** attempts);

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` */
export async function signatureHeader(secret: string, body: string, unixSeconds: number): Promise<string> {
  return `t=${unixSeconds},v1=${await hmacSha256Hex(secret, `${unixSeconds}.${body}`)}`;
}

export type DeliveryOutcome =
  | { result: "done" }
  | { result: "retry"; delaySeconds: number; attempts: number; error: string };

const FINAL = ["succeeded", "dead"];

async function markDead(db: Database, id: string, error: string) {
  await db
    .update(webhookDeliveries)
    .set({ status: "dead", lastError: error, nextAttemptAt: null })
    .where(and(eq(webhookDeliveries.id, id), notInArray(webhookDeliveries.status, FINAL)))
    .run();
}

/**
 * One attempt at a delivery: POSTs its fixed body, signed with a fresh timestamp, and records the
 * attempt. Idempotent for finished deliveries (succeeded or dead: nothing is sent). Any 2xx is a
 * success; anything else, a timeout or a network error is a failed attempt to retry with backoff.
 */
export async function attemptDelivery(
  db: Database,
  env: Env,
  deliveryId: string,
  fetcher: typeof fetch = fetch,
): Promise<DeliveryOutcome> {
  const delivery = await db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.id, deliveryId))
    .get();
  if (!delivery || FINAL.includes(delivery.status)) return { result: "done" };
  const hook = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, delivery.webhookId), eq(webhooks.tenantId, delivery.tenantId)))
    .get();
  if (hook?.status !== "active") {
    await markDead(db, delivery.id, hook ? "webhook disabled" : "webhook deleted");
    return { result: "done" };
  }
  // Checked again at send time: the rules (or AEGIS_ENV) may have changed since it was saved.
  const problem = webhookUrlProblem(hook.url, { development: env.AEGIS_ENV === "development" });
  if (problem) {
    await markDead(db, delivery.id, `URL not allowed: ${problem}`);
    return { result: "done" };
  }
  const secret = await openSecret(env.AUTH_SECRET, WEBHOOK_SECRET_PURPOSE, hook.secretCiphertext, hook.id);
  if (secret === null) {
    await markDead(db, delivery.id, "signing secret cannot be decrypted (AUTH_SECRET changed?)");
    return { result: "done" };
  }

  let status: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetcher(hook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Aegis-Webhooks/1",
        "x-aegis-event": delivery.event,
        "x-aegis-delivery": delivery.id,
        "x-aegis-signature": await signatureHeader(secret, delivery.payload, Math.floor(Date.now() / 1000)),
      },
      body: delivery.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel();
    if (status < 200 || status >= 300) error = `HTTP ${status}`;
  } catch (err) {
    error =
      err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")
        ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`
        : `network error: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
  }

  const now = Date.now();
  const delaySeconds = backoffSeconds(delivery.attempts + 1);
  const [after] = await db
    .update(webhookDeliveries)
    .set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastStatusCode: status,
      lastError: error,
      status: error ? "failed" : "succeeded",
      deliveredAt: error ? null : new Date(now).toISOString(),
      nextAttemptAt: error ? new Date(now + delaySeconds * 1000).toISOString() : null,
    })
    .where(and(eq(webhookDeliveries.id, delivery.id), notInArray(webhookDeliveries.status, FINAL)))
    .returning({ attempts: webhookDeliveries.attempts });
  if (!error || !after) return { result: "done" };
  return { result: "retry", delaySeconds: backoffSeconds(after.attempts), attempts: after.attempts, error };
}

/** The dead-letter consumer: retries are exhausted. */
export async function markDeliveryDead(db: Database, deliveryId: string): Promise<void> {
  const row = await db
    .select({ lastError: webhookDeliveries.lastError })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.id, deliveryId))
    .get();
  if (!row) return;
  await markDead(db, deliveryId, `retries exhausted${row.lastError ? ` (last: ${row.lastError})` : ""}`);
}
