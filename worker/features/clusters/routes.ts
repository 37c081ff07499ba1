// Clusters: operators and tenant admins register them (`/api/admin/clusters`, `/api/dashboard/clusters`);
// their controllers dial out to `/controller/v1/*` with the credential they got from registering.
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import type { ClusterStatus } from "../../../durable-objects/cluster-hub";
import { tenants } from "../../db/schema";
import type { AppEnv } from "../../env";
import { AppError } from "../../lib/errors";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/http";
import { clusterStub } from "../../lib/objects";
import { audit } from "../audit/record";
import { requireTenantAdmin } from "../auth/middleware";
import { actorOf } from "../auth/principal";
import {
  clusterByCredential,
  createCluster,
  getCluster,
  issueRuntimeCredential,
  listClusters,
  registerCluster,
} from "./service";
import { pushDesiredState } from "./sync";

const Cluster = z
  .object({
    id: z.string(),
    name: z.string(),
    tenantId: z.string().nullable().openapi({ description: "Set for a tenant's own cluster" }),
    registration: z.enum(["pending", "registered", "expired"]),
    reportedName: z.string().nullable(),
    registeredAt: z.string().nullable(),
    registrationExpiresAt: z.string().nullable(),
    desiredGeneration: z.number().int(),
    tenants: z.array(z.object({ id: z.string(), name: z.string(), slug: z.string() })),
    createdAt: z.string(),
  })
  .openapi("Cluster");

const Status = z
  .object({
    connected: z.boolean(),
    connectedAt: z.string().nullable(),
    lastSeenAt: z.string().nullable(),
    desiredGeneration: z.number().int(),
    appliedGeneration: z.number().int().nullable(),
    appliedAt: z.string().nullable(),
    rejected: z.object({ generation: z.number(), reason: z.string(), at: z.string() }).nullable(),
    agents: z.array(
      z.object({
        agentId: z.string(),
        tenantId: z.string().nullable(),
        status: z.string(),
        restarts: z.number().int(),
        lastError: z.string().nullable(),
        at: z.string(),
      }),
    ),
    errors: z.array(z.object({ resource: z.string(), message: z.string() })),
    egress: z.array(
      z.object({
        agentId: z.string(),
        tenantId: z.string().nullable(),
        domain: z.string(),
        at: z.string(),
        wouldBlock: z.boolean(),
      }),
    ),
  })
  .openapi("ClusterStatus");

const Created = z.object({
  cluster: Cluster,
  registrationToken: z.string().openapi({ description: "Shown once; the controller exchanges it once" }),
});

/** A tenant sees only its own agents' runtime status and egress on a cluster it shares. */
function forTenant(status: ClusterStatus, tenantId: string | null): ClusterStatus {
  if (!tenantId) return status;
  return {
    ...status,
    agents: status.agents.filter((a) => a.tenantId === tenantId),
    egress: status.egress.filter((e) => e.tenantId === tenantId),
    errors: [],
  };
}

async function withStatus(c: Context<AppEnv>, clusterId: string, tenantId: string | null) {
  return forTenant(await clusterStub(c.env, clusterId).status(), tenantId);
}

// ---------------------------------------------------------------------------------------------------
// Operator: /api/admin/clusters

export const adminClusterRoutes = createRouter();

adminClusterRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["clusters"],
    summary: "Register a platform cluster (the registration token is shown once)",
    request: {
      body: jsonBody(
        z.object({
          name: z.string().trim().min(1).max(80),
          tenantIds: z.array(z.string().min(1).max(64)).max(500).optional().openapi({
            description: "Tenants whose agents this cluster runs",
          }),
        }),
      ),
    },
    responses: { 201: jsonResponse(Created, "Created"), ...errorResponses },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const actor = actorOf(c.get("principal"));
    const created = await createCluster(c.get("db"), {
      name: body.name,
      tenantId: null,
      tenantIds: body.tenantIds,
      createdBy: actor.id,
    });
    audit(c, {
      action: "cluster.created",
      target: { type: "cluster", id: created.cluster.id },
      details: { name: body.name, tenants: created.cluster.tenants.map((t) => t.id) },
    });
    return c.json(created, 201);
  },
);

adminClusterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["clusters"],
    summary: "Every cluster with its connection and applied generation",
    responses: {
      200: jsonResponse(z.object({ data: z.array(Cluster.extend({ status: Status })) }), "Clusters"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const list = await listClusters(c.get("db"), { operator: true });
    const data = await Promise.all(
      list.map(async (k) => ({ ...k, status: await withStatus(c, k.id, null) })),
    );
    return c.json({ data }, 200);
  },
);

adminClusterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["clusters"],
    summary: "One cluster with its status, per-agent runtime status and blocked egress",
    request: { params: IdParam },
    responses: {
      200: jsonResponse(z.object({ cluster: Cluster, status: Status }), "The cluster"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const cluster = await getCluster(c.get("db"), id, { operator: true });
    return c.json({ cluster, status: await withStatus(c, id, null) }, 200);
  },
);

// ---------------------------------------------------------------------------------------------------
// Tenant: /api/dashboard/clusters

