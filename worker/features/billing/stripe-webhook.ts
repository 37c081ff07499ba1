import { createRoute, z } from "@hono/zod-openapi";
import Stripe from "stripe";
import { AppError } from "../../lib/errors";
import { createRouter, ErrorSchema, jsonResponse } from "../../lib/http";
import { audit } from "../audit/record";
import { applyStripeEvent, STATUS_BY_EVENT } from "./stripe";

const cryptoProvider = Stripe.createSubtleCryptoProvider();

const invalidSignature = (message: string) => new AppError(400, "invalid_signature", message);

/**
 * The body as documented. It is deliberately not a zod schema: the route must read the raw bytes
 * to verify the signature, and a zod body would have the validator parse (and re-serialise) it.
 */
const StripeEventBody = {
  type: "object" as const,
  description: "A Stripe event, exactly as Stripe sent it",
  required: ["id", "object", "type", "created", "data"],
  properties: {
    id: { type: "string" as const, example: "evt_1Nv0FGQ9PRDvDnEA" },
    object: { type: "string" as const, const: "event" },
    type: { type: "string" as const, example: "invoice.payment_failed" },
    created: { type: "integer" as const, description: "Unix seconds" },
    livemode: { type: "boolean" as const },
    api_version: { type: "string" as const },
    data: {
      type: "object" as const,
      properties: {
        object: {
          type: "object" as const,
          description: "For invoice events, the invoice; its `customer` names the tenant",
          properties: { customer: { type: "string" as const } },
        },
      },
    },
  },
};

const Received = z
  .object({
    received: z.literal(true),
    duplicate: z
      .boolean()
      .optional()
      .openapi({ description: "The event was applied before; nothing changed" }),
    ignored: z
      .boolean()
      .optional()
      .openapi({ description: "Not an event type Aegis handles, or a customer that is no tenant" }),
  })
  .openapi("StripeWebhookReceived");

/**
 * `/api/stripe/webhook`: Stripe's calls in. No user: the `Stripe-Signature` header (HMAC of the raw
 * body with the endpoint secret, at most 5 minutes old) is the authentication.
 */
export const stripeWebhookRoutes = createRouter();

stripeWebhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["billing"],
    summary: "Stripe webhook endpoint (invoice.paid, invoice.payment_failed)",
    description:
      "Authenticated by `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(endpoint secret, t + '.' + raw body)>`, " +
      "verified with Stripe's SDK (5 minutes tolerance); a missing, forged or too old signature is 400 " +
      "`invalid_signature` and nothing is written. Events are applied once by their id: " +
      `${Object.entries(STATUS_BY_EVENT)
        .map(([type, status]) => `\`${type}\` sets the tenant's billing status to \`${status}\``)
        .join(", ")}; ` +
      "the tenant is the one whose Stripe customer is `data.object.customer`. Other events and " +
      "unknown customers are acknowledged and ignored.",
    security: [],
    request: {
      headers: z.object({
        "stripe-signature": z.string().optional().openapi({ description: "Stripe's signature header" }),
      }),
      body: { required: true, content: { "application/json": { schema: StripeEventBody } } },
    },
    responses: {
      200: jsonResponse(Received, "Received (applied, duplicate or ignored)"),
      400: jsonResponse(ErrorSchema, "Missing or invalid signature (`invalid_signature`)"),
      503: jsonResponse(ErrorSchema, "No webhook secret configured (`stripe_not_configured`)"),
    },
  }),
  async (c) => {
    const secret = c.env.STRIPE_WEBHOOK_SECRET;
    if (!secret) throw new AppError(503, "stripe_not_configured", "Stripe webhooks are not configured");
    const signature = c.req.header("stripe-signature");
    const payload = await c.req.text();
    if (!signature) throw invalidSignature("Missing Stripe-Signature header");
    let event: Stripe.Event;
    try {
      event = await Stripe.webhooks.constructEventAsync(
        payload,
        signature,
        secret,
        undefined,
        cryptoProvider,
      );
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError)
        throw invalidSignature("The Stripe-Signature header does not match the body, or is too old");
      throw invalidSignature("The body is not a Stripe event");
    }

    const outcome = await applyStripeEvent(c.get("db"), event);
    if (outcome.result === "duplicate") return c.json({ received: true as const, duplicate: true }, 200);
    if (outcome.result === "ignored") return c.json({ received: true as const, ignored: true }, 200);
    if (outcome.result === "applied" && outcome.from !== outcome.to) {
      audit(c, {
        action: "billing.status_changed",
        tenantId: outcome.tenantId,
        actor: { type: "system", id: null, name: "stripe" },
        severity: outcome.to === "past_due" ? "medium" : "info",
        target: { type: "tenant", id: outcome.tenantId },
        details: { from: outcome.from, to: outcome.to, stripeEventId: event.id, eventType: event.type },
      });
    }
    return c.json({ received: true as const }, 200);
  },
);
