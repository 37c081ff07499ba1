import { api } from "../api";
import type { ListOf } from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

/** Mirrors `WEBHOOK_EVENTS` and the schemas in worker/features/webhooks. */
export const WEBHOOK_EVENTS = ["alert.raised", "alert.acknowledged", "alert.resolved", "test"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  event: string;
  /** pending | succeeded | failed (will retry) | dead */
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  payload: unknown;
}

export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  status: string;
  secretPrefix: string;
  createdAt: string;
  lastDelivery: WebhookDelivery | null;
}

const BASE = "/api/dashboard/webhooks";
const one = (id: string) => `${BASE}/${encodeURIComponent(id)}`;

export const webhooks = resource((signal) => api.get<ListOf<Webhook>>(BASE, undefined, signal));

export async function createWebhook(
  url: string,
  events: WebhookEvent[],
): Promise<{ webhook: Webhook; secret: string }> {
  const res = await api.post<{ webhook: Webhook; secret: string }>(BASE, { url, events });
  await webhooks.load();
  return res;
}

export async function deleteWebhook(id: string): Promise<void> {
  await api.del(one(id));
  await webhooks.load();
}

export async function sendTestEvent(id: string): Promise<WebhookDelivery> {
  const res = await api.post<{ delivery: WebhookDelivery }>(`${one(id)}/test`);
  return res.delivery;
}

export function listDeliveries(id: string, signal?: AbortSignal): Promise<ListOf<WebhookDelivery>> {
  return api.get<ListOf<WebhookDelivery>>(`${one(id)}/deliveries`, { limit: 50 }, signal);
}

onSessionReset(() => webhooks.reset());
