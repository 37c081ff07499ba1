import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import Stripe from "stripe";
import { z } from "zod";
import type { Database } from "../../db/client";
import { agents, stripeEvents, tenants, usageCalls, users } from "../../db/schema";
import {
  AGENT_FEE_USD,
  HIGH_THINKING_SURCHARGE_USD,
  MODEL_TIERS,
  type ModelTier,
  type PlanTier,
  planOf,
  platformFeeUsd,
  priceAgents,
  type TenantTerms,
  type ThinkingMode,
} from "../../lib/pricing";
import { buildAuditEvent, enqueueAudit } from "../audit/record";

/**
 * Stripe: the tenant's customer and subscription mirror its plan and agents (`syncTenantBilling`,
 * run from the PROVISIONING queue), overage goes as meter events (`reportOverage`) that the
 * subscription's metered overage item bills, and the invoice webhooks set the tenant's billing status
 * (`applyStripeEvent`, see stripe-webhook.ts).
 */

/** The meter the overage meter events are sent to (its event name in Stripe). */
export const OVERAGE_METER_EVENT = "aegis_overage";
/**
 * The metered price that bills the overage meter: one cent per unit, since a meter event's value is the
 * call's overage in cents. On the subscription while the tenant has overage billing on.
 */
export const OVERAGE_LOOKUP_KEY = "aegis_overage_cents";
/** Invoices of the subscription are sent and paid by the customer; due this many days after. */
export const INVOICE_DAYS_UNTIL_DUE = 30;
const CURRENCY = "usd";
const SYSTEM_ACTOR = { type: "system" as const, id: null, name: "billing" };

export function stripeClient(env: Env): Stripe {
  let endpoint: { host: string; port: number; protocol: "http" | "https" } | undefined;
  if (env.STRIPE_API_URL) {
    const url = new URL(env.STRIPE_API_URL);
    const protocol = url.protocol === "http:" ? "http" : "https";
    endpoint = {
      host: url.hostname,
      port: Number(url.port || (protocol === "http" ? 80 : 443)),
      protocol,
    };
  }
  return new Stripe(env.STRIPE_SECRET_KEY, {
    httpClient: Stripe.createFetchHttpClient(),
    ...endpoint,
    maxNetworkRetries: 2,
  });
}

// ---------------------------------------------------------------------------------------------
// What the subscription should hold
// ---------------------------------------------------------------------------------------------

/** A monthly price this integration keeps in Stripe, found again by its lookup key. */
interface PriceSpec {
  /** The Stripe price's lookup key: `aegis_platform_<tier>`, `aegis_agent_<model>`, `aegis_thinking_high`, `aegis_overage_cents`. */
  lookupKey: string;
  /** The product name shown on invoices. */
  name: string;
  unitAmountCents: number;
  /** A metered price: the Billing Meter whose usage it bills (its items have no quantity). */
  meterId?: string;
}

export interface BillingLine extends PriceSpec {
  quantity: number;
}

const cents = (usd: number) => Math.round(usd * 100);

/**
 * The subscription items of a tenant: the platform fee (1), per model tier the agents beyond the
 * included ones, and every agent in high thinking mode (the surcharge applies to included agents
 * too). Lines with quantity 0 are left out. Amounts come from pricing.ts. A platform fee set by
 * contract (enterprise) has its own price per amount: `aegis_platform_<tier>_<cents>`.
 */
