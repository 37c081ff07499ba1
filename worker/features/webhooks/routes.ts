import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, ErrorSchema, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/http";
import { audit } from "../audit/record";
import { actorOf } from "../auth/principal";
import {
  createDelivery,
  createWebhook,
  deleteWebhook,
  enqueueDeliveries,
  getWebhook,
  listDeliveries,
  listWebhooks,
  presentDelivery,
  presentWebhook,
  WEBHOOK_EVENTS,
} from "./service";

const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: "Sent as X-Aegis-Delivery; the same on every retry" }),
    webhookId: z.string(),
    event: z.string(),
    status: z.string().openapi({ description: "pending | succeeded | failed (will retry) | dead" }),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
    payload: z.unknown(),
  })
  .openapi("WebhookDelivery");

const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    status: z.string(),
    secretPrefix: z.string(),
    createdAt: z.string(),
    lastDelivery: DeliverySchema.nullable(),
  })
  .openapi("Webhook");

const CreateBody = z.object({
  url: z.string().trim().min(1).max(2048),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
});

/** `/api/dashboard/webhooks`: signed outbound webhooks of the caller's tenant. */
export const webhookRoutes = createRouter();

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["webhooks"],
    summary: "Webhooks of the tenant (secret prefix only) with their last delivery",
    responses: {
      200: jsonResponse(z.object({ data: z.array(WebhookSchema) }), "Webhooks"),
      ...errorResponses,
    },
  }),
  async (c) => c.json({ data: await listWebhooks(c.get("db"), c.get("tenantId")) }, 200),
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["webhooks"],
    summary: "Add a webhook; the signing secret is shown once",
    description:
      "https only, and never a private, loopback or link-local address (http://localhost and 127.0.0.1 " +
      "are allowed when AEGIS_ENV is development). Deliveries are POSTed with " +
      "`X-Aegis-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + '.' + body)>`.",
    request: { body: jsonBody(CreateBody) },
    responses: {
      201: jsonResponse(
        z.object({ webhook: WebhookSchema, secret: z.string() }),
        "The webhook and its secret",
      ),
      409: jsonResponse(ErrorSchema, "Too many webhooks (`webhook_limit_reached`)"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const result = await createWebhook(
      c.get("db"),
      c.env,
      c.get("tenantId"),
      c.req.valid("json"),
      actorOf(c.get("principal")).name,
    );
    audit(c, {
      action: "webhook.created",
      target: { type: "webhook", id: result.webhook.id },
      details: {
        after: {
          url: result.webhook.url,
          events: result.webhook.events,
          secretPrefix: result.webhook.secretPrefix,
        },
      },
    });
    return c.json(result, 201);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["webhooks"],
    summary: "Remove a webhook (its deliveries stop)",
    request: { params: IdParam },
    responses: { 204: { description: "Removed" }, ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const before = await getWebhook(c.get("db"), c.get("tenantId"), id);
    await deleteWebhook(c.get("db"), c.get("tenantId"), id);
    audit(c, {
      action: "webhook.deleted",
      target: { type: "webhook", id },
      details: { before: presentWebhook(before, null) },
    });
    return c.body(null, 204);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/deliveries",
    tags: ["webhooks"],
    summary: "Recent deliveries of a webhook, with their attempts",
    request: {
      params: IdParam,
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
    },
    responses: {
      200: jsonResponse(z.object({ data: z.array(DeliverySchema) }), "Deliveries, newest first"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { limit } = c.req.valid("query");
    return c.json({ data: await listDeliveries(c.get("db"), c.get("tenantId"), id, limit) }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/test",
    tags: ["webhooks"],
    summary: "Send a `test` event to the webhook",
    request: { params: IdParam },
    responses: {
      202: jsonResponse(z.object({ delivery: DeliverySchema }), "Queued; follow it in the deliveries"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const hook = await getWebhook(c.get("db"), c.get("tenantId"), id);
    const delivery = await createDelivery(c.get("db"), hook, "test", {
      message: "A test event from Aegis",
      requestedBy: actorOf(c.get("principal")).name,
    });
    await enqueueDeliveries(c.env, [delivery]);
    audit(c, {
      action: "webhook.test_sent",
      target: { type: "webhook", id },
      details: { deliveryId: delivery.id },
    });
    return c.json({ delivery: presentDelivery(delivery) }, 202);
  },
);
