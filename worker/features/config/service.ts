import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { agents, configVersions } from "../../db/schema";
import { AppError, notFound } from "../../lib/errors";
import { hubStub, mailboxStub } from "../../lib/objects";
import { type TenantConfig, tenantConfigSchema } from "./schema";

type Row = typeof configVersions.$inferSelect;

function present(row: Row) {
  return {
    version: row.version,
    config: tenantConfigSchema.parse(JSON.parse(row.config)),
    updatedAt: row.createdAt,
    updatedBy: row.createdBy,
  };
}

export async function latestConfig(db: Database, tenantId: string) {
  const row = await db
    .select()
    .from(configVersions)
    .where(eq(configVersions.tenantId, tenantId))
    .orderBy(desc(configVersions.version))
    .get();
  if (!row) throw notFound("Configuration");
  return present(row);
}

export async function configVersion(db: Database, tenantId: string, version: number) {
  const row = await db
    .select()
    .from(configVersions)
    .where(and(eq(configVersions.tenantId, tenantId), eq(configVersions.version, version)))
    .get();
  if (!row) throw notFound(`Configuration version ${version}`);
  return present(row);
}

export async function listConfigVersions(db: Database, tenantId: string) {
  const rows = await db
    .select({
      version: configVersions.version,
      updatedAt: configVersions.createdAt,
      updatedBy: configVersions.createdBy,
    })
    .from(configVersions)
    .where(eq(configVersions.tenantId, tenantId))
    .orderBy(desc(configVersions.version))
    .all();
  return rows;
}

/**
 * Writes version `expectedVersion + 1` only if `expectedVersion` is still the latest (checked inside
 * the INSERT), then pushes it to every agent's mailbox. Connected agents get it at once; the others
 * get it when they connect.
 */
export async function saveConfig(
  db: Database,
  env: Env,
  tenantId: string,
  config: TenantConfig,
  expectedVersion: number,
  updatedBy: string | null,
) {
  const before = await latestConfig(db, tenantId);
  const version = expectedVersion + 1;
  const res = await db.$client
    .prepare(
      `INSERT INTO config_versions (tenant_id, version, config, created_by, created_at)
       SELECT ?1, ?2, ?3, ?4, ?5
       WHERE (SELECT COALESCE(MAX(version), 0) FROM config_versions WHERE tenant_id = ?1) = ?6`,
    )
    .bind(tenantId, version, JSON.stringify(config), updatedBy, new Date().toISOString(), expectedVersion)
    .run();
  if (res.meta.changes !== 1) {
    throw new AppError(
      409,
      "version_conflict",
      `Version ${expectedVersion} is not the latest (${before.version} is)`,
      {
        current: { version: before.version, updatedBy: before.updatedBy, updatedAt: before.updatedAt },
      },
    );
  }
  const pushed = await pushConfigToAgents(db, env, tenantId, version, config);
  return { version, before: before.config, after: config, ...pushed };
}

export async function pushConfigToAgents(
  db: Database,
  env: Env,
  tenantId: string,
  version: number,
  config: TenantConfig,
) {
  // TenantHub writes message events to the audit log according to the config.
  await hubStub(env, tenantId).applyConfig(version, config.audit.messages);
  const ids = await db.select({ id: agents.id }).from(agents).where(eq(agents.tenantId, tenantId)).all();
  const pushedTo: string[] = [];
  const pending: string[] = [];
  await Promise.all(
    ids.map(async ({ id }) => {
      try {
        const res = await mailboxStub(env, tenantId, id).pushConfig(
          { agentId: id, tenantId },
          version,
          config,
        );
        (res.ok && res.connected ? pushedTo : pending).push(id);
      } catch (err) {
        console.error("config push failed", { agentId: id, error: String(err) });
        pending.push(id);
      }
    }),
  );
  return { pushedTo: pushedTo.sort(), pending: pending.sort() };
}

/** Which agents are connected and which config version each has applied. */
export async function configStatus(db: Database, env: Env, tenantId: string) {
  const [current, list, applied] = await Promise.all([
    latestConfig(db, tenantId),
    db
      .select({ id: agents.id, name: agents.name })
      .from(agents)
      .where(eq(agents.tenantId, tenantId))
      .orderBy(agents.createdAt)
      .all(),
    hubStub(env, tenantId).configApplied(),
  ]);
  const byAgent = new Map(applied.map((a) => [a.agentId, a]));
  const described = await Promise.all(list.map((a) => mailboxStub(env, tenantId, a.id).describe()));
  return {
    version: current.version,
    agents: list.map((a, i) => ({
      agentId: a.id,
      name: a.name,
      connected: described[i]?.connected ?? false,
      appliedVersion: byAgent.get(a.id)?.version ?? null,
      appliedAt: byAgent.get(a.id)?.at ?? null,
    })),
  };
}
