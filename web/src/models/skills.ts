import { api } from "../api";
import type { InstalledSkill, ListOf, Skill } from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

export const catalogue = resource((signal) =>
  api.get<ListOf<Skill>>("/api/dashboard/skills", undefined, signal),
);

export const installedSkills = resource((signal, agentId: string) =>
  api.get<ListOf<InstalledSkill>>("/api/dashboard/skills/installed", { agentId }, signal),
);

const skillUrl = (agentId: string, skillId: string) =>
  `/api/dashboard/agents/${encodeURIComponent(agentId)}/skills/${encodeURIComponent(skillId)}`;

export async function installSkill(agentId: string, skillId: string): Promise<void> {
  await api.post<unknown>(`${skillUrl(agentId, skillId)}/install`, {});
  await installedSkills.load(agentId);
}

export async function uninstallSkill(agentId: string, skillId: string): Promise<void> {
  await api.post<void>(`${skillUrl(agentId, skillId)}/uninstall`, {});
  await installedSkills.load(agentId);
}

onSessionReset(() => {
  catalogue.reset();
  installedSkills.reset();
});
