import { describePermissions, type SkillManifest } from "../../../sdk/skill-sdk/src/index";
import { CATALOG_SKILLS, CORE_SKILLS } from "../../../sdk/skills/src/index";
import type { Database } from "../../db/client";
import { skills, skillVersions } from "../../db/schema";

export interface CatalogEntry {
  id: string;
  versionId: string;
  manifest: SkillManifest;
  isCore: boolean;
}

const entry = (manifest: SkillManifest, isCore: boolean): CatalogEntry => {
  const id = `skl_${isCore ? "core" : "pub"}_${manifest.name.replaceAll("-", "_")}`;
  return { id, versionId: `${id}_v${manifest.version.replaceAll(".", "_")}`, manifest, isCore };
};

/** The platform's built-in skills: the 10 core skills every agent has, and the public catalogue. */
export const BUILTIN_SKILLS: readonly CatalogEntry[] = [
  ...CORE_SKILLS.map((s) => entry(s.manifest, true)),
  ...CATALOG_SKILLS.map((s) => entry(s.manifest, false)),
];

export const CORE_SKILL_IDS: readonly string[] = BUILTIN_SKILLS.filter((s) => s.isCore).map((s) => s.id);

export function permissionSummary(manifest: SkillManifest): string[] {
  return describePermissions(manifest);
}

/** Writes the built-in skills and their approved versions; idempotent, so every deploy and job may call it. */
export async function ensureCatalog(db: Database): Promise<void> {
  const statements = BUILTIN_SKILLS.flatMap((s) => [
    db
      .insert(skills)
      .values({
        id: s.id,
        tenantId: null,
        name: s.manifest.name,
        displayName: s.manifest.displayName,
        description: s.manifest.description,
        category: s.manifest.category,
        visibility: s.isCore ? "core" : "public",
        isCore: s.isCore,
        latestVersion: s.manifest.version,
      })
      .onConflictDoUpdate({
        target: skills.id,
        set: {
          displayName: s.manifest.displayName,
          description: s.manifest.description,
          category: s.manifest.category,
          latestVersion: s.manifest.version,
        },
      }),
    db
      .insert(skillVersions)
      .values({
        id: s.versionId,
        skillId: s.id,
        version: s.manifest.version,
        manifest: JSON.stringify(s.manifest),
        status: "approved",
      })
      .onConflictDoNothing(),
  ]);
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}