export function billingLines(
  terms: TenantTerms,
  agentsByCreation: ReadonlyArray<{ modelTier: ModelTier; thinkingMode: ThinkingMode }>,
): BillingLine[] {
  const plan = planOf(terms.planTier);
  const fee = cents(platformFeeUsd(terms));
  const contractFee = plan.customContract || terms.contractPlatformFeeUsd != null;
  const lines: BillingLine[] = [
    {
      lookupKey: contractFee ? `aegis_platform_${plan.tier}_${fee}` : `aegis_platform_${plan.tier}`,
      name: `Aegis ${plan.label} platform fee`,
      unitAmountCents: fee,
      quantity: 1,
    },
  ];
  const priced = priceAgents(terms, agentsByCreation);
  for (const model of MODEL_TIERS) {
    const quantity = priced.filter((a) => !a.included && a.modelTier === model).length;
    if (quantity > 0)
      lines.push({
        lookupKey: `aegis_agent_${model}`,
        name: `Aegis agent (${model})`,
        unitAmountCents: cents(AGENT_FEE_USD[model]),
        quantity,
      });
  }
  const high = priced.filter((a) => a.thinkingMode === "high").length;
  if (high > 0)
    lines.push({
      lookupKey: "aegis_thinking_high",
      name: "Aegis high thinking mode surcharge",
      unitAmountCents: cents(HIGH_THINKING_SURCHARGE_USD),
      quantity: high,
    });
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Sync
// ---------------------------------------------------------------------------------------------

export type BillingSyncResult =
  | {
      status: "skipped";
      reason: "stripe_not_configured" | "no_tenant" | "tenant_not_billable" | "sync_in_progress";
    }
  | {
      status: "synced";
      customerId: string;
      subscriptionId: string;
      /** What this run changed in Stripe: nothing on a second run with the same agents. */
      created: Array<"customer" | "subscription">;
      itemChanges: number;
      items: Record<string, number>;
      /** The metered overage item is on the subscription (after this run). */
      overageItem: boolean;
    };

const BILLABLE_STATUSES = ["active", "suspended"];

/** Prices by lookup key, created (or their lookup key moved to a new price) when missing or changed. */
async function ensurePrices(stripe: Stripe, specs: PriceSpec[]): Promise<Map<string, Stripe.Price>> {
  const existing = await stripe.prices.list({
    lookup_keys: specs.map((l) => l.lookupKey),
    active: true,
    limit: 100,
  });
  const byKey = new Map<string, Stripe.Price>();
  for (const spec of specs) {
    const found = existing.data.find(
      (p) =>
        p.lookup_key === spec.lookupKey &&
        p.unit_amount === spec.unitAmountCents &&
        p.currency === CURRENCY &&
        p.recurring?.interval === "month" &&
        (spec.meterId
          ? p.recurring.usage_type === "metered" && p.recurring.meter === spec.meterId
          : p.recurring.usage_type !== "metered"),
    );
    if (found) {
      byKey.set(spec.lookupKey, found);
      continue;
    }
    const created = await stripe.prices.create(
      {
        currency: CURRENCY,
        unit_amount: spec.unitAmountCents,
        recurring: spec.meterId
          ? { interval: "month", usage_type: "metered", meter: spec.meterId }
          : { interval: "month" },
        product_data: { name: spec.name },
        lookup_key: spec.lookupKey,
        transfer_lookup_key: true,
        metadata: { aegis_key: spec.lookupKey },
      },
      {
        idempotencyKey: `aegis-price-${spec.lookupKey}-${spec.unitAmountCents}${spec.meterId ? `-${spec.meterId}` : ""}`,
      },
    );
    byKey.set(spec.lookupKey, created);
  }
  return byKey;
}

/**
 * The Billing Meter of the overage events (`aegis_overage`: sum of `value` per `stripe_customer_id`).
 * Meters have no lookup key: it is found by listing the active ones. An event name belongs to one
 * meter, so a create that loses a race (or meets a deactivated meter) is refused: then the meter is
 * looked up again among all, and reactivated if someone deactivated it.
 */
async function ensureOverageMeter(stripe: Stripe): Promise<Stripe.Billing.Meter> {
  const find = async (params: Stripe.Billing.MeterListParams) => {
    for await (const meter of stripe.billing.meters.list({ ...params, limit: 100 }))
      if (meter.event_name === OVERAGE_METER_EVENT) return meter;
    return null;
  };
  const active = await find({ status: "active" });
  if (active) return active;
  let meter: Stripe.Billing.Meter | null;
  try {
    meter = await stripe.billing.meters.create(
      {
        display_name: "Aegis overage (cents)",
        event_name: OVERAGE_METER_EVENT,
        default_aggregation: { formula: "sum" },
        customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
        value_settings: { event_payload_key: "value" },
      },
      { idempotencyKey: `aegis-meter-${OVERAGE_METER_EVENT}` },
    );
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeInvalidRequestError)) throw err;
    meter = await find({});
    if (!meter) throw err;
  }
  return meter.status === "active" ? meter : stripe.billing.meters.reactivate(meter.id);
}

