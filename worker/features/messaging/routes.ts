import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { DELIVERY_STATES, MESSAGE_TYPES, REJECT_REASONS } from "../../../durable-objects/protocol";
import { agents } from "../../db/schema";
import { AppError, notFound, validationFailed } from "../../lib/errors";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../../lib/http";
import { hubStub, mailboxStub } from "../../lib/objects";
import { authenticateAgent } from "../agent-auth/middleware";
import { latestConfig } from "../config/service";

const FeedMessage = z
  .object({
    id: z.string(),
    from: z.string(),
    to: z.string(),
    type: z.enum(MESSAGE_TYPES),
    status: z.enum(DELIVERY_STATES),
    reason: z.enum(REJECT_REASONS).optional(),
    correlationId: z.string().optional(),
    hop: z.number().int(),
    payloadPreview: z.string(),
    sentAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Message");

function agentOf(c: { get(key: "principal"): import("../auth/principal").Principal }) {
  const p = c.get("principal");
  if (p.kind !== "agent") throw new AppError(401, "unauthenticated", "Agent token required");
  return p;
}

/** Routes under /v1: the agent's own surface. */
export const agentMessagingRoutes = createRouter();

agentMessagingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/mailbox",
    tags: ["agent"],
    summary: "The agent's mailbox (WebSocket): messages, acks, config pushes",
    description:
      "Upgrade with the agent token in `Authorization: Bearer` or `?token=`. Frames are JSON, one per WebSocket message; see durable-objects/protocol.ts.",
    middleware: [authenticateAgent] as const,
    responses: {
      101: { description: "Switching protocols" },
      401: errorResponses[401],
      426: jsonResponse(z.object({ code: z.string() }), "Not a WebSocket upgrade"),
    },
  }),
  async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError(426, "upgrade_required", "Connect with a WebSocket upgrade");
    }
    const { agentId, tenantId } = agentOf(c);
    const who = { agentId, tenantId };
    const mailbox = mailboxStub(c.env, tenantId, agentId);
    // Bring the mailbox up to date before the socket opens: an agent that was offline gets the
    // latest configuration and allowlist on connect.
    const [config, allow] = await Promise.all([
      latestConfig(c.get("db"), tenantId),
      hubStub(c.env, tenantId).allowlistFor(agentId),
    ]);
    await mailbox.applyAllowlist(who, allow.version, allow.outgoing, allow.incoming);
    await mailbox.pushConfig(who, config.version, config.config);
    const headers = new Headers(c.req.raw.headers);
    headers.set("x-aegis-agent", agentId);
    headers.set("x-aegis-tenant", tenantId);
    return mailbox.fetch(new Request(c.req.url, { headers }));
  },
);

agentMessagingRoutes.openapi(
  createRoute({
    method: "post",
    path: "/messages",
    tags: ["agent"],
    summary: "Send a message (the same path as the mailbox socket's `send` frame)",
    middleware: [authenticateAgent] as const,
    request: {
      body: jsonBody(
        z.object({
          to: z.string(),
          type: z.string(),
          payload: z.unknown(),
          correlationId: z.string().optional(),
          ttlSeconds: z.number().optional(),
        }),
      ),
    },
    responses: {
      202: jsonResponse(z.object({ id: z.string(), status: z.enum(DELIVERY_STATES) }), "Accepted"),
      400: jsonResponse(
        z.object({ code: z.literal("invalid_message") }),
        "The message does not match its schema",
      ),
      401: errorResponses[401],
      403: jsonResponse(z.object({ code: z.string() }), "not_allowed or loop_detected, with the message id"),
    },
  }),
  async (c) => {
    const { agentId, tenantId } = agentOf(c);
    // Messages are audited by TenantHub as the tenant's config says (rejections always), not per request.
    c.set("audited", true);
    const result = await mailboxStub(c.env, tenantId, agentId).send(
      { agentId, tenantId },
      c.req.valid("json"),
    );
    if (!result.ok) {
      if (result.code === "invalid_message") {
        throw new AppError(400, "invalid_message", result.message, result.details);
      }
      throw new AppError(403, result.code, result.message);
    }
    if (result.status === "rejected") {
      const reason = result.reason ?? "not_allowed";
      throw new AppError(403, reason, rejectMessage(reason), { id: result.id });
    }
    return c.json({ id: result.id, status: result.status }, 202);
  },
);

function rejectMessage(reason: string): string {
  switch (reason) {
    case "loop_detected":
      return "Rejected by the loop guard: the correlation chain is too long or repeats itself";
    default:
      return "The recipient is not reachable from this agent (allowlist)";
  }
}

const MessageQuery = z.object({
  agentId: z.string().max(64).optional(),
  type: z.enum(MESSAGE_TYPES).optional(),
  status: z.enum(DELIVERY_STATES).optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  q: z.string().max(200).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** Routes under /api/dashboard/messages: the timeline. */
export const messageRoutes = createRouter();

messageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["messages"],
    summary: "The tenant's message timeline, newest first (cursor pages)",
    request: { query: MessageQuery },
    responses: {
      200: jsonResponse(
        z.object({
          data: z.array(FeedMessage),
          meta: z.object({ limit: z.number(), nextCursor: z.string().nullable() }),
        }),
        "A page of messages",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await hubStub(c.env, c.get("tenantId")).listMessages(q);
    return c.json({ data: page.data, meta: { limit: q.limit, nextCursor: page.nextCursor } }, 200);
  },
);

messageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/flow",
    tags: ["messages"],
    summary: "Who talked to whom in a period: volume and rejections per directed pair",
    request: { query: z.object({ from: z.iso.datetime().optional(), to: z.iso.datetime().optional() }) },
    responses: {
      200: jsonResponse(
        z.object({
          agents: z.array(z.object({ id: z.string(), name: z.string() })),
          edges: z.array(
            z.object({
              from: z.string(),
              to: z.string(),
              count: z.number(),
              rejected: z.number(),
              lastAt: z.string(),
            }),
          ),
        }),
        "The flow",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const to = q.to ?? new Date().toISOString();
    const from = q.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
    if (from > to) throw validationFailed({ "query.from": ["Must be before 'to'"] });
    const tenantId = c.get("tenantId");
    const [edges, list] = await Promise.all([
      hubStub(c.env, tenantId).flow(from, to),
      c
        .get("db")
        .select({ id: agents.id, name: agents.name })
        .from(agents)
        .where(eq(agents.tenantId, tenantId))
        .all(),
    ]);
    return c.json({ agents: list, edges }, 200);
  },
);

messageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["messages"],
    summary: "A message with its delivery history and correlation thread",
    request: { params: z.object({ id: z.string().min(1).max(80) }) },
    responses: {
      200: jsonResponse(
        z.object({
          message: FeedMessage.extend({
            payload: z.unknown(),
            ttlSeconds: z.number().nullable(),
            expiresAt: z.string().nullable(),
          }),
          history: z.array(
            z.object({
              status: z.enum(DELIVERY_STATES),
              reason: z.enum(REJECT_REASONS).optional(),
              at: z.string(),
            }),
          ),
          thread: z.array(FeedMessage),
        }),
        "The message",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const found = await hubStub(c.env, c.get("tenantId")).getMessage(c.req.valid("param").id);
    if (!found) throw notFound("Message");
    return c.json(found, 200);
  },
);
