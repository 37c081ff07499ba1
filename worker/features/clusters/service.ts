// Clusters: registration (a one-time token exchanged once for a credential), the credential check of
// the controller's requests, runtime credentials for the agents a cluster runs, and which tenants a
// cluster serves. The desired state itself is computed in desired.ts.
import { and, eq, inArray, isNull, or } from "drizzle-orm";
import type { Database } from "../../db/client";
import { agentRuntimeCredentials, agents, clusters, tenants } from "../../db/schema";
import { sha256Hex, timingSafeEqual } from "../../lib/crypto";
import { AppError, notFound, validationFailed } from "../../lib/errors";
import { newId, randomToken } from "../../lib/ids";

export type ClusterRow = typeof clusters.$inferSelect;

/** How long a registration token may wait to be used. */
export const REGISTRATION_TTL_MS = 24 * 3600_000;

export interface ClusterView {
  id: string;
  name: string;
  tenantId: string | null;
  /** pending (token not used yet) | registered | expired (token unused past its time) */
  registration: "pending" | "registered" | "expired";
  reportedName: string | null;
  registeredAt: string | null;
  registrationExpiresAt: string | null;
  desiredGeneration: number;
  tenants: Array<{ id: string; name: string; slug: string }>;
  createdAt: string;
}

function registrationOf(row: ClusterRow, now = Date.now()): ClusterView["registration"] {
  if (row.registeredAt) return "registered";
  return row.registrationExpiresAt && Date.parse(row.registrationExpiresAt) < now ? "expired" : "pending";
}

async function view(db: Database, rows: ClusterRow[]): Promise<ClusterView[]> {
  const ids = rows.map((r) => r.id);
  const served = ids.length
    ? await db
        .select({ id: tenants.id, name: tenants.name, slug: tenants.slug, clusterId: tenants.clusterId })
        .from(tenants)
        .where(inArray(tenants.clusterId, ids))
        .all()
    : [];
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    tenantId: r.tenantId,
    registration: registrationOf(r),
    reportedName: r.reportedName,
    registeredAt: r.registeredAt,
    registrationExpiresAt: r.registeredAt ? null : r.registrationExpiresAt,
    desiredGeneration: r.desiredGeneration,
    tenants: served.filter((t) => t.clusterId === r.id).map(({ id, name, slug }) => ({ id, name, slug })),
    createdAt: r.createdAt,
  }));
}

/**
 * A new cluster and its registration token (returned once; only its hash is kept). A tenant's own
 * cluster serves that tenant at once; a platform cluster serves the tenants named in `tenantIds`.
 */
export async function createCluster(
  db: Database,
  input: { name: string; tenantId: string | null; tenantIds?: string[]; createdBy: string | null },
): Promise<{ cluster: ClusterView; registrationToken: string }> {
  const serve = input.tenantId ? [input.tenantId] : [...new Set(input.tenantIds ?? [])];
  if (!input.tenantId && serve.length) {
    const found = await db.select({ id: tenants.id }).from(tenants).where(inArray(tenants.id, serve)).all();
    const missing = serve.filter((id) => !found.some((f) => f.id === id));
    if (missing.length)
      throw validationFailed(
        Object.fromEntries(missing.map((id) => [`tenantIds.${serve.indexOf(id)}`, [`no tenant ${id}`]])),
      );
  }
  const registrationToken = `aegis_crt_${randomToken(40)}`;
  const id = newId("cls");
  const expires = new Date(Date.now() + REGISTRATION_TTL_MS).toISOString();
  await db.batch([
    db.insert(clusters).values({
      id,
      name: input.name,
      tenantId: input.tenantId,
      registrationTokenHash: await sha256Hex(registrationToken),
      registrationExpiresAt: expires,
      createdBy: input.createdBy,
    }),
    ...(serve.length ? [db.update(tenants).set({ clusterId: id }).where(inArray(tenants.id, serve))] : []),
  ]);
  const row = await db.select().from(clusters).where(eq(clusters.id, id)).get();
  if (!row) throw notFound("Cluster");
  const [cluster] = await view(db, [row]);
  if (!cluster) throw notFound("Cluster");
  return { cluster, registrationToken };
}

