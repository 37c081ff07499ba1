/** The API version the stand-in's events carry. */
export const API_VERSION: string;

export interface StripeStandinLogEntry {
  at: string;
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
  replayed: boolean;
  injected?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: Stripe objects as the stand-in renders them
type StripeObject = Record<string, any>;

export interface StripeMeteredUsage {
  customer: string;
  meter: string;
  event_name: string;
  /** The live subscription's current period (unix seconds, end exclusive); null without one. */
  period: { start: number; end: number } | null;
  /** The meter's aggregate (sum, count or last) of the customer's events in the period (all, without one). */
  total: number;
  /** The subscription's metered items on this meter: what each bills, usage since it was added. */
  items: Array<{
    subscription_item: string;
    price: string;
    unit_amount: number;
    since: number;
    value: number;
    /** value × unit_amount, in cents. */
    amount: number;
  }>;
}

export interface StripeStandinState {
  customers: StripeObject[];
  products: StripeObject[];
  prices: StripeObject[];
  /** With `items` as Stripe's list envelope (`items.data[]`, each with its full `price`). */
  subscriptions: StripeObject[];
  /** Billing meters (`billing.meter`), all of them (they belong to the account, not a customer). */
  meters: StripeObject[];
  meterEvents: StripeObject[];
  /** Per customer and meter (with events or metered items): what this period would invoice. */
  meteredUsage: StripeMeteredUsage[];
  /** Invoice items: the usage of metered items removed mid-period (flexible billing mode). */
  invoiceItems: StripeObject[];
  /** Every /v1 request (empty when filtered by customer). */
  log: StripeStandinLogEntry[];
}

export interface SignedEvent {
  event: StripeObject;
  /** The exact body to POST. */
  payload: string;
  /** The `Stripe-Signature` header value. */
  header: string;
}

export interface SignRequest {
  type: string;
  data: { object: StripeObject };
  id?: string;
  /** The event's `created` (unix seconds); defaults to the signing time. */
  created?: number;
  /** The signing time (unix seconds), to sign an old event; defaults to now. */
  timestamp?: number;
}

export interface StripeStandin {
  port: number;
  /** What STRIPE_API_URL should be; GET /__state, POST /__sign, /__deliver, /__fail, /__reset. */
  url: string;
  secretKey: string;
  webhookSecret: string;
  webhookUrl: string | null;
  snapshot(customerId?: string | null): StripeStandinState;
  sign(body: SignRequest): SignedEvent;
  close(): Promise<void>;
}

export function start(
  port?: number,
  options?: { secretKey?: string; webhookSecret?: string; webhookUrl?: string },
): Promise<StripeStandin>;
