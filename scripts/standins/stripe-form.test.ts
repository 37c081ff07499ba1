import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StripeStandin, start } from "./stripe.mjs";
import { parseForm, splitKey } from "./stripe-form.mjs";

describe("parseForm (Stripe's form bodies)", () => {
  it("turns bracket notation into nested objects and arrays, as Stripe reads it", () => {
    expect(
      parseForm(
        "customer=cus_1&items[0][price]=price_a&items[0][quantity]=2&items[1][id]=si_1&items[1][deleted]=true" +
          "&metadata[tenantId]=t_1&lookup_keys[]=a&lookup_keys[]=b&name=A+B%20%26c&expand[0]=data.product",
      ),
    ).toEqual({
      customer: "cus_1",
      items: [
        { price: "price_a", quantity: "2" },
        { id: "si_1", deleted: "true" },
      ],
      metadata: { tenantId: "t_1" },
      lookup_keys: ["a", "b"],
      name: "A B &c",
      expand: ["data.product"],
    });
  });

  it("reads percent-encoded brackets and query strings the same way", () => {
    expect(parseForm("lookup_keys%5B0%5D=x&payload%5Bvalue%5D=12")).toEqual({
      lookup_keys: ["x"],
      payload: { value: "12" },
    });
    expect(parseForm(new URLSearchParams("limit=10&active=true"))).toEqual({ limit: "10", active: "true" });
  });

  it("orders indexes numerically, keeps mixed keys as objects, drops prototype and malformed keys", () => {
    const parsed = parseForm("a[10]=x&a[2]=y&b[0][c]=1&b[x]=2&__proto__[polluted]=1&m[constructor]=z&c[d=1");
    expect(parsed).toEqual({ a: ["y", "x"], b: { "0": { c: "1" }, x: "2" } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(splitKey("a[b][0]")).toEqual(["a", "b", "0"]);
    expect(splitKey("[a]")).toBeNull();
  });
});

describe("the Stripe stand-in, through the official SDK (Node)", () => {
  let standin: StripeStandin;
  let stripe: Stripe;

  beforeAll(async () => {
    standin = await start(0, { secretKey: "sk_test_unit", webhookSecret: "whsec_unit" });
    const url = new URL(standin.url);
    stripe = new Stripe("sk_test_unit", {
      host: url.hostname,
      port: Number(url.port),
      protocol: "http",
      maxNetworkRetries: 0,
    });
  });
  afterAll(async () => {
    await standin.close();
  });

  it("replays an idempotent request and refuses the key with other parameters", async () => {
    const a = await stripe.customers.create(
      { name: "A", metadata: { tenantId: "t1" } },
      { idempotencyKey: "k1" },
    );
    const b = await stripe.customers.create(
      { name: "A", metadata: { tenantId: "t1" } },
      { idempotencyKey: "k1" },
    );
    expect(a.id).toMatch(/^cus_/);
    expect(b.id).toBe(a.id);
    await expect(stripe.customers.create({ name: "B" }, { idempotencyKey: "k1" })).rejects.toMatchObject({
      type: "StripeIdempotencyError",
      statusCode: 400,
    });
    expect(standin.snapshot().customers).toHaveLength(1);
  });

  it("requires the secret key, with Stripe's error shape", async () => {
    const res = await fetch(`${standin.url}/v1/customers`, {
      headers: { authorization: "Bearer sk_test_nope" },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { type: "invalid_request_error", message: expect.stringContaining("Invalid API Key") },
    });
  });

  it("moves a lookup key only when asked, and lists prices by lookup key", async () => {
    const base = {
      currency: "usd",
      recurring: { interval: "month" as const },
      product_data: { name: "Fee" },
    };
    const first = await stripe.prices.create({ ...base, unit_amount: 100, lookup_key: "unit_fee" });
    await expect(
      stripe.prices.create({ ...base, unit_amount: 200, lookup_key: "unit_fee" }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
    const second = await stripe.prices.create({
      ...base,
      unit_amount: 200,
      lookup_key: "unit_fee",
      transfer_lookup_key: true,
    });
    const listed = await stripe.prices.list({ lookup_keys: ["unit_fee"] });
    expect(listed.data.map((p) => p.id)).toEqual([second.id]);
    expect(first.product).toMatch(/^prod_/);
  });

  it("refuses a meter event identifier twice, unless it is an idempotent replay", async () => {
    const customer = await stripe.customers.create({ name: "M" });
    // Meter events need an active meter with their event name.
    await stripe.billing.meters.create({
      display_name: "Overage",
      event_name: "aegis_overage",
      default_aggregation: { formula: "sum" },
    });
    const params = {
      event_name: "aegis_overage",
      payload: { stripe_customer_id: customer.id, value: "5" },
      identifier: "use_1",
    };
    const first = await stripe.billing.meterEvents.create(params, { idempotencyKey: "meter-use_1" });
    const replay = await stripe.billing.meterEvents.create(params, { idempotencyKey: "meter-use_1" });
    expect(replay).toEqual(first);
    await expect(stripe.billing.meterEvents.create(params)).rejects.toMatchObject({
      statusCode: 400,
      code: "resource_already_exists",
    });
  });

  it("signs events that Stripe's own verifier accepts", async () => {
    const res = await fetch(`${standin.url}/__sign`, {
      method: "POST",
      body: JSON.stringify({ type: "invoice.paid", data: { object: { customer: "cus_x" } } }),
    });
    const { payload, header } = (await res.json()) as { payload: string; header: string };
    const event = stripe.webhooks.constructEvent(payload, header, "whsec_unit");
    expect(event).toMatchObject({ object: "event", type: "invoice.paid", livemode: false });
    expect(event.id).toMatch(/^evt_/);
    expect(() => stripe.webhooks.constructEvent(payload, header, "whsec_other")).toThrow();
  });
});
