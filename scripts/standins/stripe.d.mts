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

export interface StripeStandinState {
  customers: StripeObject[];
  products: StripeObject[];
  prices: StripeObject[];
  /** With `items` as Stripe's list envelope (`items.data[]`, each with its full `price`). */
  subscriptions: StripeObject[];
  meterEvents: StripeObject[];
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