export const tenantClusterRoutes = createRouter();

tenantClusterRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["clusters"],
    summary: "Register the tenant's own cluster; its agents move to it (the token is shown once)",
    middleware: [requireTenantAdmin] as const,
    request: { body: jsonBody(z.object({ name: z.string().trim().min(1).max(80) })) },
    responses: { 201: jsonResponse(Created, "Created"), ...errorResponses },
  }),
  async (c) => {
    const { name } = c.req.valid("json");
    const tenantId = c.get("tenantId");
    const created = await createCluster(c.get("db"), {
      name,
      tenantId,
      createdBy: actorOf(c.get("principal")).id,
    });
    audit(c, {
      action: "cluster.created",
      target: { type: "cluster", id: created.cluster.id },
      details: { name },
    });
    return c.json(created, 201);
  },
);

tenantClusterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["clusters"],
    summary: "The tenant's clusters (its own, and the platform cluster running its agents)",
    responses: {
      200: jsonResponse(z.object({ data: z.array(Cluster.extend({ status: Status })) }), "Clusters"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const tenantId = c.get("tenantId");
    const list = await listClusters(c.get("db"), { tenantId });
    const data = await Promise.all(
      list.map(async (k) => ({ ...hideOthers(k, tenantId), status: await withStatus(c, k.id, tenantId) })),
    );
    return c.json({ data }, 200);
  },
);

const EgressMode = z.enum(["enforce", "log-only"]);
const EgressView = z
  .object({
    mode: EgressMode,
    /**
     * Per agent, the domains its egress proxy saw it reach (log-only) or refused that its skills do not
     * declare: what to add to a manifest's `network.allowedDomains` if the traffic is wanted.
     */
    suggestions: z.array(
      z.object({
        agentId: z.string(),
        domains: z.array(
          z.object({ domain: z.string(), count: z.number().int(), lastAt: z.string(), blocked: z.boolean() }),
        ),
        manifest: z.object({ network: z.object({ allowedDomains: z.array(z.string()) }) }),
      }),
    ),
  })
  .openapi("EgressSettings");

async function egressView(c: Context<AppEnv>, tenantId: string) {
  const tenant = await c.get("db").select().from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!tenant) throw new AppError(404, "not_found", "Tenant not found");
  const events = tenant.clusterId
    ? forTenant(await clusterStub(c.env, tenant.clusterId).status(), tenantId).egress
    : [];
  const byAgent = new Map<
    string,
    Map<string, { domain: string; count: number; lastAt: string; blocked: boolean }>
  >();
  for (const e of events) {
    const domains = byAgent.get(e.agentId) ?? new Map();
    const d = domains.get(e.domain) ?? { domain: e.domain, count: 0, lastAt: e.at, blocked: false };
    d.count++;
    if (e.at > d.lastAt) d.lastAt = e.at;
    d.blocked ||= !e.wouldBlock;
    domains.set(e.domain, d);
    byAgent.set(e.agentId, domains);
  }
  return {
    mode: (tenant.egressMode === "log-only" ? "log-only" : "enforce") as "enforce" | "log-only",
    suggestions: [...byAgent.entries()].map(([agentId, domains]) => {
      const list = [...domains.values()].sort(
        (a, b) => b.count - a.count || a.domain.localeCompare(b.domain),
      );
      return {
        agentId,
        domains: list,
        manifest: { network: { allowedDomains: list.map((d) => d.domain).sort() } },
      };
    }),
  };
}

tenantClusterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/egress",
    tags: ["clusters"],
    summary: "The tenant's egress mode and, per agent, domains reached or refused that no skill declares",
    responses: { 200: jsonResponse(EgressView, "Egress settings and suggestions"), ...errorResponses },
  }),
  async (c) => c.json(await egressView(c, c.get("tenantId")), 200),
);

tenantClusterRoutes.openapi(
  createRoute({
    method: "put",
    path: "/egress",
    tags: ["clusters"],
    summary:
      "Switch the egress proxies between enforce and log-only (report would-be blocks, let them through)",
    middleware: [requireTenantAdmin] as const,
    request: { body: jsonBody(z.object({ mode: EgressMode })) },
    responses: { 200: jsonResponse(EgressView, "The new settings"), ...errorResponses },
  }),
  async (c) => {
    const { mode } = c.req.valid("json");
    const tenantId = c.get("tenantId");
    const db = c.get("db");
    const before = await db
      .select({ egressMode: tenants.egressMode })
      .from(tenants)
      .where(eq(tenants.id, tenantId))
      .get();
    await db.update(tenants).set({ egressMode: mode }).where(eq(tenants.id, tenantId)).run();
    audit(c, {
      action: "egress.mode_changed",
      severity: mode === "log-only" ? "medium" : "info",
      target: { type: "tenant", id: tenantId },
      details: { before: { mode: before?.egressMode ?? "enforce" }, after: { mode } },
    });
    return c.json(await egressView(c, tenantId), 200);
  },
);

tenantClusterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["clusters"],
    summary: "One of the tenant's clusters with its agents' runtime status and blocked egress",
    request: { params: IdParam },
    responses: {
      200: jsonResponse(z.object({ cluster: Cluster, status: Status }), "The cluster"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = c.get("tenantId");
    const cluster = await getCluster(c.get("db"), id, { tenantId });
    return c.json({ cluster: hideOthers(cluster, tenantId), status: await withStatus(c, id, tenantId) }, 200);
  },
);

/** Other tenants on a shared platform cluster are not the tenant's business. */
function hideOthers<T extends { tenants: Array<{ id: string }> }>(cluster: T, tenantId: string): T {
  return { ...cluster, tenants: cluster.tenants.filter((t) => t.id === tenantId) };
}

// ---------------------------------------------------------------------------------------------------
// Controller: /controller/v1

/** `Authorization: Bearer <cluster credential>` (or `?credential=` for WebSocket clients without headers). */
const authenticateCluster: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  const credential = header?.startsWith("Bearer ") ? header.slice(7).trim() : null;
  const cluster = credential ? await clusterByCredential(c.get("db"), credential) : null;
  if (!cluster)
    throw new AppError(401, "invalid_cluster_credential", "A valid cluster credential is required");
  c.set("cluster", cluster);
  await next();
};

export const controllerRoutes = createRouter();

controllerRoutes.openapi(
  createRoute({
    method: "post",
    path: "/register",
    tags: ["controller"],
    summary: "Exchange a one-time registration token for the cluster's credential",
    request: {
      body: jsonBody(
        z.object({
          registrationToken: z.string().min(1).max(200),
          clusterName: z.string().trim().min(1).max(120),
        }),
      ),
    },
    responses: {
      200: jsonResponse(z.object({ clusterId: z.string(), credential: z.string() }), "Registered"),
      400: errorResponses[400],
      401: jsonResponse(
        errorResponses[401].content["application/json"].schema,
        "`invalid_registration_token`",
      ),
    },
  }),
  async (c) => {
    const { registrationToken, clusterName } = c.req.valid("json");
    try {
      const registered = await registerCluster(c.get("db"), registrationToken, clusterName);
      audit(c, {
        action: "cluster.registered",
        actor: { type: "system", id: registered.clusterId, name: clusterName },
        target: { type: "cluster", id: registered.clusterId },
        details: { clusterName },
      });
      return c.json(registered, 200);
    } catch (err) {
      if (err instanceof AppError && err.status === 401) {
        audit(c, { action: "cluster.registration_refused", severity: "medium", details: { clusterName } });
      }
      throw err;
    }
  },
);

const controllerAuthed = createRouter();
controllerAuthed.use("*", authenticateCluster);

controllerAuthed.openapi(
  createRoute({
    method: "get",
    path: "/connect",
    tags: ["controller"],
    summary: "The controller's WebSocket: desired state in, applied/status/egress_blocked out",
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
    const cluster = c.get("cluster");
    // Level-triggered: the controller always starts from the latest state computed from D1.
    await pushDesiredState(c.env, c.get("db"), cluster.id);
    return clusterStub(c.env, cluster.id).fetch(c.req.raw) as unknown as Response;
  },
);

controllerAuthed.openapi(
  createRoute({
    method: "get",
    path: "/desired",
    tags: ["controller"],
    summary: "The latest desired state over HTTP (what the socket sends on connect)",
    responses: {
      200: jsonResponse(
        z.object({ generation: z.number().int(), resources: z.array(z.record(z.string(), z.unknown())) }),
        "Desired state",
      ),
      401: errorResponses[401],
    },
  }),
  async (c) => {
    const cluster = c.get("cluster");
    const refreshed = await pushDesiredState(c.env, c.get("db"), cluster.id);
    return c.json(
      {
        generation: refreshed?.state.generation ?? 0,
        resources: (refreshed?.state.resources ?? []) as unknown as Array<Record<string, unknown>>,
      },
      200,
    );
  },
);

controllerAuthed.openapi(
  createRoute({
    method: "post",
    path: "/agents/{agentId}/credential",
    tags: ["controller"],
    summary: "Issue (or rotate) the runtime credential of an agent this cluster runs",
    request: { params: z.object({ agentId: z.string().min(1).max(64) }) },
    responses: {
      200: jsonResponse(
        z.object({ agentId: z.string(), credential: z.string(), version: z.number().int() }),
        "The credential, once",
      ),
      401: errorResponses[401],
      404: errorResponses[404],
    },
  }),
  async (c) => {
    const cluster = c.get("cluster");
    const { agentId } = c.req.valid("param");
    const { tenantId, ...issued } = await issueRuntimeCredential(c.get("db"), cluster.id, agentId);
    audit(c, {
      action: "agent.runtime_credential_issued",
      tenantId,
      actor: { type: "system", id: cluster.id, name: cluster.reportedName ?? cluster.name },
      target: { type: "agent", id: agentId },
      details: { clusterId: cluster.id, version: issued.version },
    });
    // The new version is part of the desired state: push it so the controller sees it applied.
    await pushDesiredState(c.env, c.get("db"), cluster.id);
    return c.json(issued, 200);
  },
);

controllerRoutes.route("/", controllerAuthed);
