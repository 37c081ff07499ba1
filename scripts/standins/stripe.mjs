#!/usr/bin/env node
// A local stand-in for the Stripe API, for the official `stripe` SDK pointed at it with
// `host`/`port`/`protocol` (STRIPE_API_URL). It serves what the billing integration uses, with
// Stripe's object shapes, ids, list envelopes and error JSON, and keeps everything in memory:
//
//   POST /v1/customers, GET /v1/customers/:id, GET /v1/customers (?email=)
//   POST /v1/products
//   POST /v1/prices (product or product_data, lookup_key, transfer_lookup_key, recurring[usage_type|meter]),
//   GET /v1/prices (?lookup_keys[]=, active, recurring[usage_type|meter])
//   POST /v1/subscriptions, GET /v1/subscriptions/:id, POST /v1/subscriptions/:id (items[n][id|price|quantity|deleted],
//   proration_behavior), DELETE /v1/subscriptions/:id (cancel)
//   GET /v1/billing/meters (?status=, limit, starting_after), POST /v1/billing/meters, GET|POST /v1/billing/meters/:id,
//   POST /v1/billing/meters/:id/deactivate, /reactivate
//   POST /v1/billing/meter_events (needs an active meter with that event_name; an identifier already used is a 400)
//
// Usage-based billing as Stripe does it: a meter (`billing.meter`, event_name unique) aggregates the meter events
// (sum, count or last of the payload's value, per customer by the payload's customer key); a metered price
// (`recurring[usage_type]=metered`, `recurring[meter]`) on a subscription item (no quantity: Stripe refuses one)
// bills the meter's usage since the item was added, in the subscription's period. Subscriptions are in `flexible`
// billing mode (the default of the pinned API version): removing a metered item turns its usage so far into an
// invoice item, unless `proration_behavior=none`. A period is 30 days from the subscription's start.
//
// Every /v1 request needs `Authorization: Bearer <secret key>`; bodies are form-encoded with
// Stripe's bracket notation. `Idempotency-Key` is honoured as Stripe does: the same key replays the
// first (successful) response with `Idempotent-Replayed: true`; reusing it with other parameters is
// a 400 `idempotency_error`.
//
// Test and dev endpoints (no key):
//   GET  /__state        customers, products, prices, subscriptions (with items), meters, meter events,
//                        meteredUsage (per customer and meter: the period's total and what each metered item would
//                        invoice), invoice items, request log; `?customer=cus_…` keeps that customer's objects only
//   POST /__sign         { type, data: { object }, id?, created?, timestamp? } → { payload, header, event }:
//                        an event JSON and its `Stripe-Signature` (t=<unix>,v1=<HMAC-SHA256 of "t.payload">)
//   POST /__deliver      same body (+ url?) → signs it and POSTs it to the webhook URL → { status, body, event }
//   POST /__fail         { path, count?, status? } the next `count` requests to `path` answer `status` (default 500)
//   POST /__reset        forgets everything
//
//   node scripts/standins/stripe.mjs [port]   (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_URL)
import { createHmac, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { readBody } from "./http.mjs";
import { parseForm } from "./stripe-form.mjs";

const MAX_BODY = 1024 * 1024;
/** The API version the events say they were rendered with (the pinned SDK's). */
export const API_VERSION = "2026-10-28.endive";
const METER_EVENT_MAX_AGE_S = 35 * 24 * 3600;
const METER_EVENT_MAX_FUTURE_S = 5 * 60;
/** The stand-in's billing period: 30 days from the subscription's start (it never cycles). */
const PERIOD_S = 30 * 24 * 3600;
const METER_FORMULAS = ["sum", "count", "last"];

const rand = (n = 14) => {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let s = "";
  for (const b of randomBytes(n)) s += alphabet[b % alphabet.length];
  return s;
};
const newId = (prefix) => `${prefix}_${rand(14)}`;
const nowS = () => Math.floor(Date.now() / 1000);

/** A Stripe API error: `{ error: { type, message, code?, param? } }`. */
class StripeError extends Error {
  constructor(status, message, { type = "invalid_request_error", code, param } = {}) {
    super(message);
    this.status = status;
    this.body = { error: { type, message, ...(code ? { code } : {}), ...(param ? { param } : {}) } };
  }
}
const invalid = (message, extra) => new StripeError(400, message, extra);
const missing = (kind, id, param = "id") =>
  new StripeError(404, `No such ${kind}: '${id}'`, { code: "resource_missing", param });

function send(res, status, body, headers = {}) {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "request-id": `req_${rand(14)}`,
    ...headers,
  });
  res.end(JSON.stringify(body));
}

