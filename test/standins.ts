import { expect, inject, vi } from "vitest";
import type { Json } from "./helpers";

/** Helpers for the stand-ins started by test/standins-setup.ts (real HTTP servers on 127.0.0.1). */

/** A receiver URL of its own, so tests running side by side never see each other's deliveries. */
export function receiverEndpoint(): { url: string; path: string } {
  const path = `/hooks/${crypto.randomUUID()}`;
  return { url: `${inject("receiverUrl")}${path}`, path };
}

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  answered: number;
}

export async function receivedAt(path: string): Promise<Received[]> {
  const res = await fetch(`${inject("receiverUrl")}/deliveries?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { data: Received[] }).data;
}

/** Waits until the receiver has had `count` requests at `path`, and returns them. */
export async function waitForReceived(path: string, count = 1): Promise<Received[]> {
  let got: Received[] = [];
  await vi.waitFor(
    async () => {
      got = await receivedAt(path);
      expect(got.length).toBeGreaterThanOrEqual(count);
    },
    { timeout: 10_000, interval: 50 },
  );
  return got;
}

/** Makes the receiver answer the next `count` requests at `path` with 500. */
export async function failNext(path: string, count: number): Promise<void> {
  const res = await fetch(`${inject("receiverUrl")}/fail`, {
    method: "POST",
    body: JSON.stringify({ path, count }),
  });
  expect(res.status).toBe(200);
}

export async function mailTo(email: string): Promise<Json[]> {
  const res = await fetch(`${inject("mailUrl")}/messages?to=${encodeURIComponent(email)}`);
  return ((await res.json()) as { data: Json[] }).data;
}

/**
 * Verifies `X-Aegis-Signature` the way an integrator would, with WebCrypto and nothing of ours:
 * `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 */
export async function signatureValid(secret: string, header: string, body: string): Promise<boolean> {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m?.[1] || !m[2]) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const sig = new Uint8Array(m[2].match(/../g)?.map((h) => Number.parseInt(h, 16)) ?? []);
  return crypto.subtle.verify("HMAC", key, sig, new TextEncoder().encode(`${m[1]}.${body}`));
}
