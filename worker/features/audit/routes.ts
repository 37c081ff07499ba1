import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { createRouter, errorResponses, jsonResponse } from "../../lib/http";
import { chainOf } from "./chain";
import { audit, SEVERITIES } from "./record";
import { distinctActions, exportStream, listAudit, verifyChain } from "./service";

const Filters = z.object({
  actorId: z.string().max(80).optional(),
  actorType: z.enum(["user", "agent", "system"]).optional(),
  action: z.string().max(80).optional(),
  targetType: z.string().max(40).optional(),
  targetId: z.string().max(80).optional(),
  severity: z.enum(SEVERITIES).optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  q: z.string().max(200).optional(),
});
const ListQuery = Filters.extend({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const ExportQuery = Filters.extend({ format: z.enum(["csv", "json"]).default("csv") });

const AuditEventSchema = z
  .object({
    id: z.string(),
    tenantId: z.string().nullable(),
    seq: z.number().int(),
    actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
    severity: z.string(),
    details: z.unknown(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    at: z.string(),
    hash: z.string(),
  })
  .openapi("AuditEvent");
const Page = z.object({
  data: z.array(AuditEventSchema),
  meta: z.object({ limit: z.number(), nextCursor: z.string().nullable() }),
});
const Verify = z
  .object({
    valid: z.boolean(),
    checked: z.number(),
    firstBrokenId: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .openapi("AuditVerification");

function download(
  c: Context<AppEnv>,
  stream: ReadableStream<Uint8Array>,
  format: "csv" | "json",
  name: string,
) {
  return new Response(stream, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${name}-${new Date().toISOString().slice(0, 10)}.${format}"`,
      "cache-control": "no-store",
      "x-request-id": c.get("requestId"),
    },
  });
}

/** `/api/dashboard/audit`: the caller's tenant only. */
export const tenantAuditRoutes = createRouter();

tenantAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["audit"],
    summary: "The tenant's audit log, newest first (cursor pages)",
    request: { query: ListQuery },
    responses: { 200: jsonResponse(Page, "A page of events"), ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await listAudit(c.get("db"), c.get("tenantId"), q);
    return c.json({ data: page.data, meta: { limit: q.limit, nextCursor: page.nextCursor } }, 200);
  },
);

tenantAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/actions",
    tags: ["audit"],
    summary: "Distinct action names, for the filter",
    responses: { 200: jsonResponse(z.object({ data: z.array(z.string()) }), "Actions"), ...errorResponses },
  }),
  async (c) => c.json({ data: await distinctActions(c.get("db"), c.get("tenantId")) }, 200),
);

tenantAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/verify",
    tags: ["audit"],
    summary: "Verify the tenant's hash chain",
    responses: { 200: jsonResponse(Verify, "The verification"), ...errorResponses },
  }),
  async (c) => c.json(await verifyChain(c.get("db"), chainOf(c.get("tenantId"))), 200),
);

tenantAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/export",
    tags: ["audit"],
    summary: "Export the current filter as CSV or JSON (up to 10,000 rows, streamed); the export is audited",
    request: { query: ExportQuery },
    responses: { 200: { description: "The file" }, ...errorResponses },
  }),
  async (c) => {
    const { format, ...filters } = c.req.valid("query");
    audit(c, { action: "audit.exported", target: { type: "audit", id: null }, details: { format, filters } });
    return download(c, exportStream(c.get("db"), c.get("tenantId"), filters, format), format, "aegis-audit");
  },
);

/** `/api/admin/audit`: every tenant, for operators. */
export const adminAuditRoutes = createRouter();
const TenantFilter = z.object({ tenantId: z.string().max(64).optional() });

adminAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["admin"],
    summary: "All tenants' audit events (filter by tenantId)",
    request: { query: ListQuery.extend(TenantFilter.shape) },
    responses: { 200: jsonResponse(Page, "A page of events"), ...errorResponses },
  }),
  async (c) => {
    const { tenantId, ...q } = c.req.valid("query");
    const page = await listAudit(c.get("db"), null, q, tenantId);
    return c.json({ data: page.data, meta: { limit: q.limit, nextCursor: page.nextCursor } }, 200);
  },
);

adminAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/actions",
    tags: ["admin"],
    summary: "Distinct action names across tenants",
    responses: { 200: jsonResponse(z.object({ data: z.array(z.string()) }), "Actions"), ...errorResponses },
  }),
  async (c) => c.json({ data: await distinctActions(c.get("db"), null) }, 200),
);

adminAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/verify",
    tags: ["admin"],
    summary: "Verify one tenant's chain (or the platform chain without tenantId)",
    request: { query: TenantFilter },
    responses: { 200: jsonResponse(Verify, "The verification"), ...errorResponses },
  }),
  async (c) => c.json(await verifyChain(c.get("db"), chainOf(c.req.valid("query").tenantId ?? null)), 200),
);

adminAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/export",
    tags: ["admin"],
    summary: "Export across tenants (up to 10,000 rows, streamed); the export is audited",
    request: { query: ExportQuery.extend(TenantFilter.shape) },
    responses: { 200: { description: "The file" }, ...errorResponses },
  }),
  async (c) => {
    const { format, tenantId, ...filters } = c.req.valid("query");
    audit(c, {
      action: "audit.exported",
      target: { type: "audit", id: tenantId ?? null },
      details: { format, tenantId, filters },
    });
    return download(c, exportStream(c.get("db"), null, filters, format, tenantId), format, "aegis-audit-all");
  },
);