/** Clusters visible to an operator (all) or to a tenant (its own, and the platform cluster serving it). */
export async function listClusters(db: Database, scope: { tenantId: string } | { operator: true }) {
  const rows =
    "tenantId" in scope
      ? await db
          .select({ c: clusters })
          .from(clusters)
          .leftJoin(tenants, eq(tenants.clusterId, clusters.id))
          .where(or(eq(clusters.tenantId, scope.tenantId), eq(tenants.id, scope.tenantId)))
          .all()
      : (await db.select().from(clusters).all()).map((c) => ({ c }));
  const unique = [...new Map(rows.map(({ c }) => [c.id, c])).values()];
  return view(db, unique);
}

export async function getCluster(db: Database, id: string, scope: { tenantId: string } | { operator: true }) {
  const [cluster] = (await listClusters(db, scope)).filter((c) => c.id === id);
  if (!cluster) throw notFound("Cluster");
  return cluster;
}

/**
 * Exchanges a registration token for the cluster's credential, once. Any token that is unknown, used
 * or expired is the same 401, so nothing tells an attacker which it was.
 */
export async function registerCluster(
  db: Database,
  token: string,
  reportedName: string,
): Promise<{ clusterId: string; credential: string }> {
  const refused = () =>
    new AppError(401, "invalid_registration_token", "The registration token is not valid");
  const hash = await sha256Hex(token);
  const row = await db.select().from(clusters).where(eq(clusters.registrationTokenHash, hash)).get();
  if (!row || row.registeredAt) throw refused();
  if (row.registrationExpiresAt && Date.parse(row.registrationExpiresAt) < Date.now()) throw refused();
  const credential = `aegis_cc_${randomToken(44)}`;
  // Clearing the hash in the same statement that checks it: two racing registrations cannot both win.
  const res = await db
    .update(clusters)
    .set({
      registrationTokenHash: null,
      registeredAt: new Date().toISOString(),
      reportedName,
      credentialHash: await sha256Hex(credential),
    })
    .where(
      and(eq(clusters.id, row.id), eq(clusters.registrationTokenHash, hash), isNull(clusters.registeredAt)),
    )
    .run();
  if (res.meta.changes !== 1) throw refused();
  return { clusterId: row.id, credential };
}

/** The cluster a controller credential belongs to, or null. */
export async function clusterByCredential(db: Database, credential: string): Promise<ClusterRow | null> {
  if (!credential.startsWith("aegis_cc_")) return null;
  const row = await db
    .select()
    .from(clusters)
    .where(eq(clusters.credentialHash, await sha256Hex(credential)))
    .get();
  return row ?? null;
}

/**
 * A fresh runtime credential for an agent this cluster runs (the controller keeps it in a Secret).
 * Asking again rotates it: the previous one stops working.
 */
export async function issueRuntimeCredential(
  db: Database,
  clusterId: string,
  agentId: string,
): Promise<{ agentId: string; credential: string; version: number; tenantId: string }> {
  const row = await db
    .select({ agent: agents, tenant: tenants })
    .from(agents)
    .innerJoin(tenants, eq(tenants.id, agents.tenantId))
    .where(eq(agents.id, agentId))
    .get();
  // An agent of a tenant this cluster does not serve is as unknown as a missing one.
  if (!row || row.tenant.clusterId !== clusterId || row.agent.status === "deleted") throw notFound("Agent");
  const credential = `agk_${randomToken(44)}`;
  const previous = await db
    .select()
    .from(agentRuntimeCredentials)
    .where(eq(agentRuntimeCredentials.agentId, agentId))
    .get();
  const version = (previous?.version ?? 0) + 1;
  const values = {
    agentId,
    clusterId,
    credentialHash: await sha256Hex(credential),
    version,
    issuedAt: new Date().toISOString(),
  };
  await db
    .insert(agentRuntimeCredentials)
    .values(values)
    .onConflictDoUpdate({ target: agentRuntimeCredentials.agentId, set: values })
    .run();
  return { agentId, credential, version, tenantId: row.agent.tenantId };
}

/** Whether `credential` is the agent's current runtime credential (checked by `POST /v1/auth/token`). */
export async function runtimeCredentialMatches(db: Database, agentId: string, credential: string) {
  const row = await db
    .select()
    .from(agentRuntimeCredentials)
    .where(eq(agentRuntimeCredentials.agentId, agentId))
    .get();
  if (!row) return false;
  const served = await db
    .select({ clusterId: tenants.clusterId })
    .from(agents)
    .innerJoin(tenants, eq(tenants.id, agents.tenantId))
    .where(eq(agents.id, agentId))
    .get();
  // A credential issued to a cluster that no longer serves the tenant no longer works.
  return (
    served?.clusterId === row.clusterId && timingSafeEqual(row.credentialHash, await sha256Hex(credential))
  );
}
