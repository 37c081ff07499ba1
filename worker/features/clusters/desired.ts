// The desired state of a cluster: what its controller should be running, computed from D1. It is
// driver-neutral (the controller's kubernetes driver turns it into Namespaces, Deployments, Secrets and
// NetworkPolicies; its local driver into processes), versioned by a generation that moves only when the
// content changes, and pushed by the cluster's ClusterHub.
import { and, desc, eq, inArray, ne } from "drizzle-orm";
import type { Database } from "../../db/client";
import {
  agentRuntimeCredentials,
  agentSkills,
  agents,
  clusters,
  configVersions,
  skills,
  skillVersions,
  tenants,
} from "../../db/schema";
import { sha256Hex } from "../../lib/crypto";
import type { DesiredResource, DesiredSkill, DesiredState } from "./protocol";

export type { DesiredAgent, DesiredResource, DesiredSkill, DesiredState, DesiredTenant } from "./protocol";

/** The resources of every tenant the cluster serves, in a stable order (so equal content hashes equal). */
export async function desiredResources(db: Database, clusterId: string): Promise<DesiredResource[]> {
  const served = await db
    .select()
    .from(tenants)
    .where(and(eq(tenants.clusterId, clusterId), ne(tenants.status, "failed")))
    .orderBy(tenants.id)
    .all();
  if (served.length === 0) return [];
  const tenantIds = served.map((t) => t.id);
  const [agentRows, installs, configs, credentials] = await Promise.all([
    db
      .select()
      .from(agents)
      .where(and(inArray(agents.tenantId, tenantIds), ne(agents.status, "deleted")))
      .orderBy(agents.id)
      .all(),
    db
      .select({ install: agentSkills, skill: skills, version: skillVersions })
      .from(agentSkills)
      .innerJoin(skills, eq(skills.id, agentSkills.skillId))
      .innerJoin(
        skillVersions,
        and(eq(skillVersions.skillId, agentSkills.skillId), eq(skillVersions.version, agentSkills.version)),
      )
      .where(inArray(agentSkills.tenantId, tenantIds))
      .orderBy(agentSkills.agentId, skills.name)
      .all(),
    db
      .select({ tenantId: configVersions.tenantId, version: configVersions.version })
      .from(configVersions)
      .where(inArray(configVersions.tenantId, tenantIds))
      .orderBy(desc(configVersions.version))
      .all(),
    db
      .select({ agentId: agentRuntimeCredentials.agentId, version: agentRuntimeCredentials.version })
      .from(agentRuntimeCredentials)
      .where(eq(agentRuntimeCredentials.clusterId, clusterId))
      .all(),
  ]);
  const out: DesiredResource[] = [];
  for (const t of served) {
    out.push({
      kind: "tenant",
      tenantId: t.id,
      slug: t.slug,
      namespace: `aegis-${t.slug}`,
      egressMode: t.egressMode === "log-only" ? "log-only" : "enforce",
      configVersion: configs.find((c) => c.tenantId === t.id)?.version ?? 0,
    });
  }
  for (const a of agentRows) {
    const mine = installs
      .filter((i) => i.install.agentId === a.id)
      .map(({ skill, version }): DesiredSkill => {
        const manifest = JSON.parse(version.manifest) as {
          permissions?: { network?: { allowedDomains?: string[] } };
        };
        return {
          skillId: skill.id,
          name: skill.name,
          version: version.version,
          sha256: version.sha256,
          allowedDomains: [...(manifest.permissions?.network?.allowedDomains ?? [])].sort(),
        };
      });
    out.push({
      kind: "agent",
      tenantId: a.tenantId,
      agentId: a.id,
      name: a.name,
      state: a.status === "active" ? "running" : "stopped",
      modelTier: a.modelTier,
      thinkingMode: a.thinkingMode,
      skills: mine,
      allowedDomains: [...new Set(mine.flatMap((s) => s.allowedDomains))].sort(),
      credentialVersion: credentials.find((c) => c.agentId === a.id)?.version ?? 0,
    });
  }
  return out;
}

/**
 * The cluster's current desired state. When its content differs from the last one computed, the
 * generation moves up by one (compare-and-set on the stored hash, so two racing computations of the
 * same content move it once).
 */
export async function refreshDesiredState(
  db: Database,
  clusterId: string,
): Promise<{ state: DesiredState; changed: boolean } | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const cluster = await db.select().from(clusters).where(eq(clusters.id, clusterId)).get();
    if (!cluster) return null;
    const resources = await desiredResources(db, clusterId);
    const hash = await sha256Hex(JSON.stringify(resources));
    if (hash === cluster.desiredHash && cluster.desiredGeneration > 0) {
      return { state: { clusterId, generation: cluster.desiredGeneration, resources }, changed: false };
    }
    const generation = cluster.desiredGeneration + 1;
    const res = await db
      .update(clusters)
      .set({ desiredGeneration: generation, desiredHash: hash })
      .where(and(eq(clusters.id, clusterId), eq(clusters.desiredGeneration, cluster.desiredGeneration)))
      .run();
    if (res.meta.changes === 1) return { state: { clusterId, generation, resources }, changed: true };
    // Someone else moved the generation in between: compute again against theirs.
  }
  throw new Error(`desired state of ${clusterId}: the generation kept moving`);
}