const asInt = (v, param) => {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^-?\d+$/.test(v)) throw invalid(`Invalid integer: ${v}`, { param });
  return Number(v);
};
const asBool = (v) => v === true || v === "true";
const asMetadata = (v, param = "metadata") => {
  if (v === undefined || v === "") return {};
  if (typeof v !== "object" || Array.isArray(v)) throw invalid("Invalid object", { param });
  for (const [k, val] of Object.entries(v))
    if (typeof val !== "string") throw invalid("Invalid metadata value", { param: `${param}[${k}]` });
  return { ...v };
};
const asList = (v) => (v === undefined || v === "" ? [] : Array.isArray(v) ? v : [v]);

function list(url, data) {
  return { object: "list", data, has_more: false, url };
}

/** A page of `data` (newest first) as Stripe pages it: `limit` (1..100, default 10) after `starting_after`. */
function page(url, data, params) {
  const limit = asInt(params.limit, "limit") ?? 10;
  if (limit < 1 || limit > 100) throw invalid("Invalid limit: must be between 1 and 100", { param: "limit" });
  let from = 0;
  if (typeof params.starting_after === "string") {
    const at = data.findIndex((x) => x.id === params.starting_after);
    if (at === -1) throw missing("object", params.starting_after, "starting_after");
    from = at + 1;
  }
  const slice = data.slice(from, from + limit);
  return { object: "list", data: slice, has_more: from + limit < data.length, url };
}

/**
 * Starts the Stripe stand-in on 127.0.0.1.
 * @param {number} [port] 0 picks a free port
 * @param {{ secretKey?: string, webhookSecret?: string, webhookUrl?: string }} [options]
 */
