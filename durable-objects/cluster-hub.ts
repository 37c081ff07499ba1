import { DurableObject } from "cloudflare:workers";
import { buildAuditEvent, enqueueAudit } from "../worker/features/audit/record";
import {
  controllerFrameSchema,
  type DesiredResource,
  type DesiredState,
} from "../worker/features/clusters/protocol";

export { type ControllerFrame, controllerFrameSchema } from "../worker/features/clusters/protocol";

export interface ClusterStatus {
  connected: boolean;
  connectedAt: string | null;
  lastSeenAt: string | null;
  desiredGeneration: number;
  appliedGeneration: number | null;
  appliedAt: string | null;
  /** The controller refused the latest desired state (schema), with its reason. */
  rejected: { generation: number; reason: string; at: string } | null;
  agents: Array<{
    agentId: string;
    tenantId: string | null;
    status: string;
    restarts: number;
    lastError: string | null;
    at: string;
  }>;
  errors: Array<{ resource: string; message: string }>;
  egress: Array<{
    agentId: string;
    tenantId: string | null;
    domain: string;
    at: string;
    wouldBlock: boolean;
  }>;
}

const KEEP_EGRESS = 500;
/** Closed by the platform when a newer connection of the same cluster replaces it. */
export const CLOSE_REPLACED = 4000;

/**
 * One per cluster: holds the controller's socket (hibernatable), the latest desired state it must
 * see, and what the controller reported (applied generation, per-agent runtime status, blocked
 * egress). Storage is the truth: a restart loses nothing, and the latest state is sent again on every
 * (re)connect, which is what makes the controller level-triggered.
 */
