import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type StripeStandin, start } from "./stripe.mjs";

/** Billing meters, metered prices and what they invoice, through the official SDK (Node). */
describe("the Stripe stand-in: usage-based billing", () => {
  let standin: StripeStandin;
  let stripe: Stripe;

  beforeAll(async () => {
    standin = await start(0, { secretKey: "sk_test_meters", webhookSecret: "whsec_meters" });
    const url = new URL(standin.url);
    stripe = new Stripe("sk_test_meters", {
      host: url.hostname,
      port: Number(url.port),
      protocol: "http",
      maxNetworkRetries: 0,
    });
  });
  afterAll(async () => {
    await standin.close();
  });
  beforeEach(async () => {
    expect((await fetch(`${standin.url}/__reset`, { method: "POST" })).status).toBe(200);
  });

  const overageMeter = (event_name = "aegis_overage") =>
    stripe.billing.meters.create({
      display_name: "Aegis overage",
      event_name,
      default_aggregation: { formula: "sum" },
      customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
      value_settings: { event_payload_key: "value" },
    });

  const meteredPrice = (meter: string, unit_amount = 1) =>
    stripe.prices.create({
      currency: "usd",
      unit_amount,
      recurring: { interval: "month", usage_type: "metered", meter },
      product_data: { name: "Overage" },
      lookup_key: `metered_${meter}_${unit_amount}`,
    });

  const licensedPrice = () =>
    stripe.prices.create({
      currency: "usd",
      unit_amount: 10_000,
      recurring: { interval: "month" },
      product_data: { name: "Platform fee" },
    });

  const send = (customer: string, value: number, identifier: string, timestamp?: number) =>
    stripe.billing.meterEvents.create({
      event_name: "aegis_overage",
      payload: { stripe_customer_id: customer, value: String(value) },
      identifier,
      ...(timestamp ? { timestamp } : {}),
    });

  it("creates a meter with Stripe's shape; an event name belongs to one meter", async () => {
    const meter = await overageMeter();
    expect(meter).toEqual({
      id: expect.stringMatching(/^mtr_/),
      object: "billing.meter",
      created: expect.any(Number),
      customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
      default_aggregation: { formula: "sum" },
      display_name: "Aegis overage",
      event_name: "aegis_overage",
      event_time_window: null,
      livemode: false,
      status: "active",
      status_transitions: { deactivated_at: null },
      updated: expect.any(Number),
      value_settings: { event_payload_key: "value" },
    });
    expect(await stripe.billing.meters.retrieve(meter.id)).toEqual(meter);
    await expect(overageMeter()).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 400,
      param: "event_name",
    });
    await expect(
      stripe.billing.meters.create({
        display_name: "x",
        event_name: "x",
        default_aggregation: { formula: "max" },
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: "default_aggregation[formula]" });
    expect(standin.snapshot().meters).toEqual([meter]);
  });

  it("lists meters by status, newest first, page by page", async () => {
    const a = await overageMeter("ev_a");
    const b = await overageMeter("ev_b");
    const c = await overageMeter("ev_c");
    await stripe.billing.meters.deactivate(b.id);

    const active = await stripe.billing.meters.list({ status: "active" });
    expect(active.data.map((m) => m.id)).toEqual([c.id, a.id]);
    const inactive = await stripe.billing.meters.list({ status: "inactive" });
    expect(inactive.data).toEqual([
      expect.objectContaining({
        id: b.id,
        status: "inactive",
        status_transitions: { deactivated_at: expect.any(Number) },
      }),
    ]);
    const firstPage = await stripe.billing.meters.list({ limit: 2 });
    expect(firstPage.has_more).toBe(true);
    const all = await stripe.billing.meters.list({ limit: 2 }).autoPagingToArray({ limit: 10 });
    expect(all.map((m) => m.id)).toEqual([c.id, b.id, a.id]);

    // A deactivated meter keeps its event name; reactivated, it takes events again.
    await expect(overageMeter("ev_b")).rejects.toMatchObject({ statusCode: 400 });
    expect((await stripe.billing.meters.reactivate(b.id)).status).toBe("active");
  });

  it("refuses meter events without an active meter for their event name", async () => {
    const customer = await stripe.customers.create({ name: "No meter" });
    await expect(send(customer.id, 5, "e1")).rejects.toMatchObject({
      statusCode: 400,
      param: "event_name",
      message: "No active meter found for event_name aegis_overage",
    });
    const meter = await overageMeter();
    await send(customer.id, 5, "e2");
    await stripe.billing.meters.deactivate(meter.id);
    await expect(send(customer.id, 5, "e3")).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("No active meter found"),
    });
    expect(standin.snapshot().meterEvents.map((e) => e.identifier)).toEqual(["e2"]);
  });

  it("makes metered prices on a meter, and refuses a quantity on their subscription items", async () => {
    const meter = await overageMeter();
    const metered = await meteredPrice(meter.id);
    expect(metered).toMatchObject({
      object: "price",
      type: "recurring",
      unit_amount: 1,
      recurring: { interval: "month", interval_count: 1, usage_type: "metered", meter: meter.id },
    });
    const licensed = await licensedPrice();
    expect(licensed.recurring).toMatchObject({ usage_type: "licensed", meter: null });
    await expect(
      stripe.prices.create({
        currency: "usd",
        unit_amount: 1,
        recurring: { interval: "month", usage_type: "metered" },
        product_data: { name: "No meter" },
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: "recurring[meter]" });
    await expect(
      stripe.prices.create({
        currency: "usd",
        unit_amount: 1,
        recurring: { interval: "month", usage_type: "metered", meter: "mtr_missing" },
        product_data: { name: "Unknown meter" },
      }),
    ).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
    const listed = await stripe.prices.list({ recurring: { usage_type: "metered" } });
    expect(listed.data.map((p) => p.id)).toEqual([metered.id]);

    const customer = await stripe.customers.create({ name: "Metered" });
    const base = { customer: customer.id, collection_method: "send_invoice" as const, days_until_due: 30 };
    await expect(
      stripe.subscriptions.create({
        ...base,
        items: [
          { price: licensed.id, quantity: 1 },
          { price: metered.id, quantity: 3 },
        ],
      }),
    ).rejects.toMatchObject({
      statusCode: 400,
      param: "items[1][quantity]",
      message:
        "Quantity should not be specified where usage_type is `metered`. Remove quantity from `items[1]`",
    });
    const sub = await stripe.subscriptions.create({
      ...base,
      items: [{ price: licensed.id, quantity: 2 }, { price: metered.id }],
    });
    expect(sub.billing_mode.type).toBe("flexible");
    const item = sub.items.data.find((it) => it.price.id === metered.id);
    expect(item).toBeTruthy();
    expect(item && "quantity" in item).toBe(false);
    await expect(
      stripe.subscriptions.update(sub.id, { items: [{ id: item?.id, quantity: 4 }] }),
    ).rejects.toMatchObject({ statusCode: 400, param: "items[0][quantity]" });
  });

  it("shows per customer the period's metered total and what the metered item invoices", async () => {
    const meter = await overageMeter();
    const metered = await meteredPrice(meter.id, 2);
    const licensed = await licensedPrice();
    const [alice, bob] = await Promise.all([
      stripe.customers.create({ name: "Alice" }),
      stripe.customers.create({ name: "Bob" }),
    ]);
    // Before her subscription: outside its period, never invoiced.
    await send(alice.id, 1000, "a0", Math.floor(Date.now() / 1000) - 3600);
    const sub = await stripe.subscriptions.create({
      customer: alice.id,
      collection_method: "send_invoice",
      days_until_due: 30,
      items: [{ price: licensed.id, quantity: 1 }, { price: metered.id }],
    });
    const item = sub.items.data.find((it) => it.price.id === metered.id);
    await send(alice.id, 120, "a1");
    await send(alice.id, 5, "a2");
    await send(bob.id, 7, "b1");

    const res = await fetch(`${standin.url}/__state?customer=${alice.id}`);
    const state = (await res.json()) as ReturnType<StripeStandin["snapshot"]>;
    expect(state.meters).toHaveLength(1);
    expect(state.meterEvents.map((e) => e.identifier).sort()).toEqual(["a0", "a1", "a2"]);
    expect(state.meteredUsage).toEqual([
      {
        customer: alice.id,
        meter: meter.id,
        event_name: "aegis_overage",
        period: { start: sub.start_date, end: sub.start_date + 30 * 24 * 3600 },
        total: 125,
        items: [
          {
            subscription_item: item?.id,
            price: metered.id,
            unit_amount: 2,
            since: expect.any(Number),
            value: 125,
            amount: 250,
          },
        ],
      },
    ]);
    // Bob has events but no subscription: a total, nothing invoiced.
    expect(standin.snapshot(bob.id).meteredUsage).toEqual([
      expect.objectContaining({ customer: bob.id, period: null, total: 7, items: [] }),
    ]);
  });

  it("bills a removed metered item's usage so far as an invoice item (flexible mode), unless told not to", async () => {
    const meter = await overageMeter();
    const metered = await meteredPrice(meter.id);
    const licensed = await licensedPrice();
    const subscribe = async (name: string, billing_mode?: "classic" | "flexible") => {
      const customer = await stripe.customers.create({ name });
      const sub = await stripe.subscriptions.create({
        customer: customer.id,
        collection_method: "send_invoice",
        days_until_due: 30,
        items: [{ price: licensed.id, quantity: 1 }, { price: metered.id }],
        ...(billing_mode ? { billing_mode: { type: billing_mode } } : {}),
      });
      const item = sub.items.data.find((it) => it.price.id === metered.id);
      await send(customer.id, 300, `${name}-1`);
      return { customer: customer.id, sub, itemId: item?.id ?? "" };
    };

    const a = await subscribe("flex");
    const after = await stripe.subscriptions.update(a.sub.id, { items: [{ id: a.itemId, deleted: true }] });
    expect(after.items.data.map((it) => it.price.id)).toEqual([licensed.id]);
    const state = standin.snapshot(a.customer);
    expect(state.invoiceItems).toEqual([
      expect.objectContaining({
        object: "invoiceitem",
        customer: a.customer,
        amount: 300,
        currency: "usd",
        quantity: 300,
        invoice: null,
        parent: {
          type: "subscription_details",
          subscription_details: { subscription: a.sub.id, subscription_item: a.itemId },
        },
      }),
    ]);
    expect(state.meteredUsage).toEqual([expect.objectContaining({ total: 300, items: [] })]);

    const b = await subscribe("no-proration");
    await stripe.subscriptions.update(b.sub.id, {
      items: [{ id: b.itemId, deleted: true }],
      proration_behavior: "none",
    });
    expect(standin.snapshot(b.customer).invoiceItems).toEqual([]);

    const c = await subscribe("classic", "classic");
    await stripe.subscriptions.update(c.sub.id, { items: [{ id: c.itemId, deleted: true }] });
    expect(standin.snapshot(c.customer).invoiceItems).toEqual([]);
  });
});
