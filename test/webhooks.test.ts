import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../worker/app";
import { webhookDeliveries, webhooks } from "../worker/db/schema";
import { buildAuditEvent } from "../worker/features/audit/record";
import { backoffSeconds } from "../worker/features/webhooks/delivery";
import { createDelivery } from "../worker/features/webhooks/service";
import worker from "../worker/index";
import { openSecret } from "../worker/lib/crypto";
import {
  auditRows,
  call,
  callJson,
  db,
  deliverAudit,
  env,
  ORIGIN,
  operatorToken,
  provisionTenant,
  type TenantFixture,
} from "./helpers";
import { failNext, receivedAt, receiverEndpoint, signatureValid, waitForReceived } from "./standins";

let op: string;
let t: TenantFixture;
let other: TenantFixture;

beforeAll(async () => {
  op = await operatorToken();
  t = await provisionTenant(op);
  other = await provisionTenant(op);
});

async function createHook(tenant: TenantFixture, url: string, events: string[] = ["alert.raised"]) {
  const res = await callJson("POST", "/api/dashboard/webhooks", {
    token: tenant.adminToken,
    body: { url, events },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { webhook: { id: string; secretPrefix: string }; secret: string };
}

/**
 * One delivery attempt through the real queue handler, as the NOTIFY queue would run it; `retries`
 * holds the options of each `msg.retry()` (getQueueResult does not report the delay).
 */
async function attempt(deliveryId: string, attempts: number, queue = "aegis-notify") {
  const batch = createMessageBatch(queue, [
    {
      id: `n-${attempts}-${deliveryId}`,
      timestamp: new Date(),
      attempts,
      body: { kind: "webhook", id: "ntf_t", deliveryId },
    },
  ]);
  const retries: unknown[] = [];
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    m.retry = (options) => {
      retries.push(options);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { ...(await getQueueResult(batch, ctx)), retries };
}

const deliveriesOf = async (tenant: TenantFixture, webhookId: string) =>
  (await callJson("GET", `/api/dashboard/webhooks/${webhookId}/deliveries`, { token: tenant.adminToken }))
    .body.data;

describe("managing webhooks", () => {
  it("shows the secret once, lists only its prefix, and never stores it in clear", async () => {
    const { url } = receiverEndpoint();
    const created = await createHook(t, url, ["alert.raised", "alert.resolved"]);
    expect(created.secret).toMatch(/^whsec_[a-z0-9]{32}$/);
    expect(created.webhook).toMatchObject({
      url,
      events: ["alert.raised", "alert.resolved"],
      status: "active",
      secretPrefix: created.secret.slice(0, 10),
      lastDelivery: null,
    });

    const list = await callJson("GET", "/api/dashboard/webhooks", { token: t.adminToken });
    expect(list.status).toBe(200);
    expect(list.body.data.find((w: { id: string }) => w.id === created.webhook.id)).toMatchObject({
      secretPrefix: created.secret.slice(0, 10),
    });
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    expect(JSON.stringify(list.body)).not.toContain(created.secret.slice(10));

    const table = await env.DB.prepare("SELECT * FROM webhooks").all();
    const dump = JSON.stringify(table.results);
    expect(dump).toContain(created.webhook.id);
    expect(dump).not.toContain(created.secret.slice(6));
    // …but it is the secret, encrypted under AUTH_SECRET and bound to this row
    const row = await db().select().from(webhooks).where(eq(webhooks.id, created.webhook.id)).get();
    const purpose = "aegis/webhook-signing-secret/v1";
    expect(await openSecret(env.AUTH_SECRET, purpose, row?.secretCiphertext ?? "", created.webhook.id)).toBe(
      created.secret,
    );
    expect(await openSecret(env.AUTH_SECRET, purpose, row?.secretCiphertext ?? "", "wh_other")).toBeNull();

    await vi.waitFor(async () => {
      const audited = (await auditRows(t.tenantId)).filter((r) => r.action === "webhook.created");
      expect(audited.some((r) => r.targetId === created.webhook.id)).toBe(true);
      expect(JSON.stringify(audited)).not.toContain(created.secret.slice(6));
    });
  });

  it("keeps tenants apart: 404 for another tenant's webhook, 403 for a member, 401 without a token", async () => {
    const created = await createHook(t, receiverEndpoint().url);
    const id = created.webhook.id;
    for (const [method, path] of [
      ["DELETE", `/api/dashboard/webhooks/${id}`],
      ["GET", `/api/dashboard/webhooks/${id}/deliveries`],
      ["POST", `/api/dashboard/webhooks/${id}/test`],
    ] as const) {
      const res = await callJson(method, path, { token: other.adminToken });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe("not_found");
    }
    const theirs = await callJson("GET", "/api/dashboard/webhooks", { token: other.adminToken });
    expect(theirs.body.data.map((w: { id: string }) => w.id)).not.toContain(id);

    const member = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: t.adminToken,
      body: { name: "hooks-viewer", role: "tenant_member" },
    });
    expect((await call("GET", "/api/dashboard/webhooks", { token: member.body.key })).status).toBe(200);
    const denied = await callJson("POST", "/api/dashboard/webhooks", {
      token: member.body.key,
      body: { url: receiverEndpoint().url, events: ["test"] },
    });
    expect(denied.status).toBe(403);
    expect((await call("DELETE", `/api/dashboard/webhooks/${id}`, { token: member.body.key })).status).toBe(
      403,
    );
    expect((await call("GET", "/api/dashboard/webhooks")).status).toBe(401);

    expect((await call("DELETE", `/api/dashboard/webhooks/${id}`, { token: t.adminToken })).status).toBe(204);
    expect((await call("DELETE", `/api/dashboard/webhooks/${id}`, { token: t.adminToken })).status).toBe(404);
    const after = await callJson("GET", "/api/dashboard/webhooks", { token: t.adminToken });
    expect(after.body.data.map((w: { id: string }) => w.id)).not.toContain(id);
  });

  it("refuses URLs that are not https or point at private, loopback or link-local addresses", async () => {
    const bad = [
      "not a url",
      "ftp://hooks.example.com/x",
      "http://hooks.example.com/x",
      "https://10.0.0.8/hook",
      "https://172.20.1.1/hook",
      "https://192.168.1.10/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/hook",
      "https://0.0.0.0/hook",
      "https://[fe80::1]/hook",
      "https://[fd12:3456::1]/hook",
      "https://[::ffff:10.0.0.1]/hook",
      "https://user:pass@hooks.example.com/x",
      "https://intranet/hook",
      "https://printer.local/hook",
    ];
    for (const url of bad) {
      const res = await callJson("POST", "/api/dashboard/webhooks", {
        token: t.adminToken,
        body: { url, events: ["alert.raised"] },
      });
      expect(res.status, url).toBe(400);
      expect(Object.keys(res.body.details), url).toEqual(["url"]);
    }
    const events = await callJson("POST", "/api/dashboard/webhooks", {
      token: t.adminToken,
      body: { url: "https://hooks.example.com/x", events: [] },
    });
    expect(events.status).toBe(400);
    expect(Object.keys(events.body.details)).toEqual(["events"]);
    const unknown = await callJson("POST", "/api/dashboard/webhooks", {
      token: t.adminToken,
      body: { url: "https://hooks.example.com/x", events: ["agent.created"] },
    });
    expect(Object.keys(unknown.body.details)).toEqual(["events.0"]);
  });

  it("allows http://127.0.0.1 and localhost only in development; production wants public https", async () => {
    const production = { ...env, AEGIS_ENV: "production" } as unknown as Env;
    const post = async (url: string, bindings: Env) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`${ORIGIN}/api/dashboard/webhooks`, {
          method: "POST",
          headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ url, events: ["test"] }),
        }),
        bindings,
        ctx,
      );
      return { status: res.status, body: (await res.json()) as { details?: Record<string, string[]> } };
    };
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://localhost:3000/hook",
      "https://localhost/hook",
      "http://[::1]:9/x",
    ]) {
      expect((await post(url, env)).status, `dev ${url}`).toBe(201);
      const prod = await post(url, production);
      expect(prod.status, `production ${url}`).toBe(400);
      expect(Object.keys(prod.body.details ?? {})).toEqual(["url"]);
    }
    expect((await post("https://hooks.example.com/aegis", production)).status).toBe(201);
    expect((await post("http://hooks.example.com/aegis", production)).status).toBe(400);
    for (const w of (await callJson("GET", "/api/dashboard/webhooks", { token: t.adminToken })).body.data) {
      await call("DELETE", `/api/dashboard/webhooks/${w.id}`, { token: t.adminToken });
    }
  });
});

