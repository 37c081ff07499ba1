#!/usr/bin/env node
// A local stand-in for the Stripe API, for the official `stripe` SDK pointed at it with
// `host`/`port`/`protocol` (STRIPE_API_URL). It serves what the billing integration uses, with
// Stripe's object shapes, ids, list envelopes and error JSON, and keeps everything in memory:
//
//   POST /v1/customers, GET /v1/customers/:id, GET /v1/customers (?email=)
//   POST /v1/products
//   POST /v1/prices (product or product_data, lookup_key, transfer_lookup_key), GET /v1/prices (?lookup_keys[]=)
//   POST /v1/subscriptions, GET /v1/subscriptions/:id, POST /v1/subscriptions/:id (items[n][id|price|quantity|deleted]),
//   DELETE /v1/subscriptions/:id (cancel)
//   POST /v1/billing/meter_events (an identifier already used is a 400, as on Stripe)
//
// Every /v1 request needs `Authorization: Bearer <secret key>`; bodies are form-encoded with
// Stripe's bracket notation. `Idempotency-Key` is honoured as Stripe does: the same key replays the
// first (successful) response with `Idempotent-Replayed: true`; reusing it with other parameters is
// a 400 `idempotency_error`.
//
// Test and dev endpoints (no key):
//   GET  /__state        customers, products, prices, subscriptions (with items), meter events, request log;
//                        `?customer=cus_…` keeps that customer's objects only
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
import { parseForm } from "./stripe-form.mjs";

const MAX_BODY = 1024 * 1024;
/** The API version the events say they were rendered with (the pinned SDK's). */
export const API_VERSION = "2026-10-28.endive";
const METER_EVENT_MAX_AGE_S = 35 * 24 * 3600;
const METER_EVENT_MAX_FUTURE_S = 5 * 60;

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

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
    /** identifier → meter event */
    meterEvents: new Map(),
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
      recurring = {
        interval,
        interval_count: asInt(p.recurring.interval_count, "recurring[interval_count]") ?? 1,
        meter: null,
        usage_type: "licensed",
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

  function subscriptionItem(sub, priceId, quantity, param) {
    const p = price(priceId, param);
    if (!p.recurring) throw invalid(`The price \`${priceId}\` is not recurring.`, { param });
    return {
      id: newId("si"),
      object: "subscription_item",
      created: nowS(),
      current_period_start: sub.start_date,
      current_period_end: sub.start_date + 30 * 24 * 3600,
      metadata: {},
      price: p,
      quantity,
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
    const start = nowS();
    const sub = {
      id: newId("sub"),
      object: "subscription",
      billing_cycle_anchor: start,
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
      const quantity = asInt(it.quantity, `items[${i}][quantity]`) ?? 1;
      return subscriptionItem(sub, it.price, quantity, `items[${i}][price]`);
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
    let items = sub.items.map((it) => ({ ...it }));
    asList(p.items).forEach((it, i) => {
      if (!it || typeof it !== "object") throw invalid("Invalid items", { param: `items[${i}]` });
      if (typeof it.id === "string") {
        const idx = items.findIndex((x) => x.id === it.id);
        if (idx === -1)
          throw invalid(`Subscription item ${it.id} does not belong to subscription ${sub.id}`, {
            param: `items[${i}][id]`,
          });
        if (asBool(it.deleted)) {
          items = items.filter((x) => x.id !== it.id);
          return;
        }
        const current = items[idx];
        if (typeof it.price === "string" && it.price !== current.price.id) {
          current.price = price(it.price, `items[${i}][price]`);
          current.quantity = 1;
        }
        const q = asInt(it.quantity, `items[${i}][quantity]`);
        if (q !== undefined) current.quantity = q;
        if (it.metadata !== undefined) current.metadata = asMetadata(it.metadata, `items[${i}][metadata]`);
      } else {
        if (typeof it.price !== "string")
          throw invalid(`Missing required param: items[${i}][price].`, { param: `items[${i}][price]` });
        const q = asInt(it.quantity, `items[${i}][quantity]`) ?? 1;
        items.push(subscriptionItem(sub, it.price, q, `items[${i}][price]`));
      }
    });
    assertDistinctPrices(items);
    if (!items.length)
      throw invalid("A subscription must have at least one active plan.", { param: "items" });
    sub.items = items;
    if (p.metadata !== undefined) sub.metadata = { ...sub.metadata, ...asMetadata(p.metadata) };
    for (const [k, v] of Object.entries(sub.metadata)) if (v === "") delete sub.metadata[k];
    return sub;
  }

  function createMeterEvent(p) {
    if (typeof p.event_name !== "string" || !p.event_name)
      throw invalid("Missing required param: event_name.", { param: "event_name" });
    const payload = p.payload;
    if (!payload || typeof payload !== "object")
      throw invalid("Missing required param: payload.", { param: "payload" });
    if (typeof payload.stripe_customer_id !== "string" || !payload.stripe_customer_id)
      throw invalid("Missing required param: payload[stripe_customer_id].", {
        param: "payload[stripe_customer_id]",
      });
    if (typeof payload.value !== "string" || !/^-?\d+(\.\d+)?$/.test(payload.value))
      throw invalid("payload[value] must be a number.", { param: "payload[value]" });
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
      meterEvents: [...state.meterEvents.values()].filter((e) => keep(e.payload.stripe_customer_id)),
      log: customerId ? [] : state.log,
    };
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      const raw = await readBody(req);
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