export async function start(
  port = 0,
  {
    secretKey = process.env.STRIPE_SECRET_KEY || "sk_test_standin",
    webhookSecret = process.env.STRIPE_WEBHOOK_SECRET || "whsec_standin",
    webhookUrl = process.env.STRIPE_WEBHOOK_URL || undefined,
  } = {},
) {
  const state = {
    customers: new Map(),
    products: new Map(),
    prices: new Map(),
    subscriptions: new Map(),
    /** id → billing.meter */
    meters: new Map(),
    /** identifier → meter event */
    meterEvents: new Map(),
    /** id → invoice item (metered usage billed when its item was removed) */
    invoiceItems: new Map(),
    /** idempotency key → { fingerprint, status, body } */
    idempotency: new Map(),
    /** path → { count, status } */
    failures: new Map(),
    log: [],
  };

  const customer = (id, param = "customer") => {
    const c = state.customers.get(id);
    if (!c || c.deleted) throw missing("customer", id, param);
    return c;
  };
  const price = (id, param = "price") => {
    const p = state.prices.get(id);
    if (!p) throw missing("price", id, param);
    return p;
  };

  function createProduct({ name, metadata, active, description }) {
    if (typeof name !== "string" || !name) throw invalid("Missing required param: name.", { param: "name" });
    const product = {
      id: newId("prod"),
      object: "product",
      active: active === undefined ? true : asBool(active),
      created: nowS(),
      default_price: null,
      description: typeof description === "string" ? description : null,
      livemode: false,
      metadata: asMetadata(metadata),
      name,
      updated: nowS(),
    };
    state.products.set(product.id, product);
    return product;
  }

  function createPrice(p) {
    if (typeof p.currency !== "string" || !p.currency)
      throw invalid("Missing required param: currency.", { param: "currency" });
    const unitAmount = asInt(p.unit_amount, "unit_amount");
    if (unitAmount === undefined || unitAmount < 0)
      throw invalid("Missing required param: unit_amount.", { param: "unit_amount" });
    let productId;
    if (typeof p.product === "string") {
      if (!state.products.has(p.product)) throw missing("product", p.product, "product");
      productId = p.product;
    } else if (p.product_data && typeof p.product_data === "object") {
      productId = createProduct(p.product_data).id;
    } else {
      throw invalid("You must specify either `product` or `product_data` when creating a price.", {
        param: "product",
      });
    }
    const lookupKey = typeof p.lookup_key === "string" && p.lookup_key ? p.lookup_key : null;
    if (lookupKey) {
      const holder = [...state.prices.values()].find((x) => x.lookup_key === lookupKey);
      if (holder && !asBool(p.transfer_lookup_key)) {
        throw invalid(
          `A price (\`${holder.id}\`) already uses that lookup key. Pass \`transfer_lookup_key=true\` to move it.`,
          { param: "lookup_key" },
        );
      }
      if (holder) holder.lookup_key = null;
    }
    let recurring = null;
    if (p.recurring && typeof p.recurring === "object") {
      const interval = p.recurring.interval;
      if (!["day", "week", "month", "year"].includes(interval))
        throw invalid("Invalid recurring[interval]", { param: "recurring[interval]" });
      const usageType = p.recurring.usage_type ?? "licensed";
      if (!["licensed", "metered"].includes(usageType))
        throw invalid("Invalid recurring[usage_type]: must be one of licensed or metered", {
          param: "recurring[usage_type]",
        });
      let meter = null;
      if (usageType === "metered") {
        // Since usage records were removed, a metered price bills a Billing Meter.
        if (typeof p.recurring.meter !== "string" || !p.recurring.meter)
          throw invalid("Missing required param: recurring[meter].", { param: "recurring[meter]" });
        const m = state.meters.get(p.recurring.meter);
        if (!m) throw missing("billing.meter", p.recurring.meter, "recurring[meter]");
        if (m.status !== "active")
          throw invalid(`You can't attach the deactivated meter \`${m.id}\` to a price.`, {
            param: "recurring[meter]",
          });
        meter = m.id;
      } else if (p.recurring.meter !== undefined) {
        throw invalid("recurring[meter] can only be set when recurring[usage_type] is `metered`.", {
          param: "recurring[meter]",
        });
      }
      recurring = {
        interval,
        interval_count: asInt(p.recurring.interval_count, "recurring[interval_count]") ?? 1,
        meter,
        trial_period_days: null,
        usage_type: usageType,
      };
    }
    const created = {
      id: newId("price"),
      object: "price",
      active: true,
      billing_scheme: "per_unit",
      created: nowS(),
      currency: p.currency.toLowerCase(),
      livemode: false,
      lookup_key: lookupKey,
      metadata: asMetadata(p.metadata),
      nickname: typeof p.nickname === "string" ? p.nickname : null,
      product: productId,
      recurring,
      tax_behavior: "unspecified",
      type: recurring ? "recurring" : "one_time",
      unit_amount: unitAmount,
      unit_amount_decimal: String(unitAmount),
    };
    state.prices.set(created.id, created);
    return created;
  }

  const isMetered = (p) => p.recurring?.usage_type === "metered";

  /**
   * The quantity an item of price `p` gets from `raw` (`items[i][quantity]`, a string or undefined): licensed
   * items default to 1; metered items have none, and Stripe refuses one.
   */
  function itemQuantity(p, raw, i) {
    if (isMetered(p)) {
      if (raw !== undefined)
        throw invalid(
          `Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`items[${i}]\``,
          { param: `items[${i}][quantity]` },
        );
      return undefined;
    }
    return asInt(raw, `items[${i}][quantity]`) ?? 1;
  }

  function subscriptionItem(sub, priceId, rawQuantity, i) {
    const param = `items[${i}][price]`;
    const p = price(priceId, param);
    if (!p.recurring) throw invalid(`The price \`${priceId}\` is not recurring.`, { param });
    const quantity = itemQuantity(p, rawQuantity, i);
    return {
      id: newId("si"),
      object: "subscription_item",
      created: nowS(),
      current_period_start: sub.start_date,
      current_period_end: sub.start_date + PERIOD_S,
      metadata: {},
      price: p,
      ...(quantity === undefined ? {} : { quantity }),
      subscription: sub.id,
    };
  }

  function assertDistinctPrices(items) {
    const seen = new Set();
    for (const it of items) {
      if (seen.has(it.price.id))
        throw invalid("Cannot add multiple subscription items with the same price.", { param: "items" });
      seen.add(it.price.id);
    }
  }

  /** The subscription as the API returns it: items as a list, prices as they are now. */
  function render(sub) {
    const items = sub.items.map((it) => ({ ...it, price: state.prices.get(it.price.id) ?? it.price }));
    return {
      ...sub,
      items: {
        object: "list",
        data: items,
        has_more: false,
        total_count: items.length,
        url: `/v1/subscription_items?subscription=${sub.id}`,
      },
    };
  }

  function createSubscription(p) {
    if (typeof p.customer !== "string")
      throw invalid("Missing required param: customer.", { param: "customer" });
    customer(p.customer);
    const items = asList(p.items);
    if (!items.length) throw invalid("Missing required param: items.", { param: "items" });
    const collection = p.collection_method ?? "charge_automatically";
    if (!["charge_automatically", "send_invoice"].includes(collection))
      throw invalid("Invalid collection_method", { param: "collection_method" });
    const daysUntilDue = asInt(p.days_until_due, "days_until_due") ?? null;
    if (collection === "send_invoice" && daysUntilDue === null)
      throw invalid("Missing required param: days_until_due.", { param: "days_until_due" });
    const billingMode = p.billing_mode?.type ?? "flexible";
    if (!["classic", "flexible"].includes(billingMode))
      throw invalid("Invalid billing_mode[type]", { param: "billing_mode[type]" });
    const start = nowS();
    const sub = {
      id: newId("sub"),
      object: "subscription",
      billing_cycle_anchor: start,
      billing_mode: { flexible: null, type: billingMode, updated_at: start },
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      collection_method: collection,
      created: start,
      currency: "usd",
      customer: p.customer,
      days_until_due: daysUntilDue,
      ended_at: null,
      items: [],
      latest_invoice: null,
      livemode: false,
      metadata: asMetadata(p.metadata),
      start_date: start,
      status: "active",
    };
    sub.items = items.map((it, i) => {
      if (!it || typeof it !== "object" || typeof it.price !== "string")
        throw invalid(`Missing required param: items[${i}][price].`, { param: `items[${i}][price]` });
      return subscriptionItem(sub, it.price, it.quantity, i);
    });
    assertDistinctPrices(sub.items);
    sub.currency = sub.items[0]?.price.currency ?? "usd";
    state.subscriptions.set(sub.id, sub);
    return sub;
  }

  function updateSubscription(sub, p) {
    if (sub.status === "canceled") {
      const allowed = new Set(["metadata", "cancellation_details", "expand"]);
      if (Object.keys(p).some((k) => !allowed.has(k)))
        throw invalid("A canceled subscription can only update its cancellation_details and metadata.");
    }
    const proration = p.proration_behavior ?? "create_prorations";
    if (!["create_prorations", "none", "always_invoice"].includes(proration))
      throw invalid("Invalid proration_behavior", { param: "proration_behavior" });
    let items = sub.items.map((it) => ({ ...it }));
    /** Metered items removed by this update: their usage so far is billed (flexible mode). */
    const removedMetered = [];
    asList(p.items).forEach((it, i) => {
      if (!it || typeof it !== "object") throw invalid("Invalid items", { param: `items[${i}]` });
      if (typeof it.id === "string") {
        const idx = items.findIndex((x) => x.id === it.id);
        if (idx === -1)
          throw invalid(`Subscription item ${it.id} does not belong to subscription ${sub.id}`, {
            param: `items[${i}][id]`,
          });
        if (asBool(it.deleted)) {
          if (isMetered(items[idx].price)) removedMetered.push(items[idx]);
          items = items.filter((x) => x.id !== it.id);
          return;
        }
        const current = items[idx];
        if (typeof it.price === "string" && it.price !== current.price.id) {
          if (isMetered(current.price)) removedMetered.push({ ...current });
          current.price = price(it.price, `items[${i}][price]`);
          delete current.quantity;
          const q = itemQuantity(current.price, it.quantity, i);
          if (q !== undefined) current.quantity = q;
        } else if (it.quantity !== undefined) {
          current.quantity = itemQuantity(current.price, it.quantity, i);
        }
        if (it.metadata !== undefined) current.metadata = asMetadata(it.metadata, `items[${i}][metadata]`);
      } else {
        if (typeof it.price !== "string")
          throw invalid(`Missing required param: items[${i}][price].`, { param: `items[${i}][price]` });
        items.push(subscriptionItem(sub, it.price, it.quantity, i));
      }
    });
    assertDistinctPrices(items);
    if (!items.length)
      throw invalid("A subscription must have at least one active plan.", { param: "items" });
    if (sub.billing_mode.type === "flexible" && proration !== "none")
      for (const removed of removedMetered) billRemovedMeteredItem(sub, removed);
    sub.items = items;
    if (p.metadata !== undefined) sub.metadata = { ...sub.metadata, ...asMetadata(p.metadata) };
    for (const [k, v] of Object.entries(sub.metadata)) if (v === "") delete sub.metadata[k];
    return sub;
  }

  // -- Billing meters ---------------------------------------------------------------------------

  const meter = (id, param = "id") => {
    const m = state.meters.get(id);
    if (!m) throw missing("billing.meter", id, param);
    return m;
  };
  const activeMeterFor = (eventName) =>
    [...state.meters.values()].find((m) => m.event_name === eventName && m.status === "active");
  const customerKeyOf = (eventName) =>
    [...state.meters.values()].find((m) => m.event_name === eventName)?.customer_mapping.event_payload_key ??
    "stripe_customer_id";

  function payloadKey(v, param, fallback) {
    if (v === undefined) return fallback;
    if (!v || typeof v !== "object" || typeof v.event_payload_key !== "string" || !v.event_payload_key)
      throw invalid(`Missing required param: ${param}[event_payload_key].`, {
        param: `${param}[event_payload_key]`,
      });
    return v.event_payload_key;
  }

  function createMeter(p) {
    if (typeof p.display_name !== "string" || !p.display_name)
      throw invalid("Missing required param: display_name.", { param: "display_name" });
    if (typeof p.event_name !== "string" || !p.event_name)
      throw invalid("Missing required param: event_name.", { param: "event_name" });
    const formula = p.default_aggregation?.formula;
    if (formula === undefined)
      throw invalid("Missing required param: default_aggregation[formula].", {
        param: "default_aggregation[formula]",
      });
    if (!METER_FORMULAS.includes(formula))
      throw invalid(`Invalid default_aggregation[formula]: must be one of ${METER_FORMULAS.join(", ")}`, {
        param: "default_aggregation[formula]",
      });
    if (p.customer_mapping !== undefined && p.customer_mapping?.type !== "by_id")
      throw invalid("Invalid customer_mapping[type]: must be by_id", { param: "customer_mapping[type]" });
    const customerKey = payloadKey(p.customer_mapping, "customer_mapping", "stripe_customer_id");
    const valueKey = payloadKey(p.value_settings, "value_settings", "value");
    const window = p.event_time_window ?? null;
    if (window !== null && !["day", "hour"].includes(window))
      throw invalid("Invalid event_time_window: must be one of day, hour", { param: "event_time_window" });
    // An event name belongs to one meter only (deactivated meters keep theirs).
    const holder = [...state.meters.values()].find((m) => m.event_name === p.event_name);
    if (holder)
      throw invalid(`A meter with event_name \`${p.event_name}\` already exists: \`${holder.id}\`.`, {
        param: "event_name",
      });
    const at = nowS();
    const created = {
      id: newId("mtr"),
      object: "billing.meter",
      created: at,
      customer_mapping: { event_payload_key: customerKey, type: "by_id" },
      default_aggregation: { formula },
      display_name: p.display_name,
      event_name: p.event_name,
      event_time_window: window,
      livemode: false,
      status: "active",
      status_transitions: { deactivated_at: null },
      updated: at,
      value_settings: { event_payload_key: valueKey },
    };
    state.meters.set(created.id, created);
    return created;
  }

  function setMeterStatus(m, status) {
    if (m.status === status) throw invalid(`The meter \`${m.id}\` is already ${status}.`, { param: "id" });
    m.status = status;
    m.status_transitions = { deactivated_at: status === "inactive" ? nowS() : null };
    m.updated = nowS();
    return m;
  }

  /** The meter's aggregate (its formula) of a customer's events with `from <= timestamp < to`. */
  function aggregate(m, customerId, from, to) {
    const events = [...state.meterEvents.values()].filter(
      (e) =>
        e.event_name === m.event_name &&
        e.payload[m.customer_mapping.event_payload_key] === customerId &&
        (from == null || e.timestamp >= from) &&
        (to == null || e.timestamp < to),
    );
    const formula = m.default_aggregation.formula;
    if (formula === "count") return events.length;
    const values = events.map((e) => Number(e.payload[m.value_settings.event_payload_key] ?? 0));
    if (formula === "last") {
      let last = null;
      events.forEach((e, i) => {
        if (!last || e.timestamp >= last.timestamp) last = { timestamp: e.timestamp, value: values[i] };
      });
      return last ? last.value : 0;
    }
    return values.reduce((a, b) => a + b, 0);
  }

  /** The subscription's current period (the stand-in never cycles one). */
  const periodOf = (sub) => ({ start: sub.start_date, end: sub.start_date + PERIOD_S });

  /** What a metered item bills: its meter's usage since it was added, in the period. */
  function meteredItemUsage(sub, item) {
    const m = state.meters.get(item.price.recurring.meter);
    const period = periodOf(sub);
    const since = Math.max(period.start, item.created);
    const value = m ? aggregate(m, sub.customer, since, period.end) : 0;
    return { since, until: period.end, value, amount: Math.round(value * (item.price.unit_amount ?? 0)) };
  }

  /** Flexible billing mode: a metered item removed mid-period leaves an invoice item for its usage so far. */
  function billRemovedMeteredItem(sub, item) {
    const usage = meteredItemUsage(sub, item);
    if (!usage.value) return;
    const ii = {
      id: newId("ii"),
      object: "invoiceitem",
      amount: usage.amount,
      currency: item.price.currency,
      customer: sub.customer,
      date: nowS(),
      description: `Usage of the removed item ${item.id}`,
      discountable: false,
      invoice: null,
      livemode: false,
      metadata: {},
      parent: {
        subscription_details: { subscription: sub.id, subscription_item: item.id },
        type: "subscription_details",
      },
      period: { start: usage.since, end: nowS() },
      pricing: {
        price_details: { price: item.price.id, product: item.price.product },
        type: "price_details",
        unit_amount_decimal: String(item.price.unit_amount),
      },
      proration: true,
      quantity: usage.value,
    };
    state.invoiceItems.set(ii.id, ii);
  }

  /**
   * Per meter, the customer's usage this period (`total`) and, per metered item of its live subscription on
   * that meter, what the next invoice would bill (`items[].value`, `items[].amount` in cents). Only meters
   * with events or items for the customer.
   */
  function meteredUsage(customerId) {
    const sub = [...state.subscriptions.values()]
      .filter((s) => s.customer === customerId && !["canceled", "incomplete_expired"].includes(s.status))
      .at(-1);
    const period = sub ? periodOf(sub) : null;
    const out = [];
    for (const m of state.meters.values()) {
      const items = (sub?.items ?? []).filter(
        (it) => isMetered(it.price) && it.price.recurring.meter === m.id,
      );
      const hasEvents = [...state.meterEvents.values()].some(
        (e) =>
          e.event_name === m.event_name && e.payload[m.customer_mapping.event_payload_key] === customerId,
      );
      if (!items.length && !hasEvents) continue;
      out.push({
        customer: customerId,
        meter: m.id,
        event_name: m.event_name,
        period,
        total: aggregate(m, customerId, period?.start, period?.end),
        items: items.map((it) => {
          const usage = meteredItemUsage(sub, it);
          return {
            subscription_item: it.id,
            price: it.price.id,
            unit_amount: it.price.unit_amount,
            since: usage.since,
            value: usage.value,
            amount: usage.amount,
          };
        }),
      });
    }
    return out;
  }

  function createMeterEvent(p) {
    if (typeof p.event_name !== "string" || !p.event_name)
      throw invalid("Missing required param: event_name.", { param: "event_name" });
    const payload = p.payload;
    if (!payload || typeof payload !== "object")
      throw invalid("Missing required param: payload.", { param: "payload" });
    const m = activeMeterFor(p.event_name);
    if (!m) throw invalid(`No active meter found for event_name ${p.event_name}`, { param: "event_name" });
    const customerKey = m.customer_mapping.event_payload_key;
    if (typeof payload[customerKey] !== "string" || !payload[customerKey])
      throw invalid(`Missing required param: payload[${customerKey}].`, { param: `payload[${customerKey}]` });
    const valueKey = m.value_settings.event_payload_key;
    if (
      m.default_aggregation.formula !== "count" &&
      (typeof payload[valueKey] !== "string" || !/^-?\d+(\.\d+)?$/.test(payload[valueKey]))
    )
      throw invalid(`payload[${valueKey}] must be a number.`, { param: `payload[${valueKey}]` });
    const timestamp = asInt(p.timestamp, "timestamp") ?? nowS();
    if (timestamp < nowS() - METER_EVENT_MAX_AGE_S || timestamp > nowS() + METER_EVENT_MAX_FUTURE_S)
      throw invalid("Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.", {
        param: "timestamp",
      });
    const identifier = typeof p.identifier === "string" && p.identifier ? p.identifier : newId("mev");
    if (state.meterEvents.has(identifier))
      throw invalid(`An event already exists with identifier ${identifier}.`, {
        code: "resource_already_exists",
        param: "identifier",
      });
    const event = {
      object: "billing.meter_event",
      created: nowS(),
      event_name: p.event_name,
      identifier,
      livemode: false,
      payload: { ...payload },
      timestamp,
    };
    state.meterEvents.set(identifier, event);
    return event;
  }

  /** The /v1 API. Returns [status, body]; throws StripeError. */
  function api(method, path, params) {
    const seg = path.split("/").filter(Boolean); // ["v1", ...]
    const [, resource, id, sub] = seg;
    if (resource === "customers") {
      if (method === "POST" && !id) {
        const c = {
          id: newId("cus"),
          object: "customer",
          balance: 0,
          created: nowS(),
          currency: null,
          description: typeof params.description === "string" ? params.description : null,
          email: typeof params.email === "string" ? params.email : null,
          livemode: false,
          metadata: asMetadata(params.metadata),
          name: typeof params.name === "string" ? params.name : null,
        };
        state.customers.set(c.id, c);
        return [200, c];
      }
      if (method === "GET" && !id) {
        let data = [...state.customers.values()].filter((c) => !c.deleted);
        if (typeof params.email === "string") data = data.filter((c) => c.email === params.email);
        const limit = asInt(params.limit, "limit") ?? 10;
        return [200, list("/v1/customers", data.reverse().slice(0, limit))];
      }
      if (method === "GET" && id && !sub) return [200, customer(id, "id")];
    }
    if (resource === "products" && method === "POST" && !id) return [200, createProduct(params)];
    if (resource === "prices") {
      if (method === "POST" && !id) return [200, createPrice(params)];
      if (method === "GET" && !id) {
        let data = [...state.prices.values()];
        const keys = asList(params.lookup_keys);
        if (keys.length) data = data.filter((p) => keys.includes(p.lookup_key));
        if (params.active !== undefined) data = data.filter((p) => p.active === asBool(params.active));
        const recurring = params.recurring && typeof params.recurring === "object" ? params.recurring : {};
        if (recurring.usage_type !== undefined)
          data = data.filter((p) => p.recurring?.usage_type === recurring.usage_type);
        if (recurring.meter !== undefined) data = data.filter((p) => p.recurring?.meter === recurring.meter);
        const limit = asInt(params.limit, "limit") ?? 10;
        return [200, list("/v1/prices", data.reverse().slice(0, limit))];
      }
      if (method === "GET" && id) return [200, price(id, "id")];
    }
    if (resource === "subscriptions") {
      if (method === "POST" && !id) return [200, render(createSubscription(params))];
      const s = id ? state.subscriptions.get(id) : undefined;
      if (id && !s) throw missing("subscription", id);
      if (s && method === "GET" && !sub) return [200, render(s)];
      if (s && method === "POST" && !sub) return [200, render(updateSubscription(s, params))];
      if (s && method === "DELETE" && !sub) {
        if (s.status !== "canceled") {
          s.status = "canceled";
          s.canceled_at = nowS();
          s.ended_at = s.canceled_at;
        }
        return [200, render(s)];
      }
    }
    if (resource === "billing" && id === "meter_events" && !sub && method === "POST")
      return [200, createMeterEvent(params)];
    if (resource === "billing" && id === "meters") {
      const [, , , meterId, action, extra] = seg;
      if (!meterId && method === "GET") {
        let data = [...state.meters.values()].reverse();
        if (params.status !== undefined) {
          if (!["active", "inactive"].includes(params.status))
            throw invalid("Invalid status: must be one of active, inactive", { param: "status" });
          data = data.filter((m) => m.status === params.status);
        }
        return [200, page("/v1/billing/meters", data, params)];
      }
      if (!meterId && method === "POST") return [200, createMeter(params)];
      if (meterId && !extra) {
        const m = meter(meterId);
        if (!action && method === "GET") return [200, m];
        if (!action && method === "POST") {
          if (params.display_name !== undefined) {
            if (typeof params.display_name !== "string" || !params.display_name)
              throw invalid("Invalid display_name", { param: "display_name" });
            m.display_name = params.display_name;
            m.updated = nowS();
          }
          return [200, m];
        }
        if (action === "deactivate" && method === "POST") return [200, setMeterStatus(m, "inactive")];
        if (action === "reactivate" && method === "POST") return [200, setMeterStatus(m, "active")];
      }
    }
    throw new StripeError(404, `Unrecognized request URL (${method}: ${path}).`);
  }

  function buildEvent(body) {
    if (!body || typeof body.type !== "string" || !body.data || typeof body.data !== "object")
      throw invalid("Body must be { type, data: { object }, id?, created?, timestamp? }");
    const timestamp = Number.isInteger(body.timestamp) ? body.timestamp : nowS();
    const event = {
      id: typeof body.id === "string" ? body.id : newId("evt"),
      object: "event",
      api_version: API_VERSION,
      created: Number.isInteger(body.created) ? body.created : timestamp,
      data: body.data,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: body.type,
    };
    // Stripe sends its events pretty-printed; the signature covers these exact bytes.
    const payload = JSON.stringify(event, null, 2);
    const v1 = createHmac("sha256", webhookSecret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
    return { event, payload, header: `t=${timestamp},v1=${v1}` };
  }

  function snapshot(customerId) {
    const keep = (cus) => !customerId || cus === customerId;
    const subscriptions = [...state.subscriptions.values()].filter((s) => keep(s.customer)).map(render);
    return {
      customers: [...state.customers.values()].filter((c) => keep(c.id)),
      products: [...state.products.values()],
      prices: [...state.prices.values()],
      subscriptions,
      meters: [...state.meters.values()],
      meterEvents: [...state.meterEvents.values()].filter((e) =>
        keep(e.payload[customerKeyOf(e.event_name)]),
      ),
      meteredUsage: [...state.customers.values()]
        .filter((c) => keep(c.id))
        .flatMap((c) => meteredUsage(c.id)),
      invoiceItems: [...state.invoiceItems.values()].filter((ii) => keep(ii.customer)),
      log: customerId ? [] : state.log,
    };
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      const raw = await readBody(req, MAX_BODY);
      if (url.pathname.startsWith("/__")) {
        let body = {};
        if (req.method === "POST" && raw) {
          try {
            body = JSON.parse(raw);
          } catch {
            return send(res, 400, { error: { type: "invalid_request_error", message: "Body must be JSON" } });
          }
        }
        if (req.method === "GET" && url.pathname === "/__state")
          return send(res, 200, snapshot(url.searchParams.get("customer")));
        if (req.method === "POST" && url.pathname === "/__sign") {
          const { event, payload, header } = buildEvent(body);
          return send(res, 200, { payload, header, event });
        }
        if (req.method === "POST" && url.pathname === "/__deliver") {
          const target = typeof body.url === "string" ? body.url : webhookUrl;
          if (!target) throw invalid("No webhook URL: start the stand-in with webhookUrl or pass url");
          const { event, payload, header } = buildEvent(body);
          const answer = await fetch(target, {
            method: "POST",
            headers: {
              "content-type": "application/json; charset=utf-8",
              "stripe-signature": header,
              "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
            body: payload,
          });
          return send(res, 200, { status: answer.status, body: await answer.text(), event });
        }
        if (req.method === "POST" && url.pathname === "/__fail") {
          if (typeof body.path !== "string") throw invalid("Body must be { path, count?, status? }");
          state.failures.set(body.path, {
            count: Number.isInteger(body.count) ? body.count : 1,
            status: Number.isInteger(body.status) ? body.status : 500,
          });
          return send(res, 200, { ok: true });
        }
        if (req.method === "POST" && url.pathname === "/__reset") {
          for (const v of Object.values(state)) v.clear?.();
          state.log.length = 0;
          return send(res, 200, { ok: true });
        }
        throw new StripeError(404, `Unrecognized request URL (${req.method}: ${url.pathname}).`);
      }

      if (!url.pathname.startsWith("/v1/")) throw new StripeError(404, `Unrecognized request URL.`);
      const auth = req.headers.authorization;
      if (!auth)
        throw new StripeError(
          401,
          "You did not provide an API key. Provide it in the Authorization header (Bearer auth).",
        );
      if (auth !== `Bearer ${secretKey}`) {
        const shown = auth.replace(/^Bearer\s+/i, "").slice(0, 8);
        throw new StripeError(401, `Invalid API Key provided: ${shown}***`);
      }
      const method = req.method ?? "GET";
      const params = method === "GET" || method === "DELETE" ? parseForm(url.searchParams) : parseForm(raw);
      const key = req.headers["idempotency-key"];
      const fingerprint = `${method} ${url.pathname} ${method === "POST" ? raw : url.search}`;
      const entry = { at: new Date().toISOString(), method, path: url.pathname, idempotencyKey: key ?? null };
      if (typeof key === "string" && method === "POST") {
        const seen = state.idempotency.get(key);
        if (seen) {
          if (seen.fingerprint !== fingerprint) {
            state.log.push({ ...entry, status: 400, replayed: false });
            throw new StripeError(
              400,
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              { type: "idempotency_error" },
            );
          }
          state.log.push({ ...entry, status: seen.status, replayed: true });
          return send(res, seen.status, seen.body, { "idempotent-replayed": "true", "idempotency-key": key });
        }
      }
      const failure = state.failures.get(url.pathname);
      if (failure && failure.count > 0) {
        failure.count -= 1;
        state.log.push({ ...entry, status: failure.status, replayed: false, injected: true });
        const type = failure.status >= 500 ? "api_error" : "invalid_request_error";
        return send(res, failure.status, {
          error: { type, message: `Injected failure (${failure.status}) by the stand-in` },
        });
      }
      let status;
      let body;
      try {
        [status, body] = api(method, url.pathname, params);
      } catch (err) {
        if (!(err instanceof StripeError)) throw err;
        state.log.push({ ...entry, status: err.status, replayed: false });
        return send(res, err.status, err.body);
      }
      // Stripe keeps the result of a request that ran; a request refused by validation is not kept.
      if (typeof key === "string" && method === "POST")
        state.idempotency.set(key, { fingerprint, status, body });
      state.log.push({ ...entry, status, replayed: false });
      return send(res, status, body, typeof key === "string" ? { "idempotency-key": key } : {});
    } catch (err) {
      if (err instanceof StripeError) return send(res, err.status, err.body);
      send(res, 500, { error: { type: "api_error", message: String(err?.message ?? err) } });
    }
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = server.address().port;
      resolve({
        port: actual,
        url: `http://127.0.0.1:${actual}`,
        secretKey,
        webhookSecret,
        webhookUrl: webhookUrl ?? null,
        state,
        snapshot,
        sign: buildEvent,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stripe = await start(Number(process.argv[2] ?? process.env.PORT ?? 0));
  process.stdout.write(
    `stripe stand-in: STRIPE_API_URL=${stripe.url}  STRIPE_SECRET_KEY=${stripe.secretKey}  STRIPE_WEBHOOK_SECRET=${stripe.webhookSecret}  ·  GET ${stripe.url}/__state\n`,
  );
}