describe("deliveries", () => {
  it("a raised alert reaches the receiver signed with the webhook's secret, with a unique delivery id", async () => {
    const tenant = await provisionTenant(op);
    const endpoint = receiverEndpoint();
    const hook = await createHook(tenant, endpoint.url, ["alert.raised", "test"]);
    const agentId = `agt_${crypto.randomUUID().slice(0, 8)}`;
    await deliverAudit([
      buildAuditEvent({
        action: "skill.permission_denied",
        tenantId: tenant.tenantId,
        actor: { type: "agent", id: agentId, name: agentId },
        target: { type: "skill", id: "fs" },
        severity: "high",
      }),
    ]);
    const [got] = await waitForReceived(endpoint.path);
    if (!got) throw new Error("nothing received");
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["x-aegis-event"]).toBe("alert.raised");
    const signature = got.headers["x-aegis-signature"] ?? "";
    expect(await signatureValid(hook.secret, signature, got.body)).toBe(true);
    expect(await signatureValid(`${hook.secret}x`, signature, got.body)).toBe(false);
    expect(await signatureValid(hook.secret, signature, got.body.replace("alert", "alerT"))).toBe(false);
    const t0 = Number(/^t=(\d+),/.exec(signature)?.[1]);
    expect(Math.abs(t0 - Date.now() / 1000)).toBeLessThan(300);

    const body = JSON.parse(got.body);
    expect(body).toMatchObject({
      event: "alert.raised",
      tenantId: tenant.tenantId,
      data: { alert: { rule: "skill_undeclared_permission", severity: "high", status: "open" } },
    });
    expect(got.headers["x-aegis-delivery"]).toBe(body.id);

    const test = await callJson("POST", `/api/dashboard/webhooks/${hook.webhook.id}/test`, {
      token: tenant.adminToken,
    });
    expect(test.status).toBe(202);
    const both = await waitForReceived(endpoint.path, 2);
    const second = both.find((r) => r.headers["x-aegis-event"] === "test");
    expect(second?.headers["x-aegis-delivery"]).toBe(test.body.delivery.id);
    expect(second?.headers["x-aegis-delivery"]).not.toBe(got.headers["x-aegis-delivery"]);
    expect(
      await signatureValid(hook.secret, second?.headers["x-aegis-signature"] ?? "", second?.body ?? ""),
    ).toBe(true);

    await vi.waitFor(async () => {
      const list = await deliveriesOf(tenant, hook.webhook.id);
      expect(list).toHaveLength(2);
      expect(
        list.every((d: { status: string; attempts: number }) => d.status === "succeeded" && d.attempts === 1),
      ).toBe(true);
    });
    const hooks = await callJson("GET", "/api/dashboard/webhooks", { token: tenant.adminToken });
    expect(hooks.body.data[0].lastDelivery).toMatchObject({ status: "succeeded", lastStatusCode: 200 });
  });

  it("a receiver failing twice gets the delivery on the third attempt, with backoff and the same delivery id", async () => {
    const endpoint = receiverEndpoint();
    const hook = await createHook(t, endpoint.url, ["test"]);
    const delivery = await createDelivery(db(), { id: hook.webhook.id, tenantId: t.tenantId }, "test", {
      n: 1,
    });
    await failNext(endpoint.path, 2);

    const first = await attempt(delivery.id, 1);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toEqual([{ msgId: `n-1-${delivery.id}` }]);
    expect(first.retries).toEqual([{ delaySeconds: 2 }]);
    let seen = (await deliveriesOf(t, hook.webhook.id))[0];
    expect(seen).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 500, lastError: "HTTP 500" });
    const wait = Date.parse(seen.nextAttemptAt) - Date.now();
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(2000);

    const second = await attempt(delivery.id, 2);
    expect(second.retryMessages).toEqual([{ msgId: `n-2-${delivery.id}` }]);
    expect(second.retries).toEqual([{ delaySeconds: 4 }]);
    const third = await attempt(delivery.id, 3);
    expect(third.retryMessages).toEqual([]);
    expect(third.retries).toEqual([]);
    expect(third.explicitAcks).toEqual([`n-3-${delivery.id}`]);

    seen = (await deliveriesOf(t, hook.webhook.id))[0];
    expect(seen).toMatchObject({
      id: delivery.id,
      status: "succeeded",
      attempts: 3,
      lastStatusCode: 200,
      lastError: null,
    });
    expect(seen.deliveredAt).toEqual(expect.any(String));
    const received = await receivedAt(endpoint.path);
    expect(received.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(received.map((r) => r.headers["x-aegis-delivery"]))).toEqual(new Set([delivery.id]));
    expect(new Set(received.map((r) => r.body)).size).toBe(1);

    // a redelivered message after success sends nothing again
    const replay = await attempt(delivery.id, 4);
    expect(replay.explicitAcks).toHaveLength(1);
    expect(await receivedAt(endpoint.path)).toHaveLength(3);
  });

  it("backs off exponentially, capped at 300 s", () => {
    expect([1, 2, 3, 8, 9, 10, 30].map(backoffSeconds)).toEqual([2, 4, 8, 256, 300, 300, 300]);
  });

  it("after the retries the dead-letter consumer marks the delivery dead; a deleted webhook's delivery dies too", async () => {
    const endpoint = receiverEndpoint();
    const hook = await createHook(t, endpoint.url, ["test"]);
    const delivery = await createDelivery(db(), { id: hook.webhook.id, tenantId: t.tenantId }, "test", {});
    await failNext(endpoint.path, 1000);
    expect((await attempt(delivery.id, 1)).retryMessages).toHaveLength(1);
    const dlq = await attempt(delivery.id, 11, "aegis-notify-dlq");
    expect(dlq.explicitAcks).toHaveLength(1);
    const [dead] = await deliveriesOf(t, hook.webhook.id);
    expect(dead).toMatchObject({ status: "dead", attempts: 1, lastStatusCode: 500 });
    expect(dead.lastError).toBe("retries exhausted (last: HTTP 500)");
    // dead is final: a late redelivery sends nothing
    await attempt(delivery.id, 12);
    expect(await receivedAt(endpoint.path)).toHaveLength(1);
    await failNext(endpoint.path, 0);

    const orphan = await createDelivery(db(), { id: hook.webhook.id, tenantId: t.tenantId }, "test", {});
    expect(
      (await call("DELETE", `/api/dashboard/webhooks/${hook.webhook.id}`, { token: t.adminToken })).status,
    ).toBe(204);
    expect((await attempt(orphan.id, 1)).explicitAcks).toHaveLength(1);
    expect(await receivedAt(endpoint.path)).toHaveLength(1);
    const row = await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.id, orphan.id)).get();
    expect(row).toMatchObject({ status: "dead", lastError: "webhook deleted", attempts: 0 });
  });
});
