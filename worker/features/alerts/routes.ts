import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { createRouter, ErrorSchema, errorResponses, IdParam, jsonResponse } from "../../lib/http";
import { audit } from "../audit/record";
import { actorOf } from "../auth/principal";
import { announceAlert } from "./notify";
import { ALERT_SEVERITIES, ALERT_STATUSES } from "./rules";
import { type AlertScope, listAlerts, transitionAlert } from "./service";

const AlertSchema = z
  .object({
    id: z.string(),
    tenantId: z.string().nullable(),
    rule: z.string(),
    severity: z.string(),
    status: z.string(),
    title: z.string(),
    evidence: z.array(z.string()).openapi({ description: "Ids of the audit events that raised it" }),
    count: z.number().int(),
    firstAt: z.string(),
    lastAt: z.string(),
    acknowledgedBy: z.string().nullable(),
    acknowledgedAt: z.string().nullable(),
    resolvedBy: z.string().nullable(),
    resolvedAt: z.string().nullable(),
  })
  .openapi("Alert");

const ListQuery = z.object({
  status: z.enum(ALERT_STATUSES).optional(),
  severity: z.enum(ALERT_SEVERITIES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const conflictResponse = jsonResponse(ErrorSchema, "Already in that state or past it (`conflict`)");

function transitionRoute(tag: string, to: "acknowledge" | "resolve") {
  return createRoute({
    method: "post",
    path: `/{id}/${to}`,
    tags: [tag],
    summary: to === "acknowledge" ? "Acknowledge an open alert" : "Resolve an open or acknowledged alert",
    request: { params: IdParam },
    responses: {
      200: jsonResponse(z.object({ alert: AlertSchema }), "The alert after the change"),
      403: errorResponses[403],
      404: errorResponses[404],
      409: conflictResponse,
    },
  });
}

async function transition(
  c: Context<AppEnv>,
  scope: AlertScope,
  id: string,
  to: "acknowledged" | "resolved",
) {
  const { before, after } = await transitionAlert(
    c.get("db"),
    scope,
    id,
    to,
    actorOf(c.get("principal")).name,
  );
  audit(c, {
    action: `alert.${to}`,
    tenantId: after.tenantId,
    target: { type: "alert", id },
    details: {
      rule: after.rule,
      severity: after.severity,
      before: { status: before.status },
      after: { status: after.status },
    },
  });
  c.executionCtx.waitUntil(announceAlert(c.get("db"), c.env, to, after));
  return after;
}

/** `/api/dashboard/alerts`: the caller's tenant's alerts (tenant_member may read). */
export const tenantAlertRoutes = createRouter();

tenantAlertRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["alerts"],
    summary: "Security alerts of the tenant, newest activity first",
    request: { query: ListQuery },
    responses: { 200: jsonResponse(z.object({ data: z.array(AlertSchema) }), "Alerts"), ...errorResponses },
  }),
  async (c) => c.json({ data: await listAlerts(c.get("db"), c.get("tenantId"), c.req.valid("query")) }, 200),
);

tenantAlertRoutes.openapi(transitionRoute("alerts", "acknowledge"), async (c) => {
  const alert = await transition(c, c.get("tenantId"), c.req.valid("param").id, "acknowledged");
  return c.json({ alert }, 200);
});

tenantAlertRoutes.openapi(transitionRoute("alerts", "resolve"), async (c) => {
  const alert = await transition(c, c.get("tenantId"), c.req.valid("param").id, "resolved");
  return c.json({ alert }, 200);
});

/** `/api/admin/alerts`: every tenant's alerts and the platform-level ones (failed operator logins…). */
export const adminAlertRoutes = createRouter();

adminAlertRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["admin"],
    summary: "Alerts of every tenant; `tenantId=platform` for platform-level alerts only",
    request: { query: ListQuery.extend({ tenantId: z.string().max(64).optional() }) },
    responses: { 200: jsonResponse(z.object({ data: z.array(AlertSchema) }), "Alerts"), ...errorResponses },
  }),
  async (c) => {
    const { tenantId, ...q } = c.req.valid("query");
    const scope = tenantId === "platform" ? null : tenantId;
    return c.json({ data: await listAlerts(c.get("db"), scope, q) }, 200);
  },
);

adminAlertRoutes.openapi(transitionRoute("admin", "acknowledge"), async (c) => {
  const alert = await transition(c, undefined, c.req.valid("param").id, "acknowledged");
  return c.json({ alert }, 200);
});

adminAlertRoutes.openapi(transitionRoute("admin", "resolve"), async (c) => {
  const alert = await transition(c, undefined, c.req.valid("param").id, "resolved");
  return c.json({ alert }, 200);
});
