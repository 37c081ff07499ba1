import { and, count, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../../db/client";
import { webhookDeliveries, webhooks } from "../../db/schema";
import { sealSecret } from "../../lib/crypto";
import { conflict, ScopedNotFound, validationFailed } from "../../lib/errors";
import { newId, randomToken } from "../../lib/ids";
import { webhookUrlProblem } from "./url";

export const WEBHOOK_EVENTS = ["alert.raised", "alert.acknowledged", "alert.resolved", "test"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** HKDF purpose of the key that encrypts signing secrets at rest (from `AUTH_SECRET`). */
export const WEBHOOK_SECRET_PURPOSE = "aegis/webhook-signing-secret/v1";
/** Webhooks per tenant. */
export const MAX_WEBHOOKS = 10;

type WebhookRow = typeof webhooks.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const Events = z.array(z.enum(WEBHOOK_EVENTS));

function parseEvents(text: string): WebhookEvent[] {
  try {
    const parsed = Events.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function presentDelivery(d: DeliveryRow) {
  return {
    id: d.id,
    webhookId: d.webhookId,
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    nextAttemptAt: d.nextAttemptAt,
    deliveredAt: d.deliveredAt,
    createdAt: d.createdAt,
    payload: parsePayload(d.payload),
  };
}

export function presentWebhook(w: WebhookRow, last: DeliveryRow | null) {
  return {
    id: w.id,
    url: w.url,
    events: parseEvents(w.events),
    status: w.status,
    secretPrefix: w.secretPrefix,
    createdAt: w.createdAt,
    lastDelivery: last ? presentDelivery(last) : null,
  };
}

/** `whsec_` and 32 base32 characters; only the first 10 characters are ever shown again. */
export function generateWebhookSecret(): { secret: string; prefix: string } {
  const secret = `whsec_${randomToken(32)}`;
  return { secret, prefix: secret.slice(0, 10) };
}

/** 400 with the field path `url` when the URL is not one a webhook may point at. */
export function assertWebhookUrl(env: Env, url: string): void {
  const problem = webhookUrlProblem(url, { development: env.AEGIS_ENV === "development" });
  if (problem) throw validationFailed({ url: [problem] });
}

async function lastDelivery(db: Database, webhookId: string): Promise<DeliveryRow | null> {
  return (
    (await db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.webhookId, webhookId))
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .get()) ?? null
  );
}

export async function listWebhooks(db: Database, tenantId: string) {
  const rows = await db
    .select()
    .from(webhooks)
    .where(eq(webhooks.tenantId, tenantId))
    .orderBy(desc(webhooks.createdAt), desc(webhooks.id))
    .all();
  return Promise.all(rows.map(async (w) => presentWebhook(w, await lastDelivery(db, w.id))));
}

export async function getWebhook(db: Database, tenantId: string, id: string): Promise<WebhookRow> {
  const row = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), eq(webhooks.tenantId, tenantId)))
    .get();
  if (!row) throw new ScopedNotFound("Webhook", "webhooks", id);
  return row;
}

/** The secret is returned this once; D1 keeps it AES-GCM encrypted, bound to the webhook id. */
export async function createWebhook(
  db: Database,
  env: Env,
  tenantId: string,
  input: { url: string; events: WebhookEvent[] },
  createdBy: string | null,
) {
  assertWebhookUrl(env, input.url);
  const existing = await db
    .select({ n: count() })
    .from(webhooks)
    .where(eq(webhooks.tenantId, tenantId))
    .get();
  if ((existing?.n ?? 0) >= MAX_WEBHOOKS) {
    throw conflict(`A tenant may have at most ${MAX_WEBHOOKS} webhooks`, "webhook_limit_reached");
  }
  const id = newId("wh");
  const { secret, prefix } = generateWebhookSecret();
  const [created] = await db
    .insert(webhooks)
    .values({
      id,
      tenantId,
      url: input.url,
      events: JSON.stringify([...new Set(input.events)]),
      secretCiphertext: await sealSecret(env.AUTH_SECRET, WEBHOOK_SECRET_PURPOSE, secret, id),
      secretPrefix: prefix,
      createdBy,
    })
    .returning();
  if (!created) throw new Error("webhook insert returned nothing");
  return { webhook: presentWebhook(created, null), secret };
}

export async function deleteWebhook(db: Database, tenantId: string, id: string) {
  const res = await db
    .delete(webhooks)
    .where(and(eq(webhooks.id, id), eq(webhooks.tenantId, tenantId)))
    .run();
  if (res.meta.changes !== 1) throw new ScopedNotFound("Webhook", "webhooks", id);
}

export async function listDeliveries(db: Database, tenantId: string, webhookId: string, limit: number) {
  await getWebhook(db, tenantId, webhookId);
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.tenantId, tenantId)))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit)
    .all();
  return rows.map(presentDelivery);
}

/**
 * Records one delivery (status `pending`) of an event to a webhook. The body is fixed here, so
 * every retry sends the same bytes under the same `X-Aegis-Delivery` id.
 */
export async function createDelivery(
  db: Database,
  webhook: Pick<WebhookRow, "id" | "tenantId">,
  event: WebhookEvent,
  data: unknown,
): Promise<DeliveryRow> {
  const id = newId("whd");
  const createdAt = new Date().toISOString();
  const payload = JSON.stringify({ id, event, createdAt, tenantId: webhook.tenantId, data });
  const [row] = await db
    .insert(webhookDeliveries)
    .values({ id, webhookId: webhook.id, tenantId: webhook.tenantId, event, payload, createdAt })
    .returning();
  if (!row) throw new Error("delivery insert returned nothing");
  return row;
}

/** Queues the delivery for the NOTIFY consumer (worker/jobs/notify.ts). */
export async function enqueueDeliveries(env: Env, deliveries: DeliveryRow[]): Promise<void> {
  if (deliveries.length === 0) return;
  await env.NOTIFY.sendBatch(
    deliveries.map((d) => ({ body: { kind: "webhook" as const, id: newId("ntf"), deliveryId: d.id } })),
  );
}

/** One delivery per active webhook of the tenant subscribed to `event`. */
export async function publishWebhookEvent(
  db: Database,
  env: Env,
  tenantId: string,
  event: WebhookEvent,
  data: unknown,
): Promise<DeliveryRow[]> {
  const hooks = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.status, "active")))
    .all();
  const deliveries: DeliveryRow[] = [];
  for (const w of hooks) {
    if (parseEvents(w.events).includes(event)) deliveries.push(await createDelivery(db, w, event, data));
  }
  await enqueueDeliveries(env, deliveries);
  return deliveries;
}