/** Items this integration manages (priced by ensurePrices); anything added by hand in Stripe stays. */
const isManaged = (item: Stripe.SubscriptionItem) =>
  Boolean(item.price.metadata?.aegis_key) || Boolean(item.price.lookup_key?.startsWith("aegis_"));

const itemKey = (item: Stripe.SubscriptionItem) =>
  item.price.metadata?.aegis_key || item.price.lookup_key || item.price.id;

const isMetered = (item: Stripe.SubscriptionItem) => item.price.recurring?.usage_type === "metered";

/** Overage of the tenant's calls not yet sent to Stripe: the metered item must stay to bill it. */
async function hasUnreportedOverage(db: Database, tenantId: string): Promise<boolean> {
  const row = await db
    .select({ id: usageCalls.id })
    .from(usageCalls)
    .where(
      and(
        eq(usageCalls.tenantId, tenantId),
        gt(usageCalls.overageMicros, 0),
        isNull(usageCalls.stripeReportedAt),
      ),
    )
    .limit(1)
    .get();
  return Boolean(row);
}

async function retrieveLiveSubscription(stripe: Stripe, id: string): Promise<Stripe.Subscription | null> {
  try {
    const sub = await stripe.subscriptions.retrieve(id);
    return ["canceled", "incomplete_expired"].includes(sub.status) ? null : sub;
  } catch (err) {
    if (err instanceof Stripe.errors.StripeError && err.code === "resource_missing") return null;
    throw err;
  }
}

/**
 * Makes the tenant's Stripe customer and subscription match its plan, agents and overage setting (the
 * metered overage item, see below; the overage meter and prices are created once). Idempotent: a run
 * with nothing to change only reads. The customer and the first subscription are created with
 * idempotency keys derived from the tenant, so a retry after a crash never makes a second one.
 */
export async function syncTenantBilling(
  db: Database,
  env: Env,
  tenantId: string,
): Promise<BillingSyncResult> {
  if (!env.STRIPE_SECRET_KEY) return { status: "skipped", reason: "stripe_not_configured" };
  // One sync per tenant at a time (two at once could each create a subscription): a lease in D1.
  // A sync that finds the lease taken leaves `pending`; the holder runs once more before it leaves,
  // so the last change is always synced.
  let result: BillingSyncResult = { status: "skipped", reason: "sync_in_progress" };
  for (let round = 0; round < 5; round++) {
    if (!(await acquireSyncLease(db, tenantId))) {
      await db.update(tenants).set({ billingSyncPending: true }).where(eq(tenants.id, tenantId));
      // The holder may have left between the two statements: then this caller runs it.
      if (!(await acquireSyncLease(db, tenantId))) return result;
    }
    try {
      await db.update(tenants).set({ billingSyncPending: false }).where(eq(tenants.id, tenantId));
      result = await syncTenantBillingOnce(db, env, tenantId);
    } finally {
      await db.update(tenants).set({ billingSyncUntil: null }).where(eq(tenants.id, tenantId));
    }
    const again = await db
      .select({ pending: tenants.billingSyncPending })
      .from(tenants)
      .where(eq(tenants.id, tenantId))
      .get();
    if (!again?.pending) return result;
  }
  return result;
}

