import { OpenAPIHono, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { createDb } from "./db/client";
import type { AppEnv } from "./env";
import { agentAuthRoutes } from "./features/agent-auth/routes";
import { agentRoutes } from "./features/agents/routes";
import { adminAlertRoutes, tenantAlertRoutes } from "./features/alerts/routes";
import { allowlistRoutes } from "./features/allowlist/routes";
import { apiKeyRoutes } from "./features/api-keys/routes";
import { agentEventRoutes } from "./features/audit/agent-events";
import { recordIfCrossTenant } from "./features/audit/cross-tenant";
import { auditMutations } from "./features/audit/record";
import { adminAuditRoutes, tenantAuditRoutes } from "./features/audit/routes";
import { authenticate, requirePlatformAdmin, tenantScope } from "./features/auth/middleware";
import { authRoutes } from "./features/auth/routes";
import { billingRoutes } from "./features/billing/routes";
import { stripeWebhookRoutes } from "./features/billing/stripe-webhook";
import { adminClusterRoutes, controllerRoutes, tenantClusterRoutes } from "./features/clusters/routes";
import { syncClusterAfter } from "./features/clusters/sync";
import { configRoutes } from "./features/config/routes";
import { gatewayRoutes } from "./features/gateway/routes";
import { feedRoutes } from "./features/messaging/feed";
import { agentMessagingRoutes, messageRoutes } from "./features/messaging/routes";
import { agentPackageRoutes } from "./features/skills/agent-packages";
import { PACKAGE_PATH_PREFIX } from "./features/skills/registry";
import { privateSkillRoutes, skillReviewRoutes } from "./features/skills/registry-routes";
import { skillRoutes } from "./features/skills/routes";
import { statsRoutes } from "./features/stats/routes";
import { teamRoutes } from "./features/team/routes";
import { adminTenantRoutes } from "./features/tenants/routes";
import { webhookRoutes } from "./features/webhooks/routes";
import { workflowRoutes } from "./features/workflows/routes";
import { AppError, reasonPhrase, ScopedNotFound } from "./lib/errors";
import { createRouter, jsonResponse } from "./lib/http";
import { newId } from "./lib/ids";

/** JSON bodies above this are refused with 413 before anything reads them. */
export const MAX_BODY_BYTES = 1024 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function errorBody(
  status: number,
  code: string,
  message: string,
  requestId: string,
  path: string,
  details?: Record<string, unknown>,
) {
  return {
    statusCode: status,
    error: reasonPhrase(status),
    code,
    message,
    ...(details ? { details } : {}),
    requestId,
    path,
    timestamp: new Date().toISOString(),
  };
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : newId("req");
    c.set("requestId", requestId);
    c.set("db", createDb(c.env.DB));
    await next();
    // A 101 response from a Durable Object has immutable headers; the socket needs none of ours.
    if (c.res.status !== 101) c.header("X-Request-Id", requestId);
  });
  const secure = secureHeaders();
  app.use("*", (c, next) => (c.req.header("upgrade") ? next() : secure(c, next)));
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new AppError(413, "payload_too_large", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    },
  });
  // Skill packages have their own, larger limit (worker/features/skills/registry-routes.ts).
  app.use("*", (c, next) => (c.req.path.startsWith(PACKAGE_PATH_PREFIX) ? next() : limitBody(c, next)));

  app.use("/api/*", auditMutations);
  app.use("/v1/*", auditMutations);
  app.use("/controller/*", auditMutations);
  // Changes to what a tenant's agents are (agents, skills, config, allowlist, egress mode) reach the
  // cluster that runs them as a new desired state.
  for (const path of ["agents", "skills", "config", "allowlist", "clusters"])
    app.use(`/api/dashboard/${path}/*`, syncClusterAfter);
  app.use("/api/admin/tenants/*", syncClusterAfter);
  app.use("/api/admin/skills/review/*", syncClusterAfter);
  app.use("/api/admin/*", authenticate, requirePlatformAdmin);
  app.use("/api/dashboard/*", authenticate, tenantScope);

  const health = createRouter();
  health.openapi(
    {
      method: "get",
      path: "/health",
      tags: ["platform"],
      summary: "Liveness and a D1 round trip",
      responses: { 200: jsonResponse(z.object({ status: z.literal("ok"), time: z.string() }), "Healthy") },
    },
    (c) => c.json({ status: "ok" as const, time: new Date().toISOString() }, 200),
  );

  app.route("/api", health);
  app.route("/api/auth", authRoutes);
  app.route("/api/admin", adminTenantRoutes);
  app.route("/api/admin/audit", adminAuditRoutes);
  app.route("/api/dashboard/audit", tenantAuditRoutes);
  app.route("/api/dashboard/stats", statsRoutes);
  app.route("/api/dashboard/config", configRoutes);
  app.route("/api/dashboard/agents", agentRoutes);
  app.route("/api/dashboard", skillRoutes);
  app.route("/api/dashboard/skills", privateSkillRoutes);
  app.route("/api/admin/skills/review", skillReviewRoutes);
  app.route("/api/dashboard/team", teamRoutes);
  app.route("/api/dashboard/settings/api-keys", apiKeyRoutes);
  app.route("/api/dashboard/allowlist", allowlistRoutes);
  app.route("/api/dashboard/messages", messageRoutes);
  app.route("/api/dashboard/workflows", workflowRoutes);
  app.route("/api/dashboard/alerts", tenantAlertRoutes);
  app.route("/api/admin/alerts", adminAlertRoutes);
  app.route("/api/dashboard/webhooks", webhookRoutes);
  app.route("/v1", agentAuthRoutes);
  app.route("/v1", agentMessagingRoutes);
  app.route("/v1", agentEventRoutes);
  app.route("/v1", gatewayRoutes);
  app.route("/v1", agentPackageRoutes);
  app.route("/api/dashboard/billing", billingRoutes);
  app.route("/api/stripe/webhook", stripeWebhookRoutes);
  app.route("/ws", feedRoutes);
  app.route("/api/admin/clusters", adminClusterRoutes);
  app.route("/api/dashboard/clusters", tenantClusterRoutes);
  app.route("/controller/v1", controllerRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Aegis API",
      version: "0.1.0",
      description: "Multi-tenant platform for teams of AI agents",
    },
    security: [{ bearer: [] }],
  });

  app.notFound((c) =>
    c.json(
      errorBody(
        404,
        "not_found",
        `No route for ${c.req.method} ${c.req.path}`,
        c.get("requestId"),
        c.req.path,
      ),
      404,
    ),
  );

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? newId("req");
    const path = c.req.path;
    if (err instanceof ScopedNotFound) c.executionCtx.waitUntil(recordIfCrossTenant(c, err).catch(() => {}));
    if (err instanceof AppError) {
      for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
      c.header("X-Request-Id", requestId);
      return c.json(errorBody(err.status, err.code, err.message, requestId, path, err.details), err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      c.header("X-Request-Id", requestId);
      const code =
        err.status === 400 ? "validation_failed" : err.status === 413 ? "payload_too_large" : "http_error";
      const message = err.status === 400 ? "Malformed request body" : err.message || reasonPhrase(err.status);
      const details = err.status === 400 ? { "(root)": [err.message || "Malformed JSON"] } : undefined;
      return c.json(errorBody(err.status, code, message, requestId, path, details), err.status);
    }
    console.error("unhandled error", {
      requestId,
      path,
      method: c.req.method,
      error: err instanceof Error ? err.stack : String(err),
    });
    c.header("X-Request-Id", requestId);
    return c.json(errorBody(500, "internal_error", "Something went wrong on our side", requestId, path), 500);
  });

  return app;
}

export const app = createApp();
export type AppType = typeof app;
