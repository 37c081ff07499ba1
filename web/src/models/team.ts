import { api } from "../api";
import type { Invite, Member, MemberRole, TeamResponse } from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

export const team = resource((signal) => api.get<TeamResponse>("/api/dashboard/team", undefined, signal));

export interface InviteInput {
  email: string;
  name?: string;
  role: MemberRole;
}

export async function inviteMember(input: InviteInput): Promise<{ invite: Invite; inviteUrl: string }> {
  const res = await api.post<{ invite: Invite; inviteUrl: string }>("/api/dashboard/team/invites", input);
  await team.load();
  return res;
}

export async function revokeInvite(id: string): Promise<void> {
  await api.del(`/api/dashboard/team/invites/${encodeURIComponent(id)}`);
  await team.load();
}

export async function changeMemberRole(id: string, role: MemberRole): Promise<Member> {
  const { member } = await api.patch<{ member: Member }>(
    `/api/dashboard/team/members/${encodeURIComponent(id)}`,
    {
      role,
    },
  );
  await team.load();
  return member;
}

export async function removeMember(id: string): Promise<void> {
  await api.del(`/api/dashboard/team/members/${encodeURIComponent(id)}`);
  await team.load();
}

onSessionReset(() => team.reset());