/** The lease lasts a minute, so a sync that died holding it blocks nobody for long. */
async function acquireSyncLease(db: Database, tenantId: string): Promise<boolean> {
  const now = new Date();
  const rows = await db
    .update(tenants)
    .set({ billingSyncUntil: new Date(now.getTime() + 60_000).toISOString() })
    .where(
      and(
        eq(tenants.id, tenantId),
        or(isNull(tenants.billingSyncUntil), lt(tenants.billingSyncUntil, now.toISOString())),
      ),
    )
    .returning({ id: tenants.id })
    .all();
  return rows.length > 0;
}

async function syncTenantBillingOnce(db: Database, env: Env, tenantId: string): Promise<BillingSyncResult> {
  const tenant = await db.select().from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!tenant) return { status: "skipped", reason: "no_tenant" };
  if (!BILLABLE_STATUSES.includes(tenant.status)) return { status: "skipped", reason: "tenant_not_billable" };

  const rows = await db
    .select({ modelTier: agents.modelTier, thinkingMode: agents.thinkingMode })
    .from(agents)
    .where(and(eq(agents.tenantId, tenantId), ne(agents.status, "deleted")))
    .orderBy(asc(agents.createdAt), asc(agents.id))
    .all();
  const terms: TenantTerms = {
    planTier: tenant.planTier as PlanTier,
    contractPlatformFeeUsd: tenant.contractPlatformFeeUsd,
    contractIncludedAgents: tenant.contractIncludedAgents,
  };
  const lines = billingLines(
    terms,
    rows.map((r) => ({ modelTier: r.modelTier as ModelTier, thinkingMode: r.thinkingMode as ThinkingMode })),
  );
  const stripe = stripeClient(env);
  const created: Array<"customer" | "subscription"> = [];
  const audits = [];

  // 1. The customer.
  let customerId = tenant.stripeCustomerId;
  if (!customerId) {
    const admin = await db
      .select({ email: users.email })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.role, "tenant_admin")))
      .orderBy(asc(users.createdAt))
      .get();
    const customer = await stripe.customers.create(
      {
        name: tenant.name,
        ...(admin ? { email: admin.email } : {}),
        metadata: { tenantId, slug: tenant.slug },
      },
      { idempotencyKey: `aegis-customer-${tenantId}` },
    );
    const [stored] = await db
      .update(tenants)
      .set({ stripeCustomerId: customer.id, updatedAt: new Date().toISOString() })
      .where(and(eq(tenants.id, tenantId), isNull(tenants.stripeCustomerId)))
      .returning({ id: tenants.id });
    if (stored) {
      customerId = customer.id;
      created.push("customer");
      audits.push(
        buildAuditEvent({
          action: "billing.customer_created",
          tenantId,
          actor: SYSTEM_ACTOR,
          target: { type: "tenant", id: tenantId },
          details: { stripeCustomerId: customer.id },
        }),
      );
    } else {
      // Another run stored one first (with the same idempotency key: the same customer).
      const again = await db
        .select({ id: tenants.stripeCustomerId })
        .from(tenants)
        .where(eq(tenants.id, tenantId))
        .get();
      customerId = again?.id ?? customer.id;
    }
  }

  // 2. The prices, and the meter that the overage price bills.
  const meter = await ensureOverageMeter(stripe);
  const prices = await ensurePrices(stripe, [
    ...lines,
    {
      lookupKey: OVERAGE_LOOKUP_KEY,
      name: "Aegis overage (usage beyond the quota)",
      unitAmountCents: 1,
      meterId: meter.id,
    },
  ]);
  const wanted = new Map<string, { line: BillingLine; priceId: string }>();
  for (const line of lines) {
    const price = prices.get(line.lookupKey);
    if (price) wanted.set(price.id, { line, priceId: price.id });
  }
  const items = Object.fromEntries(lines.map((l) => [l.lookupKey, l.quantity]));
  const overagePriceId = prices.get(OVERAGE_LOOKUP_KEY)?.id;
  if (!overagePriceId) throw new Error(`no ${OVERAGE_LOOKUP_KEY} price`);
  let overageItem = tenant.overageBillingEnabled;

  // 3. The subscription.
  const current = tenant.stripeSubscriptionId
    ? await retrieveLiveSubscription(stripe, tenant.stripeSubscriptionId)
    : null;
  let subscriptionId: string;
  let itemChanges = 0;
  if (!current) {
    const sub = await stripe.subscriptions.create(
      {
        customer: customerId,
        items: [
          ...[...wanted.values()].map((w) => ({ price: w.priceId, quantity: w.line.quantity })),
          // Metered: no quantity, Stripe bills the meter's usage.
          ...(overageItem ? [{ price: overagePriceId }] : []),
        ],
        collection_method: "send_invoice",
        days_until_due: INVOICE_DAYS_UNTIL_DUE,
        metadata: { tenantId },
      },
      {
        idempotencyKey: tenant.stripeSubscriptionId
          ? `aegis-subscription-${tenantId}-after-${tenant.stripeSubscriptionId}`
          : `aegis-subscription-${tenantId}`,
      },
    );
    await db
      .update(tenants)
      .set({
        stripeSubscriptionId: sub.id,
        // A running subscription is `active` until an invoice webhook says otherwise.
        ...(tenant.billingStatus === "none" ? { billingStatus: "active" } : {}),
        updatedAt: new Date().toISOString(),
      })
      .where(
        and(
          eq(tenants.id, tenantId),
          tenant.stripeSubscriptionId
            ? eq(tenants.stripeSubscriptionId, tenant.stripeSubscriptionId)
            : isNull(tenants.stripeSubscriptionId),
        ),
      )
      .run();
    subscriptionId = sub.id;
    created.push("subscription");
    audits.push(
      buildAuditEvent({
        action: "billing.subscription_created",
        tenantId,
        actor: SYSTEM_ACTOR,
        target: { type: "tenant", id: tenantId },
        details: {
          stripeCustomerId: customerId,
          stripeSubscriptionId: sub.id,
          ...(tenant.stripeSubscriptionId ? { replaces: tenant.stripeSubscriptionId } : {}),
          items,
          overageItem,
        },
      }),
    );
  } else {
    subscriptionId = current.id;
    const changes: Stripe.SubscriptionUpdateParams.Item[] = [];
    const before: Record<string, number> = {};
    const remaining = new Map(wanted);
    // The metered overage item: on while overage billing is; once it is off, kept as long as the
    // tenant has overage not yet sent to Stripe (its meter events are billed only through the item).
    const metered = current.items.data.filter((item) => isManaged(item) && isMetered(item));
    const overageBefore = metered.length > 0;
    let keepMetered = tenant.overageBillingEnabled;
    if (!keepMetered && overageBefore) keepMetered = await hasUnreportedOverage(db, tenantId);
    let overagePresent = false;
    for (const item of metered) {
      if (!tenant.overageBillingEnabled && keepMetered) continue;
      if (tenant.overageBillingEnabled && item.price.id === overagePriceId && !overagePresent) {
        overagePresent = true;
        continue;
      }
      changes.push({ id: item.id, deleted: true });
    }
    if (tenant.overageBillingEnabled && !overagePresent) changes.push({ price: overagePriceId });
    overageItem = keepMetered;
    for (const item of current.items.data) {
      if (!isManaged(item) || isMetered(item)) continue;
      before[itemKey(item)] = item.quantity ?? 0;
      const want = remaining.get(item.price.id);
      if (!want) {
        changes.push({ id: item.id, deleted: true });
        continue;
      }
      remaining.delete(item.price.id);
      if (item.quantity !== want.line.quantity) changes.push({ id: item.id, quantity: want.line.quantity });
    }
    for (const w of remaining.values()) changes.push({ price: w.priceId, quantity: w.line.quantity });
    if (changes.length) {
      await stripe.subscriptions.update(current.id, { items: changes });
      itemChanges = changes.length;
      audits.push(
        buildAuditEvent({
          action: "billing.subscription_updated",
          tenantId,
          actor: SYSTEM_ACTOR,
          target: { type: "tenant", id: tenantId },
          details: {
            stripeSubscriptionId: current.id,
            before,
            after: items,
            overageItem: { before: overageBefore, after: overageItem },
          },
        }),
      );
    }
  }

  await enqueueAudit(env, audits);
  return { status: "synced", customerId, subscriptionId, created, itemChanges, items, overageItem };
}

