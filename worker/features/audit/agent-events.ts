import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { clientIp, createRouter, errorResponses, jsonBody, jsonResponse } from "../../lib/http";
import { authenticateAgent } from "../agent-auth/middleware";
import { buildAuditEvent, enqueueAudit } from "./record";

const PermissionUse = z.object({
  kind: z.enum(["network", "file_read", "file_write", "env", "message", "model"]),
  target: z.string().min(1).max(500),
  allowed: z.boolean(),
  reason: z.string().max(500).optional(),
});

const AgentEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("tool_invocation"),
    skill: z.string().min(1).max(80),
    tool: z.string().max(120).optional(),
    outcome: z.enum(["ok", "error"]),
    durationMs: z.number().int().min(0).max(86_400_000).optional(),
    error: z.string().max(2000).optional(),
    input: z.unknown().optional(),
    at: z.iso.datetime().optional(),
  }),
  z.object({
    type: z.literal("permission_use"),
    skill: z.string().min(1).max(80),
    permission: PermissionUse,
    at: z.iso.datetime().optional(),
  }),
  z.object({
    type: z.literal("status_change"),
    status: z.enum(["starting", "running", "idle", "error", "stopping"]),
    message: z.string().max(2000).optional(),
    at: z.iso.datetime().optional(),
  }),
]);

/**
 * `POST /v1/events`: what an agent's runtime did — tool invocations, each permission use (an
 * undeclared one arrives with `allowed: false` and raises an alert), status changes. Written to the
 * audit log as the agent, sanitised like every other event.
 */
export const agentEventRoutes = createRouter();

agentEventRoutes.openapi(
  createRoute({
    method: "post",
    path: "/events",
    tags: ["agent"],
    summary: "Report tool invocations, permission use and status changes for the audit log",
    middleware: [authenticateAgent] as const,
    request: { body: jsonBody(z.object({ events: z.array(AgentEvent).min(1).max(100) })) },
    responses: {
      202: jsonResponse(z.object({ accepted: z.number() }), "Queued for the audit log"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const p = c.get("principal");
    if (p.kind !== "agent") throw new AppError(401, "unauthenticated", "Agent token required");
    const { events } = c.req.valid("json");
    const actor = { type: "agent" as const, id: p.agentId, name: p.agentId };
    const ctx = {
      ip: clientIp(c),
      userAgent: c.req.header("user-agent")?.slice(0, 256) ?? null,
      requestId: c.get("requestId"),
    };
    const rows = events.map((e) => {
      if (e.type === "tool_invocation") {
        return buildAuditEvent(
          {
            action: e.outcome === "ok" ? "skill.tool_invoked" : "skill.tool_failed",
            tenantId: p.tenantId,
            actor,
            severity: e.outcome === "ok" ? "info" : "low",
            target: { type: "skill", id: e.skill },
            details: {
              tool: e.tool,
              durationMs: e.durationMs,
              error: e.error,
              input: e.input,
              reportedAt: e.at,
            },
          },
          ctx,
        );
      }
      if (e.type === "permission_use") {
        return buildAuditEvent(
          {
            action: e.permission.allowed ? "skill.permission_used" : "skill.permission_denied",
            tenantId: p.tenantId,
            actor,
            severity: e.permission.allowed ? "info" : "high",
            target: { type: "skill", id: e.skill },
            details: { ...e.permission, reportedAt: e.at },
          },
          ctx,
        );
      }
      return buildAuditEvent(
        {
          action: "agent.status_changed",
          tenantId: p.tenantId,
          actor,
          target: { type: "agent", id: p.agentId },
          details: { status: e.status, message: e.message, reportedAt: e.at },
        },
        ctx,
      );
    });
    c.set("audited", true);
    c.executionCtx.waitUntil(enqueueAudit(c.env, rows));
    return c.json({ accepted: rows.length }, 202);
  },
);
