import { computed, signal } from "@preact/signals";
import { api } from "../api";
import type {
  Agent,
  AgentOptions,
  CreateAgentInput,
  CreateAgentResponse,
  ModelTier,
  Page,
  PricingPreview,
  TenantStats,
  ThinkingMode,
} from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

export const AGENT_PAGE_SIZE = 25;

export const tenantStats = resource((signal) =>
  api.get<TenantStats>("/api/dashboard/stats", undefined, signal),
);

export const agentPage = signal(1);
export const agentList = resource((signal, page: number) =>
  api.get<Page<Agent>>("/api/dashboard/agents", { page, limit: AGENT_PAGE_SIZE }, signal),
);
export function loadAgents(): Promise<void> {
  return agentList.load(agentPage.value);
}

/**
 * Every agent of the tenant (up to 100), for showing names instead of ids and for agent pickers.
 * Pages call `loadAgentDirectory()` on mount; the last list stays visible while it refreshes.
 */
export const agentDirectory = resource(async (signal) => {
  const page = await api.get<Page<Agent>>("/api/dashboard/agents", { page: 1, limit: 100 }, signal);
  return [...page.data].sort((a, b) => a.name.localeCompare(b.name));
});
export function loadAgentDirectory(): Promise<void> {
  return agentDirectory.load();
}
export const agentsById = computed(() => new Map((agentDirectory.data.value ?? []).map((a) => [a.id, a])));
/** The agent's name, or its id when it is unknown (deleted, or beyond the first 100). */
export function agentName(id: string): string {
  return agentsById.value.get(id)?.name ?? id;
}

export const agentOptions = resource((signal) =>
  api.get<AgentOptions>("/api/dashboard/agents/options", undefined, signal),
);

/** The preview remembers what it was asked for, so a stale answer is never shown for a new choice. */
export const pricingPreview = resource(async (signal, modelTier: ModelTier, thinkingMode: ThinkingMode) => {
  const preview = await api.get<PricingPreview>(
    "/api/dashboard/agents/pricing-preview",
    { modelTier, thinkingMode },
    signal,
  );
  return { modelTier, thinkingMode, preview };
});

export function createAgent(input: CreateAgentInput): Promise<CreateAgentResponse> {
  return api.post<CreateAgentResponse>("/api/dashboard/agents", input);
}

const agentUrl = (id: string) => `/api/dashboard/agents/${encodeURIComponent(id)}`;

export const agentDetail = resource(async (signal, id: string) => {
  const { agent } = await api.get<{ agent: Agent }>(agentUrl(id), undefined, signal);
  return agent;
});

export type AgentAction = "pause" | "resume" | "restart";

export async function agentAction(id: string, action: AgentAction): Promise<Agent> {
  const { agent } = await api.post<{ agent: Agent }>(`${agentUrl(id)}/actions/${action}`);
  if (agentDetail.data.value?.id === id) agentDetail.set(agent);
  return agent;
}

export async function deleteAgent(id: string): Promise<void> {
  await api.del(agentUrl(id));
  if (agentDetail.data.value?.id === id) agentDetail.reset();
  const page = agentList.data.value;
  if (page) {
    const data = page.data.filter((a) => a.id !== id);
    agentList.set({
      data,
      meta: { ...page.meta, total: page.meta.total - (page.data.length - data.length) },
    });
  }
}

onSessionReset(() => {
  tenantStats.reset();
  agentList.reset();
  agentOptions.reset();
  pricingPreview.reset();
  agentDetail.reset();
  agentDirectory.reset();
  agentPage.value = 1;
});