export const billingSyncMessageSchema = z.object({
  kind: z.literal("billing_sync"),
  tenantId: z.string().min(1).max(64),
});
export type BillingSyncMessage = z.infer<typeof billingSyncMessageSchema>;

/** Queues a sync of the tenant's subscription (PROVISIONING queue; retried with backoff). */
export async function enqueueBillingSync(env: Env, tenantId: string): Promise<void> {
  const message: BillingSyncMessage = { kind: "billing_sync", tenantId };
  try {
    await env.PROVISIONING.send(message);
  } catch (err) {
    // Each sync rebuilds from the tenant's current state, so the next change (or the next
    // provisioning retry) repairs a lost one; the caller's own work must not fail for it.
    console.error("billing sync enqueue failed", { tenantId, error: String(err) });
  }
}

// ---------------------------------------------------------------------------------------------
// Overage as meter events
// ---------------------------------------------------------------------------------------------

const METER_CONCURRENCY = 10;

/** Stripe refused an identifier it already has: that call was reported before. */
function alreadyReported(err: unknown): boolean {
  return (
    err instanceof Stripe.errors.StripeInvalidRequestError &&
    (err.code === "resource_already_exists" || /identifier/i.test(err.message)) &&
    /already|exists|duplicate/i.test(err.message)
  );
}

