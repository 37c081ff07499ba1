import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { agents, alerts, apiKeys, invites, skills, users, webhooks } from "../../db/schema";
import type { AppEnv } from "../../env";
import type { ScopedNotFound } from "../../lib/errors";
import { audit } from "./record";

const owners = {
  agents: { table: agents, id: agents.id, tenantId: agents.tenantId },
  users: { table: users, id: users.id, tenantId: users.tenantId },
  skills: { table: skills, id: skills.id, tenantId: skills.tenantId },
  api_keys: { table: apiKeys, id: apiKeys.id, tenantId: apiKeys.tenantId },
  invites: { table: invites, id: invites.id, tenantId: invites.tenantId },
  alerts: { table: alerts, id: alerts.id, tenantId: alerts.tenantId },
  webhooks: { table: webhooks, id: webhooks.id, tenantId: webhooks.tenantId },
} as const;

/** Audits a 404 as `security.cross_tenant_attempt` when the id exists, but in another tenant. */
export async function recordIfCrossTenant(c: Context<AppEnv>, err: ScopedNotFound): Promise<void> {
  const callerTenant = c.get("tenantId") as string | undefined;
  if (!callerTenant) return;
  const o = owners[err.resource];
  const row = await c
    .get("db")
    .select({ tenantId: o.tenantId })
    .from(o.table)
    .where(eq(o.id, err.resourceId))
    .get();
  if (!row?.tenantId || row.tenantId === callerTenant) return;
  audit(c, {
    action: "security.cross_tenant_attempt",
    severity: "high",
    target: { type: err.resource, id: err.resourceId },
    details: { method: c.req.method, path: c.req.path, ownerTenantId: row.tenantId },
  });
}
