import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it, vi } from "vitest";
import { stripeEvents, tenants, usageCalls } from "../worker/db/schema";
import { reportOverage, syncTenantBilling } from "../worker/features/billing/stripe";
import worker from "../worker/index";
import {
  AGENT_FEE_USD,
  HIGH_THINKING_SURCHARGE_USD,
  type ModelTier,
  monthlyTotalUsd,
  PLANS,
  type ThinkingMode,
} from "../worker/lib/pricing";
import {
  auditRows,
  call,
  callJson,
  db,
  env,
  type Json,
  operatorToken,
  provisionTenant,
  type TenantFixture,
} from "./helpers";

const stripeUrl = () => inject("stripeApiUrl");

async function stripeState(customer?: string): Promise<Json> {
  const q = customer ? `?customer=${encodeURIComponent(customer)}` : "";
  const res = await fetch(`${stripeUrl()}/__state${q}`);
  expect(res.status).toBe(200);
  return res.json();
}

async function signEvent(body: Json): Promise<{ payload: string; header: string; event: Json }> {
  const res = await fetch(`${stripeUrl()}/__sign`, { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

const postWebhook = (payload: string, headers: Record<string, string> = {}) =>
  callJson("POST", "/api/stripe/webhook", {
    body: payload,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });

const tenantRow = async (id: string) => db().select().from(tenants).where(eq(tenants.id, id)).get();

/** Quantities of the subscription's items by price lookup key. */
const quantities = (sub: Json): Record<string, number> =>
  Object.fromEntries(sub.items.data.map((it: Json) => [it.price.lookup_key, it.quantity]));

type AgentSpec = { name: string; modelTier: ModelTier; thinkingMode: ThinkingMode };

async function createAgent(t: TenantFixture, spec: AgentSpec): Promise<string> {
  const res = await callJson("POST", "/api/dashboard/agents", { token: t.adminToken, body: spec });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.agent.id;
}

/**
 * A sync run by the test. Agent changes also queue syncs that the PROVISIONING consumer runs on its
 * own; a sync that finds another one holding the tenant's lease returns `sync_in_progress`, so
 * this retries until the test's own run is the one that synced.
 */
async function syncNow(tenantId: string): Promise<Json> {
  let result: Json;
  await vi.waitFor(
    async () => {
      result = await syncTenantBilling(db(), env, tenantId);
      expect(result.status).toBe("synced");
    },
    { timeout: 10_000, interval: 20 },
  );
  return result;
}

let op: string;
beforeAll(async () => {
  op = await operatorToken();
});

describe("syncTenantBilling", () => {
  let t: TenantFixture;
  const agentIds: string[] = [];

  beforeAll(async () => {
    t = await provisionTenant(op, { planTier: "growth" });
    // 7 agents: the first 5 are included (one of them in high thinking mode), then an opus and a sonnet.
    const specs: AgentSpec[] = [
      { name: "a1", modelTier: "sonnet", thinkingMode: "off" },
      { name: "a2", modelTier: "sonnet", thinkingMode: "high" },
      { name: "a3", modelTier: "sonnet", thinkingMode: "low" },
      { name: "a4", modelTier: "sonnet", thinkingMode: "off" },
      { name: "a5", modelTier: "sonnet", thinkingMode: "off" },
      { name: "a6", modelTier: "opus", thinkingMode: "low" },
      { name: "a7", modelTier: "sonnet", thinkingMode: "off" },
    ];
    for (const spec of specs) agentIds.push(await createAgent(t, spec));
  });

  it("creates the customer and a subscription with the plan's items and quantities", async () => {
    const result = await syncNow(t.tenantId);
    expect(result.status).toBe("synced");
    const row = await tenantRow(t.tenantId);
    expect(row?.stripeCustomerId).toMatch(/^cus_/);
    expect(row?.stripeSubscriptionId).toMatch(/^sub_/);

    const state = await stripeState(row?.stripeCustomerId ?? "");
    expect(state.customers).toHaveLength(1);
    expect(state.customers[0]).toMatchObject({
      object: "customer",
      email: t.adminEmail,
      metadata: { tenantId: t.tenantId },
    });
    expect(state.subscriptions).toHaveLength(1);
    const sub = state.subscriptions[0];
    expect(sub).toMatchObject({ id: row?.stripeSubscriptionId, object: "subscription", status: "active" });
    expect(quantities(sub)).toEqual({
      aegis_platform_growth: 1,
      aegis_agent_opus: 1,
      aegis_agent_sonnet: 1,
      aegis_thinking_high: 1,
    });
    const amounts = Object.fromEntries(
      sub.items.data.map((it: Json) => [it.price.lookup_key, it.price.unit_amount]),
    );
    expect(amounts).toEqual({
      aegis_platform_growth: PLANS.growth.platformFeeUsd * 100,
      aegis_agent_opus: AGENT_FEE_USD.opus * 100,
      aegis_agent_sonnet: AGENT_FEE_USD.sonnet * 100,
      aegis_thinking_high: HIGH_THINKING_SURCHARGE_USD * 100,
    });
    for (const it of sub.items.data) {
      expect(it.id).toMatch(/^si_/);
      expect(it.price).toMatchObject({ object: "price", recurring: { interval: "month" }, currency: "usd" });
      expect(it.price.product).toMatch(/^prod_/);
    }
    // The items add up to the monthly total that pricing.ts computes.
    const total = sub.items.data.reduce((s: number, it: Json) => s + it.price.unit_amount * it.quantity, 0);
    const agentsNow = (await callJson("GET", "/api/dashboard/agents", { token: t.adminToken })).body.data;
    expect(total).toBe(monthlyTotalUsd({ planTier: "growth" }, agentsNow) * 100);

    await vi.waitFor(
      async () => {
        const actions = (await auditRows(t.tenantId)).map((r) => r.action);
        expect(actions).toContain("billing.customer_created");
        expect(actions).toContain("billing.subscription_created");
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it("changes nothing on a second run", async () => {
    const row = await tenantRow(t.tenantId);
    const customer = row?.stripeCustomerId ?? "";
    const before = await stripeState(customer);
    const logBefore = (await stripeState()).log.length;
    const result = await syncNow(t.tenantId);
    expect(result).toMatchObject({ status: "synced", created: [], itemChanges: 0 });
    expect(await stripeState(customer)).toEqual(before);
    const log = (await stripeState()).log.slice(logBefore);
    expect(log.filter((e: Json) => e.method !== "GET")).toEqual([]);
    expect(await tenantRow(t.tenantId)).toMatchObject({
      stripeCustomerId: row?.stripeCustomerId,
      stripeSubscriptionId: row?.stripeSubscriptionId,
    });
  });

  it("updates the quantities when agents are added and removed", async () => {
    const row = await tenantRow(t.tenantId);
    const customer = row?.stripeCustomerId ?? "";
    const itemIdsBefore = Object.fromEntries(
      (await stripeState(customer)).subscriptions[0].items.data.map((it: Json) => [
        it.price.lookup_key,
        it.id,
      ]),
    );

    agentIds.push(await createAgent(t, { name: "a8", modelTier: "opus", thinkingMode: "off" }));
    await syncNow(t.tenantId);
    let sub = (await stripeState(customer)).subscriptions[0];
    expect(quantities(sub)).toEqual({
      aegis_platform_growth: 1,
      aegis_agent_opus: 2,
      aegis_agent_sonnet: 1,
      aegis_thinking_high: 1,
    });

    // Removing a2 (included, high thinking) moves a6 (opus) into the included five.
    const del = await call("DELETE", `/api/dashboard/agents/${agentIds[1]}`, { token: t.adminToken });
    expect(del.status).toBe(204);
    const result = await syncNow(t.tenantId);
    expect(result).toMatchObject({ status: "synced", created: [] });
    sub = (await stripeState(customer)).subscriptions[0];
    expect(sub.id).toBe(row?.stripeSubscriptionId);
    expect(quantities(sub)).toEqual({ aegis_platform_growth: 1, aegis_agent_opus: 1, aegis_agent_sonnet: 1 });
    // Items were updated in place, not replaced.
    for (const it of sub.items.data) expect(it.id).toBe(itemIdsBefore[it.price.lookup_key]);

    // Back to high thinking: a new item is added.
    agentIds.push(await createAgent(t, { name: "a9", modelTier: "sonnet", thinkingMode: "high" }));
    await syncNow(t.tenantId);
    sub = (await stripeState(customer)).subscriptions[0];
    expect(quantities(sub)).toEqual({
      aegis_platform_growth: 1,
      aegis_agent_opus: 1,
      aegis_agent_sonnet: 2,
      aegis_thinking_high: 1,
    });
    expect((await stripeState(customer)).subscriptions).toHaveLength(1);
    await vi.waitFor(
      async () => {
        const updated = (await auditRows(t.tenantId)).filter(
          (r) => r.action === "billing.subscription_updated",
        );
        // Three changes; the queue's own syncs may have applied some of them first.
        expect(updated.length).toBeGreaterThanOrEqual(1);
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it("runs from a billing_sync message on the PROVISIONING queue, and retries a failure", async () => {
    const row = await tenantRow(t.tenantId);
    const before = await stripeState(row?.stripeCustomerId ?? "");
    const deliver = async (body: Json) => {
      const batch = createMessageBatch("aegis-provisioning", [
        { id: `bs-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      return getQueueResult(batch, ctx);
    };
    const ok = await deliver({ kind: "billing_sync", tenantId: t.tenantId });
    expect(ok.explicitAcks).toHaveLength(1);
    expect(ok.retryMessages).toEqual([]);
    expect(await stripeState(row?.stripeCustomerId ?? "")).toEqual(before);

    // Stripe refusing the key: the message is retried with a delay, not acked. (Once no queued
    // sync holds the tenant's lease, so this one really calls Stripe.)
    await vi.waitFor(async () => expect((await tenantRow(t.tenantId))?.billingSyncUntil).toBeNull());
    const failing = await (async () => {
      const batch = createMessageBatch("aegis-provisioning", [
        {
          id: `bs-${crypto.randomUUID()}`,
          timestamp: new Date(),
          attempts: 2,
          body: { kind: "billing_sync", tenantId: t.tenantId },
        },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, { ...env, STRIPE_SECRET_KEY: "sk_test_wrong" }, ctx);
      return getQueueResult(batch, ctx);
    })();
    expect(failing.explicitAcks).toEqual([]);
    expect(failing.retryMessages).toHaveLength(1);
  });
});

describe("reportOverage", () => {
  let billed: TenantFixture;
  let unbilled: TenantFixture;
  let customer: string;

  const usageRow = (tenantId: string, id: string, overageMicros: number, extra: Partial<Json> = {}) => {
    const at = new Date(Date.now() - 60_000).toISOString();
    return {
      id,
      tenantId,
      agentId: "agt_overage",
      day: at.slice(0, 10),
      month: at.slice(0, 7),
      model: "claude-sonnet-4-5",
      modelTier: "sonnet",
      inputTokens: 1000,
      outputTokens: 1000,
      thinkingTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      quotaTokens: 2000,
      costMicros: 100,
      overageMicros,
      at,
      ...extra,
    };
  };

  /** One statement per row: D1 binds at most 100 values per statement. */
  const insertUsage = async (rows: Json[]) => {
    for (const row of rows) await db().insert(usageCalls).values(row);
  };

  beforeAll(async () => {
    billed = await provisionTenant(op, { planTier: "growth" });
    unbilled = await provisionTenant(op, { planTier: "growth" });
    const synced = await syncTenantBilling(db(), env, billed.tenantId);
    if (synced.status !== "synced") throw new Error("sync failed");
    customer = synced.customerId;
  });

  it("sends one meter event per overage call, with the call id as identifier, and marks it", async () => {
    const ids = [1, 2, 3].map((i) => `use_ovr_${i}_${crypto.randomUUID().slice(0, 8)}`);
    await insertUsage([
      usageRow(billed.tenantId, ids[0] ?? "", 1_234_567),
      usageRow(billed.tenantId, ids[1] ?? "", 5_000),
      usageRow(billed.tenantId, ids[2] ?? "", 2_000_000),
      usageRow(billed.tenantId, `use_none_${crypto.randomUUID().slice(0, 8)}`, 0),
      usageRow(billed.tenantId, `use_done_${crypto.randomUUID().slice(0, 8)}`, 9_000_000, {
        stripeReportedAt: new Date().toISOString(),
      }),
      usageRow(unbilled.tenantId, `use_nocus_${crypto.randomUUID().slice(0, 8)}`, 3_000_000),
    ]);

    expect(await reportOverage(db(), env)).toEqual({ reported: 3, failed: 0 });
    const events = (await stripeState(customer)).meterEvents;
    expect(events.map((e: Json) => e.identifier).sort()).toEqual([...ids].sort());
    const byId = Object.fromEntries(events.map((e: Json) => [e.identifier, e]));
    expect(byId[ids[0] ?? ""]).toMatchObject({
      object: "billing.meter_event",
      event_name: "aegis_overage",
      payload: { stripe_customer_id: customer, value: "123" },
    });
    expect(byId[ids[1] ?? ""].payload.value).toBe("1");
    expect(byId[ids[2] ?? ""].payload.value).toBe("200");
    for (const id of ids) {
      const row = await db().select().from(usageCalls).where(eq(usageCalls.id, id)).get();
      expect(row?.stripeReportedAt).toBeTruthy();
      expect(byId[id].timestamp).toBe(Math.floor(Date.parse(row?.at ?? "") / 1000));
    }

    // A second run sends nothing new.
    expect(await reportOverage(db(), env)).toEqual({ reported: 0, failed: 0 });
    expect((await stripeState(customer)).meterEvents).toHaveLength(3);
  });

  it("leaves a failed call for the next run", async () => {
    const ids = [1, 2].map((i) => `use_retry_${i}_${crypto.randomUUID().slice(0, 8)}`);
    await insertUsage(ids.map((id) => usageRow(billed.tenantId, id, 1_000_000)));
    const fail = await fetch(`${stripeUrl()}/__fail`, {
      method: "POST",
      body: JSON.stringify({ path: "/v1/billing/meter_events", count: 1, status: 400 }),
    });
    expect(fail.status).toBe(200);

    expect(await reportOverage(db(), env)).toEqual({ reported: 1, failed: 1 });
    const unmarked = (
      await Promise.all(ids.map((id) => db().select().from(usageCalls).where(eq(usageCalls.id, id)).get()))
    ).filter((r) => !r?.stripeReportedAt);
    expect(unmarked).toHaveLength(1);

    expect(await reportOverage(db(), env)).toEqual({ reported: 1, failed: 0 });
    const identifiers = (await stripeState(customer)).meterEvents.map((e: Json) => e.identifier);
    for (const id of ids) expect(identifiers).toContain(id);
  });

  it("treats an identifier Stripe already has as reported", async () => {
    const id = `use_dup_${crypto.randomUUID().slice(0, 8)}`;
    // Sent before (say, by a run that stopped before marking it), under another idempotency key.
    const res = await fetch(`${stripeUrl()}/v1/billing/meter_events`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${inject("stripeSecretKey")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        event_name: "aegis_overage",
        "payload[stripe_customer_id]": customer,
        "payload[value]": "100",
        identifier: id,
      }).toString(),
    });
    expect(res.status).toBe(200);
    await db()
      .insert(usageCalls)
      .values(usageRow(billed.tenantId, id, 1_000_000));
    expect(await reportOverage(db(), env)).toEqual({ reported: 1, failed: 0 });
    expect((await stripeState(customer)).meterEvents.filter((e: Json) => e.identifier === id)).toHaveLength(
      1,
    );
  });
});

describe("POST /api/stripe/webhook", () => {
  let t: TenantFixture;
  let customer: string;

  const invoiceEvent = (type: string, extra: Json = {}) => ({
    type,
    data: { object: { id: `in_${crypto.randomUUID().slice(0, 12)}`, object: "invoice", customer } },
    ...extra,
  });

  const statusChanges = async () =>
    (await auditRows(t.tenantId)).filter((r) => r.action === "billing.status_changed");

  beforeAll(async () => {
    t = await provisionTenant(op, { planTier: "growth" });
    const synced = await syncNow(t.tenantId);
    customer = synced.customerId;
    // A new subscription starts `active`; the invoice webhooks move it from there.
    expect((await tenantRow(t.tenantId))?.billingStatus).toBe("active");
  });

  it("applies invoice.payment_failed once: past_due and one audit row; the same event again is a duplicate", async () => {
    const signed = await signEvent(invoiceEvent("invoice.payment_failed"));
    const first = await postWebhook(signed.payload, { "stripe-signature": signed.header });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ received: true });
    const row = await tenantRow(t.tenantId);
    expect(row?.billingStatus).toBe("past_due");
    expect(row?.billingStatusAt).toBe(new Date(signed.event.created * 1000).toISOString());
    expect(await db().select().from(stripeEvents).where(eq(stripeEvents.id, signed.event.id)).all()).toEqual([
      expect.objectContaining({ id: signed.event.id, type: "invoice.payment_failed", tenantId: t.tenantId }),
    ]);
    await vi.waitFor(async () => expect(await statusChanges()).toHaveLength(1), {
      timeout: 10_000,
      interval: 50,
    });
    const [changed] = await statusChanges();
    expect(changed).toMatchObject({ actorType: "system", targetType: "tenant", targetId: t.tenantId });
    expect(JSON.parse(changed?.details ?? "{}")).toMatchObject({
      from: "active",
      to: "past_due",
      stripeEventId: signed.event.id,
    });

    const requestId = `dup-${crypto.randomUUID()}`;
    const again = await postWebhook(signed.payload, {
      "stripe-signature": signed.header,
      "x-request-id": requestId,
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, duplicate: true });
    // The duplicate's own request is audited (generically); still one status change.
    await vi.waitFor(
      async () => expect((await auditRows(null)).some((r) => r.requestId === requestId)).toBe(true),
      { timeout: 10_000, interval: 50 },
    );
    expect(await statusChanges()).toHaveLength(1);
  });

  it("applies invoice.paid, and ignores an older event that arrives late", async () => {
    const paid = await signEvent(invoiceEvent("invoice.paid"));
    expect((await postWebhook(paid.payload, { "stripe-signature": paid.header })).body).toEqual({
      received: true,
    });
    expect((await tenantRow(t.tenantId))?.billingStatus).toBe("active");

    const late = await signEvent(
      invoiceEvent("invoice.payment_failed", { created: paid.event.created - 3600 }),
    );
    const res = await postWebhook(late.payload, { "stripe-signature": late.header });
    expect(res.status).toBe(200);
    expect((await tenantRow(t.tenantId))?.billingStatus).toBe("active");
  });

  it("refuses a forged signature with 400 invalid_signature and changes nothing", async () => {
    const before = await tenantRow(t.tenantId);
    const signed = await signEvent(invoiceEvent("invoice.payment_failed"));
    const forgedHeader = signed.header.replace(/v1=([0-9a-f])/, (_m, c) => `v1=${c === "0" ? "1" : "0"}`);
    const forged = await postWebhook(signed.payload, { "stripe-signature": forgedHeader });
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({
      statusCode: 400,
      code: "invalid_signature",
      path: "/api/stripe/webhook",
    });

    // A body changed after signing fails too.
    const tampered = signed.payload.replace("invoice.payment_failed", "invoice.paid");
    const res = await postWebhook(tampered, { "stripe-signature": signed.header });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_signature");

    expect(await tenantRow(t.tenantId)).toEqual(before);
    expect(await db().select().from(stripeEvents).where(eq(stripeEvents.id, signed.event.id)).all()).toEqual(
      [],
    );
  });

  it("refuses a signature older than the tolerance", async () => {
    const before = await tenantRow(t.tenantId);
    const old = Math.floor(Date.now() / 1000) - 600;
    const signed = await signEvent(invoiceEvent("invoice.payment_failed", { timestamp: old }));
    const res = await postWebhook(signed.payload, { "stripe-signature": signed.header });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_signature");
    expect(await tenantRow(t.tenantId)).toEqual(before);
    expect(await db().select().from(stripeEvents).where(eq(stripeEvents.id, signed.event.id)).all()).toEqual(
      [],
    );
  });

  it("refuses a request without Stripe-Signature", async () => {
    const signed = await signEvent(invoiceEvent("invoice.payment_failed"));
    const res = await postWebhook(signed.payload);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_signature");
    expect(res.res.headers.get("x-request-id")).toBeTruthy();
  });

  it("acknowledges and ignores unknown customers and other event types", async () => {
    const before = await tenantRow(t.tenantId);
    const unknown = await signEvent({
      type: "invoice.payment_failed",
      data: { object: { id: "in_x", object: "invoice", customer: "cus_nobody" } },
    });
    const res = await postWebhook(unknown.payload, { "stripe-signature": unknown.header });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, ignored: true });

    const other = await signEvent({
      type: "customer.updated",
      data: { object: { id: customer, object: "customer" } },
    });
    const res2 = await postWebhook(other.payload, { "stripe-signature": other.header });
    expect(res2.body).toEqual({ received: true, ignored: true });
    expect(await tenantRow(t.tenantId)).toEqual(before);
  });

  it("is documented in the OpenAPI document, without bearer auth", async () => {
    const { body } = await callJson("GET", "/api/openapi.json");
    const op = body.paths["/api/stripe/webhook"]?.post;
    expect(op).toBeTruthy();
    expect(op.security).toEqual([]);
    expect(op.responses["400"]).toBeTruthy();
    expect(op.requestBody.content["application/json"].schema.required).toContain("type");
  });
});

describe("the metered overage item", () => {
  let t: TenantFixture;
  let customer: string;
  /** Cents of the overage rows reported by this describe so far. */
  let reportedCents = 0;

  const meteredItems = (sub: Json): Json[] =>
    sub.items.data.filter((it: Json) => it.price.recurring?.usage_type === "metered");
  const overageMeters = (state: Json): Json[] =>
    state.meters.filter((m: Json) => m.event_name === "aegis_overage");

  const setOverage = async (enabled: boolean) => {
    const res = await callJson("PUT", "/api/dashboard/billing/overage", {
      token: t.adminToken,
      body: { enabled },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.enabled).toBe(enabled);
  };

  /** Unreported overage rows of the tenant, at the time of the call (within the item's period). */
  const insertOverage = async (micros: number[]) => {
    const at = new Date().toISOString();
    for (const overageMicros of micros)
      await db()
        .insert(usageCalls)
        .values({
          id: `use_metered_${crypto.randomUUID().slice(0, 12)}`,
          tenantId: t.tenantId,
          agentId: "agt_metered",
          day: at.slice(0, 10),
          month: at.slice(0, 7),
          model: "claude-sonnet-4-5",
          modelTier: "sonnet",
          inputTokens: 1000,
          outputTokens: 1000,
          thinkingTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          quotaTokens: 2000,
          costMicros: 100,
          overageMicros,
          at,
        });
    return micros.reduce((s, m) => s + Math.round(m / 10_000), 0);
  };

  beforeAll(async () => {
    t = await provisionTenant(op, { planTier: "growth" });
    // Provisioning queued one sync: once it has run (subscription stored, lease released), no sync
    // is pending, so the one that follows the overage setting is the route's own.
    await vi.waitFor(
      async () => {
        const row = await tenantRow(t.tenantId);
        expect(row?.stripeSubscriptionId).toMatch(/^sub_/);
        expect(row?.billingSyncUntil).toBeNull();
        expect(row?.billingSyncPending).toBe(false);
      },
      { timeout: 10_000, interval: 50 },
    );
    customer = (await tenantRow(t.tenantId))?.stripeCustomerId ?? "";
    const sub = (await stripeState(customer)).subscriptions[0];
    expect(meteredItems(sub)).toEqual([]);
  });

  it("overage on: the sync adds the metered item on the aegis_overage meter; a second sync changes nothing", async () => {
    await setOverage(true);
    // The setting queues a sync (PROVISIONING queue) that adds the item.
    await vi.waitFor(
      async () => expect(meteredItems((await stripeState(customer)).subscriptions[0])).toHaveLength(1),
      { timeout: 10_000, interval: 50 },
    );
    const result = await syncNow(t.tenantId);
    expect(result).toMatchObject({ status: "synced", created: [], overageItem: true });

    const state = await stripeState(customer);
    const meters = overageMeters(state);
    expect(meters).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(/^mtr_/),
        object: "billing.meter",
        status: "active",
        default_aggregation: { formula: "sum" },
        customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
        value_settings: { event_payload_key: "value" },
      }),
    ]);
    expect(state.subscriptions).toHaveLength(1);
    const sub = state.subscriptions[0];
    const metered = meteredItems(sub);
    expect(metered).toHaveLength(1);
    expect(metered[0]).not.toHaveProperty("quantity");
    expect(metered[0].price).toMatchObject({
      lookup_key: "aegis_overage_cents",
      unit_amount: 1,
      currency: "usd",
      recurring: { interval: "month", usage_type: "metered", meter: meters[0].id },
      metadata: { aegis_key: "aegis_overage_cents" },
    });
    // The licensed items are as before: the platform fee only (no agents).
    const licensed = sub.items.data.filter((it: Json) => it.price.recurring.usage_type === "licensed");
    expect(quantities({ items: { data: licensed } })).toEqual({ aegis_platform_growth: 1 });

    const logBefore = (await stripeState()).log.length;
    const again = await syncNow(t.tenantId);
    expect(again).toMatchObject({ status: "synced", created: [], itemChanges: 0, overageItem: true });
    const after = await stripeState(customer);
    expect(after.subscriptions).toEqual(state.subscriptions);
    expect(overageMeters(after)).toEqual(meters);
    const writes = (await stripeState()).log
      .slice(logBefore)
      .filter(
        (e: Json) =>
          e.method !== "GET" &&
          (e.path === `/v1/subscriptions/${sub.id}` || e.path.startsWith("/v1/billing/meters")),
      );
    expect(writes).toEqual([]);
  });

  it("reportOverage: the tenant's metered total this period is the sum of the reported rows' cents", async () => {
    reportedCents = await insertOverage([1_234_567, 5_000, 2_000_000, 49_999]);
    expect(reportedCents).toBe(123 + 1 + 200 + 5);
    const result = await reportOverage(db(), env);
    expect(result.failed).toBe(0);
    expect(result.reported).toBeGreaterThanOrEqual(4);

    const state = await stripeState(customer);
    const item = meteredItems(state.subscriptions[0])[0];
    expect(state.meteredUsage).toEqual([
      expect.objectContaining({
        customer,
        meter: overageMeters(state)[0].id,
        event_name: "aegis_overage",
        total: reportedCents,
        items: [
          expect.objectContaining({
            subscription_item: item.id,
            price: item.price.id,
            unit_amount: 1,
            value: reportedCents,
            amount: reportedCents,
          }),
        ],
      }),
    ]);
  });

  it("overage off with overage not yet reported: the item stays, so that usage is still invoiced", async () => {
    const itemBefore = meteredItems((await stripeState(customer)).subscriptions[0])[0];
    reportedCents += await insertOverage([3_000_000]);
    await setOverage(false);
    const result = await syncNow(t.tenantId);
    expect(result).toMatchObject({ status: "synced", overageItem: true });
    const sub = (await stripeState(customer)).subscriptions[0];
    expect(meteredItems(sub).map((it) => it.id)).toEqual([itemBefore.id]);
  });

  it("overage off with everything reported: the item is removed, its usage so far goes on an invoice item", async () => {
    const itemBefore = meteredItems((await stripeState(customer)).subscriptions[0])[0];
    expect(await reportOverage(db(), env)).toMatchObject({ failed: 0 });
    expect((await stripeState(customer)).meteredUsage[0].items.map((it: Json) => it.amount)).toEqual([
      reportedCents,
    ]);

    const result = await syncNow(t.tenantId);
    expect(result).toMatchObject({ status: "synced", overageItem: false });
    const state = await stripeState(customer);
    const sub = state.subscriptions[0];
    expect(meteredItems(sub)).toEqual([]);
    expect(quantities(sub)).toEqual({ aegis_platform_growth: 1 });
    // Stripe (flexible billing mode) bills a removed metered item's usage so far.
    expect(state.invoiceItems).toEqual([
      expect.objectContaining({
        amount: reportedCents,
        parent: expect.objectContaining({
          subscription_details: { subscription: sub.id, subscription_item: itemBefore.id },
        }),
      }),
    ]);
    expect(state.meteredUsage).toEqual([expect.objectContaining({ total: reportedCents, items: [] })]);

    // The meter and the price stay for the next time; a second sync changes nothing.
    expect(await syncNow(t.tenantId)).toMatchObject({ itemChanges: 0, overageItem: false });
    expect((await stripeState(customer)).subscriptions).toEqual(state.subscriptions);
  });
});
