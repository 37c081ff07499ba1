import { and, eq, inArray, isNull, ne, or } from "drizzle-orm";
import { skillManifestSchema } from "../../../sdk/skill-sdk/src/index";
import type { Database } from "../../db/client";
import { agentSkills, skills, skillVersions } from "../../db/schema";
import { AppError, notFound, ScopedNotFound, validationFailed } from "../../lib/errors";
import { assertAgentInTenant } from "../agents/service";
import { permissionSummary } from "./catalog";
import { assertInstallable } from "./registry";

type SkillRow = typeof skills.$inferSelect;

/** Core and public skills, plus the tenant's own private ones. */
const visibleTo = (tenantId: string) => or(isNull(skills.tenantId), eq(skills.tenantId, tenantId));

export async function listCatalog(db: Database, tenantId: string) {
  const rows = await db
    .select({ skill: skills, manifest: skillVersions.manifest })
    .from(skills)
    .leftJoin(
      skillVersions,
      and(eq(skillVersions.skillId, skills.id), eq(skillVersions.version, skills.latestVersion)),
    )
    // A private skill is listed at its latest approved version, and not before one is approved.
    .where(
      and(visibleTo(tenantId), or(ne(skills.visibility, "private"), eq(skillVersions.status, "approved"))),
    )
    .orderBy(skills.isCore, skills.name)
    .all();
  return rows
    .map(({ skill, manifest }) => {
      const parsed = manifest ? skillManifestSchema.safeParse(JSON.parse(manifest)) : null;
      return {
        id: skill.id,
        name: skill.name,
        displayName: skill.displayName,
        description: skill.description,
        category: skill.category,
        visibility: skill.visibility as "core" | "public" | "private",
        isCore: skill.isCore,
        latestVersion: skill.latestVersion,
        permissions: parsed?.success ? permissionSummary(parsed.data) : [],
      };
    })
    .sort((a, b) => Number(b.isCore) - Number(a.isCore) || a.name.localeCompare(b.name));
}

/** Resolves skill ids or names requested at agent creation; unknown ones are a 400 naming the entry. */
export async function resolveSkillsForInstall(
  db: Database,
  tenantId: string,
  refs: string[],
): Promise<SkillRow[]> {
  if (refs.length === 0) return [];
  const rows = await db
    .select()
    .from(skills)
    .where(
      and(
        visibleTo(tenantId),
        // a private skill with no approved version yet cannot be installed
        ne(skills.latestVersion, ""),
        or(inArray(skills.id, refs), inArray(skills.name, refs)),
      ),
    )
    .all();
  const details: Record<string, string[]> = {};
  refs.forEach((ref, i) => {
    if (!rows.some((r) => r.id === ref || r.name === ref))
      details[`skills.${i}`] = [`Unknown skill '${ref}'`];
  });
  if (Object.keys(details).length) throw validationFailed(details);
  return rows;
}

export async function listInstalled(db: Database, tenantId: string, agentId?: string) {
  if (agentId) await assertAgentInTenant(db, tenantId, agentId);
  const rows = await db
    .select({ install: agentSkills, skill: skills })
    .from(agentSkills)
    .innerJoin(skills, eq(skills.id, agentSkills.skillId))
    .where(and(eq(agentSkills.tenantId, tenantId), agentId ? eq(agentSkills.agentId, agentId) : undefined))
    .orderBy(agentSkills.agentId, skills.name)
    .all();
  return rows.map(({ install, skill }) => ({
    agentId: install.agentId,
    skillId: skill.id,
    name: skill.name,
    displayName: skill.displayName,
    version: install.version,
    isCore: skill.isCore,
    installedAt: install.installedAt,
  }));
}

async function visibleSkill(db: Database, tenantId: string, skillId: string): Promise<SkillRow> {
  const skill = await db
    .select()
    .from(skills)
    .where(and(eq(skills.id, skillId), visibleTo(tenantId)))
    .get();
  if (!skill) throw new ScopedNotFound("Skill", "skills", skillId);
  return skill;
}

export async function installSkill(
  db: Database,
  tenantId: string,
  agentId: string,
  skillId: string,
  version: string | undefined,
  installedBy: string | null,
) {
  await assertAgentInTenant(db, tenantId, agentId);
  const skill = await visibleSkill(db, tenantId, skillId);
  const wanted = version ?? skill.latestVersion;
  if (!wanted) throw new AppError(409, "version_not_approved", `'${skill.name}' has no approved version yet`);
  const v = await db
    .select()
    .from(skillVersions)
    .where(and(eq(skillVersions.skillId, skill.id), eq(skillVersions.version, wanted)))
    .get();
  if (!v) throw notFound(`Version ${wanted} of skill '${skill.name}'`);
  // 409 version_deprecated / version_not_approved; an older approved version may be pinned.
  assertInstallable(skill.name, v);
  const res = await db
    .insert(agentSkills)
    .values({ agentId, skillId: skill.id, tenantId, version: wanted, installedBy })
    .onConflictDoNothing()
    .run();
  if (res.meta.changes !== 1) {
    throw new AppError(409, "already_installed", `'${skill.displayName}' is already installed on this agent`);
  }
  const [installed] = await listInstalled(db, tenantId, agentId).then((all) =>
    all.filter((i) => i.skillId === skill.id),
  );
  if (!installed) throw new Error("install vanished");
  return installed;
}

export async function uninstallSkill(db: Database, tenantId: string, agentId: string, skillId: string) {
  await assertAgentInTenant(db, tenantId, agentId);
  const skill = await visibleSkill(db, tenantId, skillId);
  if (skill.isCore) {
    throw new AppError(
      409,
      "skill_not_removable",
      `'${skill.displayName}' is a core skill and cannot be uninstalled`,
    );
  }
  const res = await db
    .delete(agentSkills)
    .where(
      and(
        eq(agentSkills.agentId, agentId),
        eq(agentSkills.skillId, skill.id),
        eq(agentSkills.tenantId, tenantId),
      ),
    )
    .run();
  if (res.meta.changes !== 1) throw notFound("Installed skill");
  return skill;
}
