import { api } from "../api";
import type { ApiKey, ListOf, MemberRole } from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

const BASE = "/api/dashboard/settings/api-keys";

export const apiKeys = resource((signal) => api.get<ListOf<ApiKey>>(BASE, undefined, signal));

export async function createApiKey(name: string, role: MemberRole): Promise<{ apiKey: ApiKey; key: string }> {
  const res = await api.post<{ apiKey: ApiKey; key: string }>(BASE, { name, role });
  await apiKeys.load();
  return res;
}

export async function revokeApiKey(id: string): Promise<void> {
  await api.del(`${BASE}/${encodeURIComponent(id)}`);
  await apiKeys.load();
}

onSessionReset(() => apiKeys.reset());