export class ClusterHub extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS state (
        id INTEGER PRIMARY KEY CHECK (id = 1), cluster_id TEXT NOT NULL, generation INTEGER NOT NULL,
        desired TEXT NOT NULL, applied_generation INTEGER, applied_at TEXT, connected_at TEXT, last_seen_at TEXT,
        rejected TEXT, errors TEXT)`);
      sql.exec(`CREATE TABLE IF NOT EXISTS agent_status (
        agent_id TEXT PRIMARY KEY, tenant_id TEXT, status TEXT NOT NULL, restarts INTEGER NOT NULL,
        last_error TEXT, at TEXT NOT NULL)`);
      sql.exec(`CREATE TABLE IF NOT EXISTS egress (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL, tenant_id TEXT, domain TEXT NOT NULL,
        at TEXT NOT NULL, would_block INTEGER NOT NULL)`);
    });
  }

  private row() {
    return this.ctx.storage.sql
      .exec<{
        cluster_id: string;
        generation: number;
        desired: string;
        applied_generation: number | null;
        applied_at: string | null;
        connected_at: string | null;
        last_seen_at: string | null;
        rejected: string | null;
        errors: string | null;
      }>("SELECT * FROM state WHERE id = 1")
      .toArray()[0];
  }

  /**
   * Stores a desired state if it is newer than the one held and sends it to the connected controller.
   * Older or equal generations are ignored, so racing pushes cannot go backwards.
   */
  async setDesired(state: DesiredState): Promise<{ stored: boolean; sentTo: number }> {
    const current = this.row();
    if (current && current.generation >= state.generation) return { stored: false, sentTo: 0 };
    this.ctx.storage.sql.exec(
      `INSERT INTO state (id, cluster_id, generation, desired) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, desired = excluded.desired`,
      state.clusterId,
      state.generation,
      JSON.stringify(state.resources),
    );
    return { stored: true, sentTo: this.sendDesired() };
  }

  private sendDesired(only?: WebSocket): number {
    const row = this.row();
    if (!row) return 0;
    const frame = JSON.stringify({
      op: "desired_state",
      generation: row.generation,
      resources: JSON.parse(row.desired) as DesiredResource[],
    });
    let sent = 0;
    for (const ws of only ? [only] : this.ctx.getWebSockets()) {
      try {
        ws.send(frame);
        sent++;
      } catch {
        // closed under us; it gets the state again when it reconnects
      }
    }
    return sent;
  }

  /** The controller's socket (the Worker has checked its credential and refreshed the desired state). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    // One controller per cluster: a new connection replaces the old one.
    for (const old of this.ctx.getWebSockets()) old.close(CLOSE_REPLACED, "replaced by a newer connection");
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const now = new Date().toISOString();
    this.ctx.storage.sql.exec("UPDATE state SET connected_at = ?, last_seen_at = ? WHERE id = 1", now, now);
    this.sendDesired(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      ws.send(JSON.stringify({ op: "error", code: "invalid_frame", message: "Frames are JSON objects" }));
      return;
    }
    const parsed = controllerFrameSchema.safeParse(raw);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.join(".") || "(root)").slice(0, 10);
      ws.send(
        JSON.stringify({
          op: "error",
          code: "invalid_frame",
          message: `Invalid frame: ${fields.join(", ")}`,
        }),
      );
      return;
    }
    const frame = parsed.data;
    const sql = this.ctx.storage.sql;
    const now = new Date().toISOString();
    sql.exec("UPDATE state SET last_seen_at = ? WHERE id = 1", now);
    switch (frame.op) {
      case "ping":
        ws.send(JSON.stringify({ op: "pong" }));
        return;
      case "applied":
        sql.exec(
          `UPDATE state SET applied_generation = ?, applied_at = ?,
             rejected = CASE WHEN ? >= generation THEN NULL ELSE rejected END WHERE id = 1`,
          frame.generation,
          now,
          frame.generation,
        );
        return;
      case "rejected":
        sql.exec(
          "UPDATE state SET rejected = ? WHERE id = 1",
          JSON.stringify({ generation: frame.generation, reason: frame.reason, at: now }),
        );
        await this.audit("cluster.desired_state_rejected", null, {
          severity: "high",
          details: { generation: frame.generation, reason: frame.reason },
        });
        return;
      case "status": {
        const tenants = this.tenantsOfAgents();
        // A status frame lists every agent the driver runs: what it no longer lists is gone.
        sql.exec("DELETE FROM agent_status");
        for (const a of frame.agents) {
          sql.exec(
            `INSERT INTO agent_status (agent_id, tenant_id, status, restarts, last_error, at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (agent_id) DO UPDATE SET tenant_id = excluded.tenant_id, status = excluded.status,
               restarts = excluded.restarts, last_error = excluded.last_error, at = excluded.at`,
            a.agentId,
            tenants.get(a.agentId) ?? null,
            a.status,
            a.restarts,
            a.lastError ?? null,
            now,
          );
        }
        sql.exec("UPDATE state SET errors = ? WHERE id = 1", JSON.stringify(frame.errors ?? []));
        return;
      }
      case "egress_blocked": {
        const tenantId = this.tenantsOfAgents().get(frame.agentId) ?? null;
        // Only agents this cluster runs: a report about anything else is not recorded.
        if (!tenantId) return;
        sql.exec(
          "INSERT INTO egress (agent_id, tenant_id, domain, at, would_block) VALUES (?, ?, ?, ?, ?)",
          frame.agentId,
          tenantId,
          frame.domain.toLowerCase(),
          frame.at,
          frame.wouldBlock ? 1 : 0,
        );
        sql.exec("DELETE FROM egress WHERE seq <= (SELECT MAX(seq) FROM egress) - ?", KEEP_EGRESS);
        await this.audit(frame.wouldBlock ? "egress.would_block" : "egress.blocked", tenantId, {
          severity: frame.wouldBlock ? "low" : "medium",
          actor: { type: "agent", id: frame.agentId, name: frame.agentId },
          target: { type: "domain", id: frame.domain.toLowerCase() },
          details: {
            domain: frame.domain.toLowerCase(),
            at: frame.at,
            mode: frame.wouldBlock ? "log-only" : "enforce",
          },
        });
        return;
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, "closed");
    } catch {
      // already closed
    }
  }

  /** agentId → tenantId, from the desired state the cluster holds. */
  private tenantsOfAgents(): Map<string, string> {
    const row = this.row();
    const out = new Map<string, string>();
    if (!row) return out;
    for (const r of JSON.parse(row.desired) as DesiredResource[])
      if (r.kind === "agent") out.set(r.agentId, r.tenantId);
    return out;
  }

  private async audit(
    action: string,
    tenantId: string | null,
    extra: Pick<Parameters<typeof buildAuditEvent>[0], "severity" | "details" | "actor" | "target">,
  ) {
    const clusterId = this.row()?.cluster_id ?? null;
    await enqueueAudit(this.env, [
      buildAuditEvent({
        action,
        tenantId,
        actor: extra.actor ?? { type: "system", id: clusterId, name: "cluster-controller" },
        target: extra.target ?? { type: "cluster", id: clusterId ?? "" },
        severity: extra.severity,
        details: { clusterId, ...(extra.details as Record<string, unknown>) },
      }),
    ]);
  }

  async status(): Promise<ClusterStatus> {
    const row = this.row();
    const sql = this.ctx.storage.sql;
    return {
      connected: this.ctx.getWebSockets().length > 0,
      connectedAt: row?.connected_at ?? null,
      lastSeenAt: row?.last_seen_at ?? null,
      desiredGeneration: row?.generation ?? 0,
      appliedGeneration: row?.applied_generation ?? null,
      appliedAt: row?.applied_at ?? null,
      rejected: row?.rejected ? JSON.parse(row.rejected) : null,
      agents: sql
        .exec<{
          agent_id: string;
          tenant_id: string | null;
          status: string;
          restarts: number;
          last_error: string | null;
          at: string;
        }>("SELECT * FROM agent_status ORDER BY agent_id")
        .toArray()
        .map((a) => ({
          agentId: a.agent_id,
          tenantId: a.tenant_id,
          status: a.status,
          restarts: a.restarts,
          lastError: a.last_error,
          at: a.at,
        })),
      errors: row?.errors ? JSON.parse(row.errors) : [],
      egress: sql
        .exec<{
          agent_id: string;
          tenant_id: string | null;
          domain: string;
          at: string;
          would_block: number;
        }>("SELECT * FROM egress ORDER BY seq DESC LIMIT 200")
        .toArray()
        .map((e) => ({
          agentId: e.agent_id,
          tenantId: e.tenant_id,
          domain: e.domain,
          at: e.at,
          wouldBlock: e.would_block === 1,
        })),
    };
  }
}
