// Keeps each cluster's desired state current: after a change to what a tenant's agents are, the
// tenant's cluster gets a new desired state (a new generation only when the content changed).
import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { Database } from "../../db/client";
import { skills, skillVersions, tenants } from "../../db/schema";
import type { AppEnv } from "../../env";
import { clusterStub } from "../../lib/objects";
import { refreshDesiredState } from "./desired";

/** Recomputes and pushes the desired state of the cluster running `tenantId`'s agents, if any. */
export async function syncTenantCluster(env: Env, db: Database, tenantId: string): Promise<void> {
  const tenant = await db
    .select({ clusterId: tenants.clusterId })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .get();
  if (!tenant?.clusterId) return;
  await pushDesiredState(env, db, tenant.clusterId);
}

export async function pushDesiredState(env: Env, db: Database, clusterId: string) {
  const refreshed = await refreshDesiredState(db, clusterId);
  if (refreshed) await clusterStub(env, clusterId).setDesired(refreshed.state);
  return refreshed;
}

const MUTATIONS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The tenant a successful mutation changed: the dashboard's tenant, or the one an operator route names. */
async function tenantOf(c: Parameters<MiddlewareHandler<AppEnv>>[0]): Promise<string | null> {
  const scoped = c.get("tenantId") as string | undefined;
  if (scoped) return scoped;
  const path = c.req.path;
  const tenant = /^\/api\/admin\/tenants\/([^/]+)/.exec(path)?.[1];
  if (tenant) return tenant;
  const version = /^\/api\/admin\/skills\/review\/([^/]+)/.exec(path)?.[1];
  if (version) {
    const row = await c
      .get("db")
      .select({ tenantId: skills.tenantId })
      .from(skillVersions)
      .innerJoin(skills, eq(skills.id, skillVersions.skillId))
      .where(eq(skillVersions.id, version))
      .get();
    return row?.tenantId ?? null;
  }
  return null;
}

/** Middleware: after a successful mutation, the tenant's cluster is brought up to date (after the response). */
export const syncClusterAfter: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (!MUTATIONS.has(c.req.method) || c.res.status >= 400) return;
  const db = c.get("db");
  c.executionCtx.waitUntil(
    tenantOf(c)
      .then((tenantId) => (tenantId ? syncTenantCluster(c.env, db, tenantId) : undefined))
      .catch((err) => console.error("cluster sync failed", { path: c.req.path, error: String(err) })),
  );
};
