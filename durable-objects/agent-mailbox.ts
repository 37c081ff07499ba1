import { DurableObject } from "cloudflare:workers";

/**
 * One per agent: its hibernatable WebSocket and its inbox. The messaging issue builds delivery,
 * acks, redelivery and allowlist enforcement here; the class exists now so the binding and the
 * storage migration are in place from the first deploy.
 */
export class AgentMailbox extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS meta (
        id INTEGER PRIMARY KEY CHECK (id = 1), agent_id TEXT NOT NULL, tenant_id TEXT NOT NULL)`);
    });
  }

  async bind(agentId: string, tenantId: string): Promise<{ ok: true } | { ok: false; code: string }> {
    const row = this.ctx.storage.sql
      .exec<{ agent_id: string; tenant_id: string }>("SELECT agent_id, tenant_id FROM meta WHERE id = 1")
      .toArray()[0];
    if (row && (row.agent_id !== agentId || row.tenant_id !== tenantId))
      return { ok: false, code: "agent_mismatch" };
    if (!row)
      this.ctx.storage.sql.exec(
        "INSERT INTO meta (id, agent_id, tenant_id) VALUES (1, ?, ?)",
        agentId,
        tenantId,
      );
    return { ok: true };
  }
}
