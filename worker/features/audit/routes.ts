import { createRoute, z } from "@hono/zod-openapi";
import { desc, eq } from "drizzle-orm";
import type { Context } from "hono";
import { auditArchives } from "../../db/schema";
import type { AppEnv } from "../../env";
import { readArchivedDay } from "../../jobs/audit-retention";
import { notFound } from "../../lib/errors";
import { createRouter, errorResponses, jsonResponse } from "../../lib/http";
import { chainOf } from "./chain";
import { audit, SEVERITIES } from "./record";
import { distinctActions, exportStream, listAudit, presentAudit, verifyChain } from "./service";

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
  async (c) => {
    const result = await verifyChain(c.get("db"), chainOf(c.get("tenantId")));
    // A broken chain raises the critical `audit_chain_broken` alert (worker/features/alerts/rules.ts).
    if (!result.valid) {
      audit(c, {
        action: "audit.verify_failed",
        severity: "critical",
        target: { type: "audit", id: result.firstBrokenId },
        details: { checked: result.checked, reason: result.reason },
      });
    }
    return c.json(result, 200);
  },
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

const ArchiveQuery = z.object({ date: z.iso.date() });
const ArchiveResponse = z.object({
  date: z.string(),
  manifest: z.object({
    rowCount: z.number(),
    firstId: z.string(),
    lastId: z.string(),
    chainHash: z.string(),
    sha256: z.string(),
  }),
  data: z.array(AuditEventSchema),
});

tenantAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/archive",
    tags: ["audit"],
    summary: "An archived day, read back from R2",
    request: { query: ArchiveQuery },
    responses: { 200: jsonResponse(ArchiveResponse, "The day's events"), ...errorResponses },
  }),
  async (c) => {
    const { date } = c.req.valid("query");
    const found = await readArchivedDay(c.get("db"), c.env.ARCHIVE, chainOf(c.get("tenantId")), date);
    if (!found) throw notFound(`Archive of ${date}`);
    return c.json({ date, manifest: found.manifest, data: found.rows.map(presentAudit).reverse() }, 200);
  },
);

tenantAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/archives",
    tags: ["audit"],
    summary: "Archived days of the tenant",
    responses: {
      200: jsonResponse(
        z.object({ data: z.array(z.object({ day: z.string(), rowCount: z.number() })) }),
        "Days",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const rows = await c
      .get("db")
      .select({ day: auditArchives.day, rowCount: auditArchives.rowCount })
      .from(auditArchives)
      .where(eq(auditArchives.tenantId, chainOf(c.get("tenantId"))))
      .orderBy(desc(auditArchives.day))
      .limit(400)
      .all();
    return c.json({ data: rows }, 200);
  },
);

adminAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/archive",
    tags: ["admin"],
    summary: "An archived day of one tenant (or the platform chain), read back from R2",
    request: { query: ArchiveQuery.extend(TenantFilter.shape) },
    responses: { 200: jsonResponse(ArchiveResponse, "The day's events"), ...errorResponses },
  }),
  async (c) => {
    const { date, tenantId } = c.req.valid("query");
    const found = await readArchivedDay(c.get("db"), c.env.ARCHIVE, chainOf(tenantId ?? null), date);
    if (!found) throw notFound(`Archive of ${date}`);
    return c.json({ date, manifest: found.manifest, data: found.rows.map(presentAudit).reverse() }, 200);
  },
);