/**
 * Sends the overage of usage calls not yet reported, one meter event per call (identifier = the
 * call's id, so Stripe never counts one twice), oldest first, at most `limit` per run, and marks
 * each sent row. A failed call stays unmarked for the next run. Only tenants with a Stripe customer.
 */
export async function reportOverage(
  db: Database,
  env: Env,
  { limit = 500 }: { limit?: number } = {},
): Promise<{ reported: number; failed: number }> {
  if (!env.STRIPE_SECRET_KEY) return { reported: 0, failed: 0 };
  const rows = await db
    .select({
      id: usageCalls.id,
      overageMicros: usageCalls.overageMicros,
      at: usageCalls.at,
      customerId: tenants.stripeCustomerId,
    })
    .from(usageCalls)
    .innerJoin(tenants, eq(tenants.id, usageCalls.tenantId))
    .where(
      and(
        gt(usageCalls.overageMicros, 0),
        isNull(usageCalls.stripeReportedAt),
        isNotNull(tenants.stripeCustomerId),
      ),
    )
    .orderBy(asc(usageCalls.at), asc(usageCalls.id))
    .limit(limit)
    .all();
  if (!rows.length) return { reported: 0, failed: 0 };

  const stripe = stripeClient(env);
  let reported = 0;
  let failed = 0;
  for (let i = 0; i < rows.length; i += METER_CONCURRENCY) {
    const chunk = rows.slice(i, i + METER_CONCURRENCY);
    const results = await Promise.allSettled(
      chunk.map((row) =>
        stripe.billing.meterEvents.create(
          {
            event_name: OVERAGE_METER_EVENT,
            payload: {
              stripe_customer_id: row.customerId ?? "",
              value: String(Math.round(row.overageMicros / 10_000)),
            },
            identifier: row.id,
            timestamp: Math.floor(Date.parse(row.at) / 1000),
          },
          { idempotencyKey: `meter-${row.id}` },
        ),
      ),
    );
    const sent: string[] = [];
    results.forEach((r, j) => {
      const row = chunk[j];
      if (!row) return;
      if (r.status === "fulfilled" || alreadyReported(r.reason)) sent.push(row.id);
      else {
        failed += 1;
        console.error("overage meter event failed", { usageCallId: row.id, error: String(r.reason) });
      }
    });
    if (sent.length) {
      const marked = await db
        .update(usageCalls)
        .set({ stripeReportedAt: new Date().toISOString() })
        .where(and(inArray(usageCalls.id, sent), isNull(usageCalls.stripeReportedAt)))
        .returning({ id: usageCalls.id });
      reported += marked.length;
    }
  }
  return { reported, failed };
}

