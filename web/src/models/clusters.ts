import { signal } from "@preact/signals";
import { api } from "../api";
import { slugify } from "../format";
import type { Agent, ListOf } from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

/** Mirrors the `Cluster` and `ClusterStatus` schemas in worker/features/clusters/routes.ts. */
export type ClusterRegistration = "pending" | "registered" | "expired";

export interface Cluster {
  id: string;
  name: string;
  /** Set for a tenant's own cluster; null for a platform cluster. */
  tenantId: string | null;
  registration: ClusterRegistration;
  /** The name the controller gave when it registered (its host name unless told otherwise). */
  reportedName: string | null;
  registeredAt: string | null;
  registrationExpiresAt: string | null;
  desiredGeneration: number;
  /** The tenants whose agents it runs (a tenant sees only itself here). */
  tenants: Array<{ id: string; name: string; slug: string }>;
  createdAt: string;
}

export type AgentRuntimeStatus = "pending" | "running" | "crashloop" | "stopped";

export interface ClusterAgentStatus {
  agentId: string;
  tenantId: string | null;
  status: AgentRuntimeStatus | string;
  restarts: number;
  lastError: string | null;
  at: string;
}

export interface ClusterEgress {
  agentId: string;
  tenantId: string | null;
  domain: string;
  at: string;
  /** Log-only mode: the request went through, but enforcing would have blocked it. */
  wouldBlock: boolean;
}

export interface ClusterStatus {
  connected: boolean;
  connectedAt: string | null;
  lastSeenAt: string | null;
  desiredGeneration: number;
  appliedGeneration: number | null;
  appliedAt: string | null;
  rejected: { generation: number; reason: string; at: string } | null;
  agents: ClusterAgentStatus[];
  /** Resources the controller could not apply (empty for a tenant). */
  errors: Array<{ resource: string; message: string }>;
  /** Newest first. */
  egress: ClusterEgress[];
}

export type ClusterWithStatus = Cluster & { status: ClusterStatus };

export interface CreatedCluster {
  cluster: Cluster;
  /** Shown once: the controller exchanges it once for the cluster's credential. */
  registrationToken: string;
}

/** There is no feed event for clusters yet: open pages fetch the list again this often. */
export const CLUSTER_REFRESH_MS = 5000;

const TENANT = "/api/dashboard/clusters";
const ADMIN = "/api/admin/clusters";

// ---------------------------------------------------------------------------------------------------
// Tenant

export const clusters = resource((signal) => api.get<ListOf<ClusterWithStatus>>(TENANT, undefined, signal));

/** Registers the tenant's own cluster (tenant admins). The tenant's agents move to it. */
export async function registerCluster(name: string): Promise<CreatedCluster> {
  const res = await api.post<CreatedCluster>(TENANT, { name });
  await clusters.load();
  return res;
}

/** Where an agent runs: the cluster reporting it (a connected one first, then the latest report). */
export function clusterOfAgent(
  list: readonly ClusterWithStatus[],
  agentId: string,
): { cluster: ClusterWithStatus; agent: ClusterAgentStatus } | null {
  let best: { cluster: ClusterWithStatus; agent: ClusterAgentStatus } | null = null;
  for (const cluster of list) {
    const agent = cluster.status.agents.find((a) => a.agentId === agentId);
    if (!agent) continue;
    if (
      !best ||
      (cluster.status.connected && !best.cluster.status.connected) ||
      (cluster.status.connected === best.cluster.status.connected && agent.at > best.agent.at)
    )
      best = { cluster, agent };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Egress (tenant): mirrors the `EgressSettings` schema in worker/features/clusters/routes.ts

/** `enforce`: undeclared domains are refused. `log-only`: they go through and are reported. */
export type EgressMode = "enforce" | "log-only";

export interface EgressDomain {
  domain: string;
  /** Requests seen (among the reports the cluster keeps). */
  count: number;
  lastAt: string;
  /** True when at least one request was refused; false when all went through in log-only mode. */
  blocked: boolean;
}

/** Per agent, the domains it reached or was refused that none of its skills declare. */
export interface EgressSuggestion {
  agentId: string;
  /** Most requested first. */
  domains: EgressDomain[];
  /** What to add to a skill manifest if the traffic is wanted (domains sorted). */
  manifest: { network: { allowedDomains: string[] } };
}

export interface EgressSettings {
  mode: EgressMode;
  suggestions: EgressSuggestion[];
}

export const egressSettings = resource((signal) =>
  api.get<EgressSettings>(`${TENANT}/egress`, undefined, signal),
);

/** Switches the tenant's egress proxies (tenant admins). */
export async function setEgressMode(mode: EgressMode): Promise<EgressSettings> {
  const res = await api.put<EgressSettings>(`${TENANT}/egress`, { mode });
  egressSettings.set(res);
  // A refresh that left before the change would land after it with the old mode: fetch again, which
  // drops any such request in flight.
  void egressSettings.load();
  return res;
}

/** The snippet to paste into a skill manifest, as it is copied. */
export function manifestSnippet(s: EgressSuggestion): string {
  return JSON.stringify(s.manifest, null, 2);
}

// ---------------------------------------------------------------------------------------------------
// Operator

export const adminClusters = resource((signal) =>
  api.get<ListOf<ClusterWithStatus>>(ADMIN, undefined, signal),
);

/** Registers a platform cluster; the tenants named move their agents to it. */
export async function registerPlatformCluster(name: string, tenantIds: string[]): Promise<CreatedCluster> {
  const res = await api.post<CreatedCluster>(ADMIN, { name, tenantIds });
  await adminClusters.load();
  return res;
}

/**
 * Agent names for the operator's view, one tenant at a time: `/api/admin/tenants/:id/agents` is fetched
 * once per tenant per page visit; agents it does not know stay as ids.
 */
export const operatorAgentNames = signal<ReadonlyMap<string, string>>(new Map());
const namesFetched = new Set<string>();

export function ensureOperatorAgentNames(tenantIds: Iterable<string | null>): void {
  for (const id of tenantIds) {
    if (!id || namesFetched.has(id)) continue;
    namesFetched.add(id);
    api
      .get<ListOf<Agent>>(`/api/admin/tenants/${encodeURIComponent(id)}/agents`)
      .then((res) => {
        const next = new Map(operatorAgentNames.value);
        for (const a of res.data) next.set(a.id, a.name);
        operatorAgentNames.value = next;
      })
      .catch(() => {
        // Names are a nicety: the ids stay on screen.
      });
  }
}

export function forgetOperatorAgentNames(): void {
  namesFetched.clear();
}

// ---------------------------------------------------------------------------------------------------

/** Where the controller keeps its credential; one directory per cluster so two never clash. */
export function controllerStateDir(clusterName: string): string {
  return `.aegis-controller/${slugify(clusterName) || "cluster"}`;
}

/** The two commands that register the controller with the token and then run it with the local driver. */
export function controllerCommands(token: string, clusterName: string, origin: string): [string, string] {
  const dir = controllerStateDir(clusterName);
  const bin = "node controller/bin/aegis-controller.mjs";
  return [
    `${bin} register --url ${origin} --token ${token} --state-dir ${dir}`,
    `${bin} run --state-dir ${dir} --driver local`,
  ];
}

onSessionReset(() => {
  clusters.reset();
  egressSettings.reset();
  adminClusters.reset();
  operatorAgentNames.value = new Map();
  namesFetched.clear();
});
