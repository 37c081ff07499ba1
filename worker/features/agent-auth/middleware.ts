import { and, eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { agents } from "../../db/schema";
import type { AppEnv } from "../../env";
import { AppError, unauthenticated } from "../../lib/errors";
import { verifyAgentToken } from "../auth/tokens";

/**
 * Agent requests: a short-lived agent token in `Authorization: Bearer`, or `?token=` for WebSocket
 * clients that cannot set headers. The agent must still exist and be active.
 */
export const authenticateAgent: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  const token = header?.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : c.req.query("token");
  if (!token) throw unauthenticated("Agent token required");
  const claims = await verifyAgentToken(c.env.AUTH_SECRET, token);
  if (!claims) throw new AppError(401, "invalid_token", "Agent token is invalid or expired");
  const agent = await c
    .get("db")
    .select({ id: agents.id, status: agents.status })
    .from(agents)
    .where(and(eq(agents.id, claims.sub), eq(agents.tenantId, claims.tid)))
    .get();
  if (!agent) throw new AppError(401, "invalid_token", "Agent token is invalid or expired");
  // The mailbox socket of a paused agent is accepted and closed with 4003, which WebSocket clients can read.
  const isUpgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
  if (agent.status !== "active" && !isUpgrade)
    throw new AppError(403, "agent_paused", "This agent is paused");
  c.set("principal", { kind: "agent", agentId: claims.sub, tenantId: claims.tid });
  c.set("tenantId", claims.tid);
  await next();
};