// ---------------------------------------------------------------------------------------------
// Invoice webhooks
// ---------------------------------------------------------------------------------------------

/** The billing status each handled event type sets. */
export const STATUS_BY_EVENT: Readonly<Record<string, "active" | "past_due">> = {
  "invoice.paid": "active",
  "invoice.payment_failed": "past_due",
};

export interface StripeEventLike {
  id: string;
  type: string;
  created: number;
  data: { object: unknown };
}

export type ApplyResult =
  | { result: "ignored"; reason: "event_type" | "unknown_customer" }
  | { result: "duplicate"; tenantId: string }
  /** Recorded, but a newer event already set the status: nothing changed. */
  | { result: "stale"; tenantId: string }
  | { result: "applied"; tenantId: string; from: string; to: string };

function customerOf(object: unknown): string | null {
  if (!object || typeof object !== "object") return null;
  const c = (object as { customer?: unknown }).customer;
  if (typeof c === "string") return c;
  if (c && typeof c === "object" && typeof (c as { id?: unknown }).id === "string")
    return (c as { id: string }).id;
  return null;
}

/**
 * Applies a verified Stripe event once. The event id goes into `stripe_events` in the same D1
 * batch as the status change, and the change only happens if that id was new and the event is not
 * older than the status it would replace (Stripe does not promise order).
 */
export async function applyStripeEvent(db: Database, event: StripeEventLike): Promise<ApplyResult> {
  const to = STATUS_BY_EVENT[event.type];
  if (!to) return { result: "ignored", reason: "event_type" };
  const customerId = customerOf(event.data.object);
  if (!customerId) return { result: "ignored", reason: "unknown_customer" };
  const tenant = await db
    .select({ id: tenants.id, billingStatus: tenants.billingStatus })
    .from(tenants)
    .where(eq(tenants.stripeCustomerId, customerId))
    .get();
  if (!tenant) return { result: "ignored", reason: "unknown_customer" };

  const now = new Date().toISOString();
  const at = new Date(event.created * 1000).toISOString();
  const [updated, inserted] = await db.batch([
    db
      .update(tenants)
      .set({ billingStatus: to, billingStatusAt: at, updatedAt: now })
      .where(
        and(
          eq(tenants.id, tenant.id),
          sql`NOT EXISTS (SELECT 1 FROM ${stripeEvents} WHERE ${stripeEvents.id} = ${event.id})`,
          or(isNull(tenants.billingStatusAt), lte(tenants.billingStatusAt, at)),
        ),
      )
      .returning({ id: tenants.id }),
    db
      .insert(stripeEvents)
      .values({ id: event.id, type: event.type, tenantId: tenant.id, receivedAt: now })
      .onConflictDoNothing()
      .returning({ id: stripeEvents.id }),
  ]);
  if (!inserted.length) return { result: "duplicate", tenantId: tenant.id };
  if (!updated.length) return { result: "stale", tenantId: tenant.id };
  return { result: "applied", tenantId: tenant.id, from: tenant.billingStatus, to };
}
