import { DurableObject } from "cloudflare:workers";

export interface TenantHubInit {
  tenantId: string;
  slug: string;
  planTier: string;
}

export type TenantHubState = {
  tenantId: string;
  slug: string;
  planTier: string;
  initializedAt: string;
  allowlistVersion: number;
};

/**
 * One per tenant: the truth for the tenant's allowlist graph and its real-time feed.
 * The messaging issue adds the graph, feed fan-out and the message log on these tables.
 */
export class TenantHub extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        tenant_id TEXT NOT NULL, slug TEXT NOT NULL, plan_tier TEXT NOT NULL,
        initialized_at TEXT NOT NULL, allowlist_version INTEGER NOT NULL DEFAULT 0)`);
    });
  }

  /** Idempotent: a second call with the same tenant keeps the first initialisation time. */
  async initialize(
    init: TenantHubInit,
  ): Promise<{ ok: true; state: TenantHubState } | { ok: false; code: string }> {
    const existing = this.state();
    if (existing && existing.tenantId !== init.tenantId) return { ok: false, code: "tenant_mismatch" };
    this.ctx.storage.sql.exec(
      `INSERT INTO meta (id, tenant_id, slug, plan_tier, initialized_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET slug = excluded.slug, plan_tier = excluded.plan_tier`,
      init.tenantId,
      init.slug,
      init.planTier,
      new Date().toISOString(),
    );
    const state = this.state();
    if (!state) return { ok: false, code: "not_initialized" };
    return { ok: true, state };
  }

  async describe(): Promise<TenantHubState | null> {
    return this.state();
  }

  private state(): TenantHubState | null {
    const row = this.ctx.storage.sql
      .exec<{
        tenant_id: string;
        slug: string;
        plan_tier: string;
        initialized_at: string;
        allowlist_version: number;
      }>("SELECT tenant_id, slug, plan_tier, initialized_at, allowlist_version FROM meta WHERE id = 1")
      .toArray()[0];
    if (!row) return null;
    return {
      tenantId: row.tenant_id,
      slug: row.slug,
      planTier: row.plan_tier,
      initializedAt: row.initialized_at,
      allowlistVersion: row.allowlist_version,
    };
  }
}
