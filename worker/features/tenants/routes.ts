import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../../lib/errors";
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
  PageQuery,
  pageMeta,
  pageSchema,
} from "../../lib/http";
import { AGENT_FEE_USD, HIGH_THINKING_SURCHARGE_USD, PLAN_TIERS, PLANS } from "../../lib/pricing";
import { AgentSchema } from "../agents/schemas";
import { listAgents } from "../agents/service";
import { audit } from "../audit/record";
import { EmailSchema } from "../auth/routes";
import { recomputeQuotaStates } from "../billing/profile";
import { enqueueBillingSync } from "../billing/stripe";
import { latestJob, publicJob, retryProvisioning, STEP_STATUSES } from "./provisioning";
import { createTenant, deleteTenant, getTenant, listTenants, platformStats, updateTenant } from "./service";

export const TenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    region: z.string().nullable(),
    status: z.string(),
    planTier: z.enum(PLAN_TIERS),
    overageBillingEnabled: z.boolean(),
    monthlyTokenQuota: z.number().int(),
    contractPlatformFeeUsd: z.number().nullable(),
    contractIncludedAgents: z.number().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Tenant");

export const ProvisioningSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    status: z.enum(STEP_STATUSES),
    steps: z.array(
      z.object({
        name: z.string(),
        label: z.string(),
        status: z.enum(STEP_STATUSES),
        error: z.string().optional(),
      }),
    ),
    attempts: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Provisioning");

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])$/;
const RESERVED_SLUGS = new Set(["admin", "api", "app", "www", "aegis", "platform", "system", "support"]);

const CreateTenantBody = z.object({
  name: z.string().trim().min(2).max(100),
  slug: z
    .string()
    .regex(SLUG, "2–48 lowercase letters, digits or hyphens, not starting or ending with a hyphen")
    .refine((s) => !RESERVED_SLUGS.has(s), "This slug is reserved"),
  planTier: z.enum(PLAN_TIERS),
  adminEmail: EmailSchema.transform((e) => e.toLowerCase()),
  adminName: z.string().trim().min(1).max(100),
  region: z.string().trim().min(2).max(32).optional(),
  monthlyTokenQuota: z.number().int().min(1000).max(10_000_000_000).optional(),
});

const UpdateTenantBody = z
  .object({
    name: z.string().trim().min(2).max(100).optional(),
    planTier: z.enum(PLAN_TIERS).optional(),
    overageBillingEnabled: z.boolean().optional(),
    monthlyTokenQuota: z.number().int().min(1000).max(10_000_000_000).optional(),
    status: z.enum(["active", "suspended"]).optional(),
    contractPlatformFeeUsd: z.number().int().min(0).max(10_000_000).nullable().optional(),
    contractIncludedAgents: z.number().int().min(0).max(100_000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "Nothing to update");

export const adminTenantRoutes = createRouter();

adminTenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/dashboard/stats",
    tags: ["admin"],
    summary: "Platform-wide counts",
    responses: {
      200: jsonResponse(
        z.object({
          tenants: z.number(),
          activeTenants: z.number(),
          provisioningFailed: z.number(),
          agents: z.number(),
        }),
        "Counts",
      ),
      ...errorResponses,
    },
  }),
  async (c) => c.json(await platformStats(c.get("db")), 200),
);

adminTenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/plans",
    tags: ["admin"],
    summary: "Plans and prices (pricing.md as data)",
    responses: {
      200: jsonResponse(
        z.object({
          data: z.array(
            z.object({
              tier: z.enum(PLAN_TIERS),
              label: z.string(),
              platformFeeUsd: z.number(),
              includedAgents: z.number(),
              maxAgents: z.number().nullable(),
              models: z.array(z.string()),
              thinkingModes: z.array(z.string()),
              overageEligible: z.boolean(),
              auditRetentionDays: z.number(),
              privateSkills: z.number().nullable(),
              customContract: z.boolean(),
            }),
          ),
          agentFeesUsd: z.record(z.string(), z.number()),
          highThinkingSurchargeUsd: z.number(),
        }),
        "Plans",
      ),
    },
  }),
  (c) =>
    c.json(
      {
        data: PLAN_TIERS.map((t) => ({
          ...PLANS[t],
          models: [...PLANS[t].models],
          thinkingModes: [...PLANS[t].thinkingModes],
        })),
        agentFeesUsd: AGENT_FEE_USD,
        highThinkingSurchargeUsd: HIGH_THINKING_SURCHARGE_USD,
      },
      200,
    ),
);

adminTenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants",
    tags: ["admin"],
    summary: "List tenants",
    request: {
      query: PageQuery.extend({
        q: z.string().max(100).optional(),
        status: z.enum(["provisioning", "active", "failed", "suspended"]).optional(),
      }),
    },
    responses: { 200: jsonResponse(pageSchema(TenantSchema), "A page of tenants"), ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows, total } = await listTenants(c.get("db"), q);
    return c.json({ data: rows, meta: pageMeta(q.page, q.limit, total) }, 200);
  },
);

adminTenantRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tenants",
    tags: ["admin"],
    summary: "Create a tenant; provisioning runs as a queue job",
    description: "Answers 202 at once. The admin's one-time password is in this response and nowhere else.",
    request: { body: jsonBody(CreateTenantBody) },
    responses: {
      202: jsonResponse(
        z.object({
          tenant: TenantSchema,
          provisioning: ProvisioningSchema,
          admin: z.object({ email: z.string(), oneTimePassword: z.string() }),
        }),
        "Accepted; poll the provisioning endpoint",
      ),
      409: jsonResponse(z.object({ code: z.string() }), "Slug or email taken"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const result = await createTenant(c.get("db"), c.env, input);
    audit(c, {
      action: "tenant.created",
      tenantId: result.tenant.id,
      target: { type: "tenant", id: result.tenant.id },
      details: { after: { ...input } },
    });
    return c.json(result, 202);
  },
);

adminTenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{id}",
    tags: ["admin"],
    summary: "A tenant with its provisioning state",
    request: { params: IdParam },
    responses: {
      200: jsonResponse(
        z.object({
          tenant: TenantSchema,
          agentCount: z.number(),
          provisioning: ProvisioningSchema.nullable(),
        }),
        "The tenant",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const db = c.get("db");
    const tenant = await getTenant(db, id);
    const job = await latestJob(db, id);
    const { total } = await listAgents(db, id);
    return c.json({ tenant, agentCount: total, provisioning: job ? publicJob(job) : null }, 200);
  },
);

adminTenantRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/tenants/{id}",
    tags: ["admin"],
    summary: "Change plan, quota, overage or status",
    request: { params: IdParam, body: jsonBody(UpdateTenantBody) },
    responses: {
      200: jsonResponse(z.object({ tenant: TenantSchema }), "Updated"),
      409: jsonResponse(z.object({ code: z.string() }), "Not possible in the tenant's state"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { before, after } = await updateTenant(c.get("db"), id, c.req.valid("json"));
    audit(c, {
      action: "tenant.updated",
      tenantId: id,
      target: { type: "tenant", id },
      details: { before, after },
    });
    // Plan, overage or default quota may have changed: every agent's state and gateway profile follow.
    await recomputeQuotaStates(c.get("db"), c.env, id);
    c.executionCtx.waitUntil(enqueueBillingSync(c.env, id));
    return c.json({ tenant: after }, 200);
  },
);

adminTenantRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/tenants/{id}",
    tags: ["admin"],
    summary: "Delete a tenant (soft: hidden, users logged out, data kept)",
    request: { params: IdParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    await deleteTenant(c.get("db"), id);
    audit(c, { action: "tenant.deleted", tenantId: id, severity: "high", target: { type: "tenant", id } });
    return c.body(null, 204);
  },
);

adminTenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{id}/provisioning",
    tags: ["admin"],
    summary: "Progress of the tenant's provisioning job",
    request: { params: IdParam },
    responses: { 200: jsonResponse(ProvisioningSchema, "Per-step progress"), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const db = c.get("db");
    await getTenant(db, id);
    const job = await latestJob(db, id);
    if (!job) throw notFound("Provisioning job");
    return c.json(publicJob(job), 200);
  },
);

adminTenantRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tenants/{id}/provisioning/retry",
    tags: ["admin"],
    summary: "Resume a failed provisioning job from the failed step",
    request: { params: IdParam },
    responses: {
      202: jsonResponse(ProvisioningSchema, "Re-queued"),
      409: jsonResponse(z.object({ code: z.string() }), "The job is not failed"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const db = c.get("db");
    await getTenant(db, id);
    const job = await retryProvisioning(db, c.env, id);
    audit(c, {
      action: "tenant.provisioning_retried",
      tenantId: id,
      target: { type: "tenant", id },
      details: { attempt: job.attempts },
    });
    return c.json(job, 202);
  },
);

adminTenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{id}/agents",
    tags: ["admin"],
    summary: "A tenant's agents",
    request: { params: IdParam },
    responses: { 200: jsonResponse(z.object({ data: z.array(AgentSchema) }), "Agents"), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { rows } = await listAgents(c.get("db"), id);
    return c.json({ data: rows }, 200);
  },
);
