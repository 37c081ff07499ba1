import { mailboxName } from "../../durable-objects/agent-mailbox";

/** Durable Objects are addressed only by ids derived from an authenticated principal's tenant. */
export function hubStub(env: Env, tenantId: string) {
  return env.TENANT_HUB.get(env.TENANT_HUB.idFromName(tenantId));
}

export function mailboxStub(env: Env, tenantId: string, agentId: string) {
  return env.AGENT_MAILBOX.get(env.AGENT_MAILBOX.idFromName(mailboxName(tenantId, agentId)));
}
