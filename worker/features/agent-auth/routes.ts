import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../../lib/http";
import { verifyAgentCredential } from "../agents/service";
import { audit } from "../audit/record";
import { AGENT_TOKEN_TTL_SECONDS, signAgentToken } from "../auth/tokens";

export const agentAuthRoutes = createRouter();

agentAuthRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/token",
    tags: ["agent"],
    summary: "Exchange an agent credential for a short-lived agent token",
    request: {
      body: jsonBody(
        z.object({ agentId: z.string().min(1).max(64), credential: z.string().min(1).max(200) }),
      ),
    },
    responses: {
      200: jsonResponse(z.object({ token: z.string(), expiresIn: z.number() }), "An agent token"),
      400: errorResponses[400],
      401: errorResponses[401],
    },
  }),
  async (c) => {
    const { agentId, credential } = c.req.valid("json");
    const agent = await verifyAgentCredential(c.get("db"), agentId, credential);
    if (!agent) throw new AppError(401, "invalid_credentials", "Invalid agent id or credential");
    audit(c, {
      action: "agent.token_issued",
      tenantId: agent.tenantId,
      actor: { type: "agent", id: agent.id, name: agent.name },
      target: { type: "agent", id: agent.id },
    });
    return c.json(
      {
        token: await signAgentToken(c.env.AUTH_SECRET, agent.id, agent.tenantId),
        expiresIn: AGENT_TOKEN_TTL_SECONDS,
      },
      200,
    );
  },
);
