import { mailboxName } from "../../durable-objects/agent-mailbox";

/** Durable Objects are addressed only by ids derived from an authenticated principal's tenant. */
export function hubStub(env: Env, tenantId: string) {
  return env.TENANT_HUB.get(env.TENANT_HUB.idFromName(tenantId));
}

export function mailboxStub(env: Env, tenantId: string, agentId: string) {
  return env.AGENT_MAILBOX.get(env.AGENT_MAILBOX.idFromName(mailboxName(tenantId, agentId)));
}

/** A cluster's hub, addressed by the cluster id (from a verified controller credential or D1). */
export function clusterStub(env: Env, clusterId: string) {
  return env.CLUSTER_HUB.get(env.CLUSTER_HUB.idFromName(clusterId));
}
