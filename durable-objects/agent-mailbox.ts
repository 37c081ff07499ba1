import { DurableObject } from "cloudflare:workers";
import { type Admission, admitModelCall, type BillingProfile } from "../worker/features/billing/profile";
import { defaultTenantConfig, tenantConfigSchema } from "../worker/features/config/schema";
import { issuesToDetails } from "../worker/lib/errors";
import { newId } from "../worker/lib/ids";
import type { ModelTier, ThinkingMode } from "../worker/lib/pricing";
import {
  agentFrameSchema,
  type DeliveryState,
  type MessageType,
  type PlatformFrame,
  type RejectReason,
  sendInputSchema,
} from "./protocol";
import type { HubEvent } from "./tenant-hub";

/** Frames larger than this are refused before parsing (a 64 KiB payload plus its envelope fits). */
const MAX_FRAME_BYTES = 80 * 1024;
/** Per-socket token bucket: a burst of this many frames, refilled at RATE_PER_SECOND. */
const BURST = 600;
const RATE_PER_SECOND = 300;
const DEFAULT_MAX_HOPS = 16;
const DEFAULT_MAX_REPEATS = 4;
const DEFAULT_TTL_SECONDS = 24 * 3600;
const HUB_BATCH = 200;
const HUB_FLUSH_DELAY_MS = 10;
/** Acknowledged and expired messages, and loop-guard counters, are kept this long. */
const INBOX_RETENTION_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 6 * 3600_000;
/** A billing profile older than this is reloaded from D1 by the gateway. */
const PROFILE_MAX_AGE_MS = 5 * 60_000;

type Status = "active" | "paused" | "deleted";

type Meta = {
  agent_id: string;
  tenant_id: string;
  status: Status;
  allowlist_version: number;
  config_version: number;
  config_json: string | null;
  applied_version: number | null;
  applied_at: string | null;
  max_hops: number;
  max_repeats: number;
  default_ttl: number;
  connected_at: string | null;
};

interface SocketAttachment {
  agentId: string;
  connectedAt: string;
}

export interface DeliveryRequest {
  id: string;
  from: string;
  to: string;
  type: MessageType;
  payload: unknown;
  correlationId: string;
  hop: number;
  sentAt: string;
  expiresAt: string;
  ttlSeconds: number;
}

export type SendResult =
  | { ok: true; id: string; status: DeliveryState; reason?: RejectReason; correlationId: string }
  | {
      ok: false;
      code: "invalid_message" | "agent_unavailable";
      message: string;
      details?: Record<string, string[]>;
    };

export interface MailboxIdentity {
  agentId: string;
  tenantId: string;
}

export interface MailboxDescription {
  bound: boolean;
  status: Status | null;
  connected: boolean;
  connectedAt: string | null;
  allowlistVersion: number;
  configVersion: number;
  appliedVersion: number | null;
  appliedAt: string | null;
  pending: number;
}

export function mailboxName(tenantId: string, agentId: string): string {
  return `${tenantId}:${agentId}`;
}

/**
 * One per agent: its hibernatable WebSocket, its inbox with per-message delivery state, and the
 * allowlist copy (pushed by TenantHub) it enforces for messages it sends and receives.
 * Storage is the truth; fields on `this` are caches that survive nothing.
 */
export class AgentMailbox extends DurableObject<Env> {
  private flushing: Promise<void> | null = null;
  /**
   * Outbox rows up to here reached the hub. Deleting them waits for the next write (the next queued
   * event, or the alarm), so a flush costs no storage commit of its own; after a restart they are
   * sent again, which the hub's idempotent ingest absorbs.
   */
  private outboxSentThrough = 0;
  private metaCache: Meta | null | undefined;
  private buckets = new WeakMap<WebSocket, { tokens: number; at: number }>();
  private allowCache: { out: Set<string>; in: Set<string> } | undefined;
  /** The armed alarm time as last seen; undefined = unknown (after a restart). A cache, never the truth. */
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = this.ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS mailbox_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1), agent_id TEXT NOT NULL, tenant_id TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active', allowlist_version INTEGER NOT NULL DEFAULT 0,
        config_version INTEGER NOT NULL DEFAULT 0, config_json TEXT, applied_version INTEGER, applied_at TEXT,
        max_hops INTEGER NOT NULL DEFAULT ${DEFAULT_MAX_HOPS}, max_repeats INTEGER NOT NULL DEFAULT ${DEFAULT_MAX_REPEATS},
        default_ttl INTEGER NOT NULL DEFAULT ${DEFAULT_TTL_SECONDS}, connected_at TEXT)`);
      sql.exec("CREATE TABLE IF NOT EXISTS allow_out (agent TEXT PRIMARY KEY)");
      sql.exec("CREATE TABLE IF NOT EXISTS allow_in (agent TEXT PRIMARY KEY)");
      sql.exec(`CREATE TABLE IF NOT EXISTS inbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, from_agent TEXT NOT NULL, type TEXT NOT NULL,
        payload TEXT NOT NULL, correlation_id TEXT NOT NULL, hop INTEGER NOT NULL, status TEXT NOT NULL,
        sent_at TEXT NOT NULL, expires_at TEXT NOT NULL, delivered_at TEXT, acked_at TEXT)`);
      sql.exec("CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (status, seq)");
      sql.exec("CREATE INDEX IF NOT EXISTS inbox_correlation ON inbox (correlation_id)");
      sql.exec(`CREATE TABLE IF NOT EXISTS chains (correlation_id TEXT NOT NULL, to_agent TEXT NOT NULL, type TEXT NOT NULL,
        count INTEGER NOT NULL, updated_at TEXT NOT NULL DEFAULT '', PRIMARY KEY (correlation_id, to_agent, type))`);
      // Storage written before updated_at existed gets the column (DO SQLite has no migration runner).
      const chainColumns = sql.exec<{ name: string }>("PRAGMA table_info(chains)").toArray();
      if (!chainColumns.some((c) => c.name === "updated_at")) {
        sql.exec("ALTER TABLE chains ADD COLUMN updated_at TEXT NOT NULL DEFAULT ''");
      }
      sql.exec(
        "CREATE TABLE IF NOT EXISTS hub_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL)",
      );
      sql.exec(`CREATE TABLE IF NOT EXISTS billing_profile (id INTEGER PRIMARY KEY CHECK (id = 1),
        profile TEXT NOT NULL, loaded_at INTEGER NOT NULL, last_call_at INTEGER)`);
    });
  }

  // ---- identity, allowlist and config (RPC from the Worker and TenantHub) ----

  /** Sockets that are open now; one that is closing no longer counts as a connected agent. */
  private openSockets(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** The identity and settings row, cached in memory; every write goes through writeMeta, which drops the cache. */
  private meta(): Meta | null {
    if (this.metaCache === undefined) {
      this.metaCache =
        this.ctx.storage.sql.exec<Meta>("SELECT * FROM mailbox_meta WHERE id = 1").toArray()[0] ?? null;
    }
    return this.metaCache;
  }

  private writeMeta(query: string, ...args: SqlStorageValue[]) {
    this.ctx.storage.sql.exec(query, ...args);
    this.metaCache = undefined;
  }

  /** The directed allowlist copy, cached as sets; applyAllowlist replaces both table and cache. */
  private allowed(direction: "out" | "in"): Set<string> {
    if (!this.allowCache) {
      const sql = this.ctx.storage.sql;
      this.allowCache = {
        out: new Set(
          sql
            .exec<{ agent: string }>("SELECT agent FROM allow_out")
            .toArray()
            .map((r) => r.agent),
        ),
        in: new Set(
          sql
            .exec<{ agent: string }>("SELECT agent FROM allow_in")
            .toArray()
            .map((r) => r.agent),
        ),
      };
    }
    return this.allowCache[direction];
  }

  /** Binds this object to its agent on first use; refuses to be rebound to another identity. */
  private bind(who: MailboxIdentity): Meta | null {
    const meta = this.meta();
    if (meta) return meta.agent_id === who.agentId && meta.tenant_id === who.tenantId ? meta : null;
    this.writeMeta(
      "INSERT INTO mailbox_meta (id, agent_id, tenant_id) VALUES (1, ?, ?)",
      who.agentId,
      who.tenantId,
    );
    return this.meta();
  }

  async applyAllowlist(
    who: MailboxIdentity,
    version: number,
    outgoing: string[],
    incoming: string[],
  ): Promise<{ ok: true; version: number } | { ok: false; code: string }> {
    const meta = this.bind(who);
    if (!meta) return { ok: false, code: "identity_mismatch" };
    if (version <= meta.allowlist_version) return { ok: true, version: meta.allowlist_version };
    this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      sql.exec("DELETE FROM allow_out");
      sql.exec("DELETE FROM allow_in");
      for (const a of new Set(outgoing)) sql.exec("INSERT INTO allow_out (agent) VALUES (?)", a);
      for (const a of new Set(incoming)) sql.exec("INSERT INTO allow_in (agent) VALUES (?)", a);
      this.allowCache = undefined;
      this.writeMeta("UPDATE mailbox_meta SET allowlist_version = ? WHERE id = 1", version);
    });
    return { ok: true, version };
  }

  /** Stores the tenant config version and pushes it to the agent if it is connected. */
  async pushConfig(
    who: MailboxIdentity,
    version: number,
    config: unknown,
  ): Promise<{ ok: true; connected: boolean } | { ok: false; code: string }> {
    const meta = this.bind(who);
    if (!meta) return { ok: false, code: "identity_mismatch" };
    if (version > meta.config_version) {
      const messaging = readMessagingLimits(config);
      this.writeMeta(
        "UPDATE mailbox_meta SET config_version = ?, config_json = ?, max_hops = ?, max_repeats = ?, default_ttl = ? WHERE id = 1",
        version,
        JSON.stringify(config),
        messaging.maxHops,
        messaging.maxRepeats,
        messaging.defaultTtl,
      );
    }
    const sockets = this.openSockets();
    const current = this.meta();
    if (current && current.config_version === version) {
      for (const ws of sockets) this.sendFrame(ws, { op: "config", version, config });
    }
    return { ok: true, connected: sockets.length > 0 };
  }

  async setStatus(who: MailboxIdentity, status: Status): Promise<{ ok: boolean }> {
    const meta = this.bind(who);
    if (!meta) return { ok: false };
    this.writeMeta("UPDATE mailbox_meta SET status = ? WHERE id = 1", status);
    if (status !== "active") {
      for (const ws of this.ctx.getWebSockets())
        ws.close(4003, status === "paused" ? "agent paused" : "agent deleted");
    }
    return { ok: true };
  }

  // ---- model gateway admission (RPC from the gateway; no D1 on this path) ----

  /** Stores what the gateway decides calls by; pushed by the Worker whenever an input changes. */
  async setBillingProfile(who: MailboxIdentity, profile: BillingProfile): Promise<{ ok: boolean }> {
    if (!this.bind(who)) return { ok: false };
    this.ctx.storage.sql.exec(
      `INSERT INTO billing_profile (id, profile, loaded_at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET profile = excluded.profile, loaded_at = excluded.loaded_at`,
      JSON.stringify(profile),
      Date.now(),
    );
    return { ok: true };
  }

  /**
   * Admits or refuses one model call. `profile_missing` asks the gateway to load the profile from
   * D1 and push it (a new mailbox, or one not refreshed for PROFILE_MAX_AGE_MS — a bound on how
   * long a lost push can leave it stale). An admitted call is stamped for the rate-limited state.
   */
  async admitModelCall(
    who: MailboxIdentity,
    req: { tier: ModelTier; thinking: ThinkingMode },
  ): Promise<Admission | { ok: false; code: "profile_missing" } | { ok: false; code: "agent_unavailable" }> {
    const meta = this.bind(who);
    if (!meta || meta.status !== "active") return { ok: false, code: "agent_unavailable" };
    const sql = this.ctx.storage.sql;
    const row = sql
      .exec<{ profile: string; loaded_at: number; last_call_at: number | null }>(
        "SELECT profile, loaded_at, last_call_at FROM billing_profile WHERE id = 1",
      )
      .toArray()[0];
    const now = Date.now();
    if (!row || now - row.loaded_at > PROFILE_MAX_AGE_MS) return { ok: false, code: "profile_missing" };
    const profile = JSON.parse(row.profile) as BillingProfile;
    const decision = admitModelCall(profile, req, now, row.last_call_at);
    // Only calls admitted while rate limited start the 10 s window; earlier ones do not count.
    const limited = profile.quotaState === "rate_limited" && !profile.overageEnabled;
    // Written only when it changes: an unlimited call leaves storage (and the output gate) alone.
    if (decision.ok && (limited || row.last_call_at !== null)) {
      sql.exec("UPDATE billing_profile SET last_call_at = ? WHERE id = 1", limited ? now : null);
    }
    return decision;
  }

  /** Closes the agent's socket so its runtime reconnects (and re-reads config) — the platform half of a restart. */
  async restart(who: MailboxIdentity): Promise<{ ok: boolean; wasConnected: boolean }> {
    const meta = this.bind(who);
    if (!meta) return { ok: false, wasConnected: false };
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) ws.close(4001, "restart requested");
    return { ok: true, wasConnected: sockets.length > 0 };
  }

  async describe(): Promise<MailboxDescription> {
    const meta = this.meta();
    const pending =
      this.ctx.storage.sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM inbox WHERE status IN ('queued', 'delivered')")
        .toArray()[0]?.n ?? 0;
    const connected = this.openSockets().length > 0;
    return {
      bound: !!meta,
      status: meta?.status ?? null,
      connected,
      connectedAt: connected ? (meta?.connected_at ?? null) : null,
      allowlistVersion: meta?.allowlist_version ?? 0,
      configVersion: meta?.config_version ?? 0,
      appliedVersion: meta?.applied_version ?? null,
      appliedAt: meta?.applied_at ?? null,
      pending,
    };
  }

  // ---- sending ----

  /** The sender's half: validate, loop guard, allowlist, then hand to the recipient's mailbox. */
  async send(who: MailboxIdentity, raw: unknown): Promise<SendResult> {
    const meta = this.bind(who);
    if (!meta || meta.status !== "active") {
      return { ok: false, code: "agent_unavailable", message: "This agent is paused or deleted" };
    }
    const parsed = sendInputSchema.safeParse(raw);
    if (!parsed.success) {
      return {
        ok: false,
        code: "invalid_message",
        message: "The message does not match its schema",
        details: issuesToDetails(parsed.error.issues),
      };
    }
    const input = parsed.data;
    const sql = this.ctx.storage.sql;
    const id = newId("msg");
    const sentAt = new Date().toISOString();
    const correlationId = input.correlationId ?? id;
    const parentHop =
      sql
        .exec<{ hop: number | null }>(
          // Two indexed lookups: an OR across both columns would scan the whole inbox.
          "SELECT MAX(hop) AS hop FROM (SELECT hop FROM inbox WHERE correlation_id = ? UNION ALL SELECT hop FROM inbox WHERE id = ?)",
          correlationId,
          correlationId,
        )
        .toArray()[0]?.hop ?? 0;
    const hop = parentHop + 1;
    const ttlSeconds = input.ttlSeconds ?? meta.default_ttl;
    const request: DeliveryRequest = {
      id,
      from: meta.agent_id,
      to: input.to,
      type: input.type,
      payload: input.payload,
      correlationId,
      hop,
      sentAt,
      ttlSeconds,
      expiresAt: new Date(Date.parse(sentAt) + ttlSeconds * 1000).toISOString(),
    };

    let status: DeliveryState;
    let reason: RejectReason | undefined;
    const allowed = input.to !== meta.agent_id && this.allowed("out").has(input.to);
    if (hop > meta.max_hops) {
      status = "rejected";
      reason = "loop_detected";
    } else if (!allowed) {
      status = "rejected";
      reason = "not_allowed";
    } else {
      // Count this sender → recipient → type in the chain; past the threshold the chain is a loop.
      const repeats =
        sql
          .exec<{ count: number }>(
            `INSERT INTO chains (correlation_id, to_agent, type, count, updated_at) VALUES (?, ?, ?, 1, ?)
             ON CONFLICT (correlation_id, to_agent, type) DO UPDATE SET count = count + 1, updated_at = excluded.updated_at
             RETURNING count`,
            correlationId,
            input.to,
            input.type,
            sentAt,
          )
          .toArray()[0]?.count ?? 1;
      if (repeats > meta.max_repeats) {
        status = "rejected";
        reason = "loop_detected";
      } else {
        const outcome = await this.handOff(meta.tenant_id, request);
        status = outcome.status;
        reason = outcome.reason;
      }
    }
    // A message the recipient stored is reported by the recipient, in the same step as its inbox row
    // (so its ack usually joins the same hub batch); one that never got there is reported from here.
    if (status === "rejected" || status === "failed") {
      this.queueHubEvent({ kind: "message", message: { ...request, status, reason: reason ?? null } });
    }
    return { ok: true, id, status, correlationId, ...(reason ? { reason } : {}) };
  }

  private async handOff(
    tenantId: string,
    request: DeliveryRequest,
  ): Promise<{ status: DeliveryState; reason?: RejectReason }> {
    const ns = this.env.AGENT_MAILBOX;
    const stub = ns.get(ns.idFromName(mailboxName(tenantId, request.to)));
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await stub.deliver({ agentId: request.to, tenantId }, request);
      } catch (err) {
        if (attempt === 2) {
          console.error("delivery failed", { id: request.id, error: String(err) });
          return { status: "failed" };
        }
      }
    }
    return { status: "failed" };
  }

  // ---- receiving ----

  /** The recipient's half: its own allowlist copy decides; then the message is stored and pushed. */
  async deliver(
    who: MailboxIdentity,
    msg: DeliveryRequest,
  ): Promise<{ status: DeliveryState; reason?: RejectReason }> {
    const meta = this.meta();
    // An unbound mailbox (unknown agent, or one of another tenant) has no allowlist: the same
    // rejection as a forbidden link, so nothing reveals whether the agent exists.
    if (
      !meta ||
      meta.agent_id !== who.agentId ||
      meta.tenant_id !== who.tenantId ||
      meta.status === "deleted"
    ) {
      return { status: "rejected", reason: "not_allowed" };
    }
    const allowed = this.allowed("in").has(msg.from);
    if (!allowed) return { status: "rejected", reason: "not_allowed" };

    // The push and the row are one step: the frame leaves only once the row is durable (output gate).
    const sockets = meta.status === "active" ? this.openSockets() : [];
    const status: DeliveryState = sockets.length > 0 ? "delivered" : "queued";
    const now = new Date().toISOString();
    const inserted = this.ctx.storage.sql.exec(
      `INSERT INTO inbox (id, from_agent, type, payload, correlation_id, hop, status, sent_at, expires_at, delivered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      msg.id,
      msg.from,
      msg.type,
      JSON.stringify(msg.payload ?? null),
      msg.correlationId,
      msg.hop,
      status,
      msg.sentAt,
      msg.expiresAt,
      status === "delivered" ? now : null,
    ).rowsWritten;
    if (inserted === 0) {
      // A retried hand-off of a message we already hold: answer with its state, store nothing twice.
      const existing = this.ctx.storage.sql
        .exec<{ status: DeliveryState }>("SELECT status FROM inbox WHERE id = ?", msg.id)
        .toArray()[0];
      return { status: existing?.status ?? "queued" };
    }
    this.queueHubEvent({ kind: "message", message: { ...msg, status, reason: null } });
    for (const ws of sockets) this.pushMessage(ws, msg);
    await this.scheduleAlarm(Date.parse(msg.expiresAt));
    return { status };
  }

  private pushMessage(
    ws: WebSocket,
    m: Pick<DeliveryRequest, "id" | "from" | "type" | "payload" | "correlationId" | "sentAt" | "hop">,
  ) {
    this.sendFrame(ws, {
      op: "message",
      id: m.id,
      from: m.from,
      type: m.type,
      payload: m.payload,
      correlationId: m.correlationId,
      sentAt: m.sentAt,
      hop: m.hop,
    });
  }

  private ack(id: string): boolean {
    const at = new Date().toISOString();
    const row = this.ctx.storage.sql
      .exec<{ from_agent: string; type: MessageType }>(
        `UPDATE inbox SET status = 'acknowledged', acked_at = ? WHERE id = ? AND status IN ('queued', 'delivered')
         RETURNING from_agent, type`,
        at,
        id,
      )
      .toArray()[0];
    if (!row) {
      // Acking twice is fine; acking something never delivered (or expired) is not.
      return (
        this.ctx.storage.sql
          .exec<{ status: string }>("SELECT status FROM inbox WHERE id = ?", id)
          .toArray()[0]?.status === "acknowledged"
      );
    }
    const meta = this.meta();
    if (meta) {
      this.queueHubEvent({
        kind: "status",
        id,
        from: row.from_agent,
        to: meta.agent_id,
        type: row.type,
        status: "acknowledged",
        at,
      });
    }
    return true;
  }

  // ---- the agent's socket ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const agentId = request.headers.get("x-aegis-agent");
    const tenantId = request.headers.get("x-aegis-tenant");
    if (!agentId || !tenantId) return new Response("missing identity", { status: 400 });
    const meta = this.bind({ agentId, tenantId });
    if (!meta) return new Response("identity mismatch", { status: 403 });

    // One live connection per agent: a new one replaces the old.
    for (const old of this.ctx.getWebSockets()) old.close(4000, "replaced by a newer connection");

    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    if (meta.status !== "active") {
      // Accept and close with a code the client can read: an HTTP 403 is invisible to the
      // browser and Worker WebSocket APIs.
      server.accept();
      server.close(4003, meta.status === "paused" ? "agent paused" : "agent deleted");
      return new Response(null, { status: 101, webSocket: client });
    }
    const connectedAt = new Date().toISOString();
    const attachment: SocketAttachment = { agentId, connectedAt };
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment(attachment);
    this.writeMeta("UPDATE mailbox_meta SET connected_at = ? WHERE id = 1", connectedAt);
    this.queueHubEvent({ kind: "presence", agentId, connected: true, at: connectedAt });

    if (meta.config_json && meta.config_version > 0) {
      this.sendFrame(server, {
        op: "config",
        version: meta.config_version,
        config: JSON.parse(meta.config_json),
      });
    }
    this.redeliver(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Everything not yet acknowledged, in the order it arrived; expired messages are not sent. */
  private redeliver(ws: WebSocket) {
    const sql = this.ctx.storage.sql;
    const now = new Date().toISOString();
    const meta = this.meta();
    const rows = sql
      .exec<{
        id: string;
        from_agent: string;
        type: MessageType;
        payload: string;
        correlation_id: string;
        sent_at: string;
        hop: number;
        status: string;
      }>(
        "SELECT id, from_agent, type, payload, correlation_id, sent_at, hop, status FROM inbox WHERE status IN ('queued', 'delivered') AND expires_at > ? ORDER BY seq",
        now,
      )
      .toArray();
    for (const r of rows) {
      this.pushMessage(ws, {
        id: r.id,
        from: r.from_agent,
        type: r.type,
        payload: JSON.parse(r.payload),
        correlationId: r.correlation_id,
        sentAt: r.sent_at,
        hop: r.hop,
      });
      if (r.status === "queued") {
        sql.exec("UPDATE inbox SET status = 'delivered', delivered_at = ? WHERE id = ?", now, r.id);
        if (meta) {
          this.queueHubEvent({
            kind: "status",
            id: r.id,
            from: r.from_agent,
            to: meta.agent_id,
            type: r.type,
            status: "delivered",
            at: now,
          });
        }
      }
    }
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const meta = this.meta();
    if (!meta) return ws.close(1011, "mailbox not bound");
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (size > MAX_FRAME_BYTES) {
      return this.sendFrame(ws, {
        op: "error",
        code: "frame_too_large",
        message: `Frames are limited to ${MAX_FRAME_BYTES} bytes`,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      return this.sendFrame(ws, { op: "error", code: "invalid_frame", message: "Frames must be JSON" });
    }
    // Acks and config confirmations are never limited: dropping one would only cause redelivery.
    const op = json && typeof json === "object" && "op" in json ? json.op : undefined;
    if (op !== "ack" && op !== "config_applied" && !this.takeToken(ws)) {
      const clientId = clientIdOf(json);
      return this.sendFrame(ws, {
        op: "error",
        code: "rate_limited",
        message: "Too many frames; slow down",
        ...(clientId ? { clientId } : {}),
      });
    }
    const frame = agentFrameSchema.safeParse(json);
    if (!frame.success) {
      const clientId = clientIdOf(json);
      return this.sendFrame(ws, {
        op: "error",
        code: "invalid_frame",
        message: "Unknown or malformed frame",
        details: issuesToDetails(frame.error.issues),
        ...(clientId ? { clientId } : {}),
      });
    }
    const f = frame.data;
    switch (f.op) {
      case "send": {
        const { op: _op, clientId, ...input } = f;
        const result = await this.send({ agentId: meta.agent_id, tenantId: meta.tenant_id }, input);
        if (!result.ok) {
          return this.sendFrame(ws, {
            op: "error",
            code: result.code,
            message: result.message,
            ...(result.details ? { details: result.details } : {}),
            ...(clientId ? { clientId } : {}),
          });
        }
        return this.sendFrame(ws, {
          op: "sent",
          id: result.id,
          status: result.status,
          ...(clientId ? { clientId } : {}),
          ...(result.reason ? { reason: result.reason } : {}),
        });
      }
      case "ack":
        if (!this.ack(f.id)) {
          return this.sendFrame(ws, {
            op: "error",
            code: "unknown_message",
            message: `No pending message ${f.id}`,
          });
        }
        return this.sendFrame(ws, { op: "acked", id: f.id });
      case "config_applied": {
        if (f.version > meta.config_version) {
          return this.sendFrame(ws, {
            op: "error",
            code: "unknown_version",
            message: `Config version ${f.version} was never pushed`,
          });
        }
        const at = new Date().toISOString();
        this.writeMeta(
          "UPDATE mailbox_meta SET applied_version = MAX(COALESCE(applied_version, 0), ?), applied_at = ? WHERE id = 1",
          f.version,
          at,
        );
        this.queueHubEvent({ kind: "config_applied", agentId: meta.agent_id, version: f.version, at });
        return;
      }
      case "ping":
        return this.sendFrame(ws, { op: "pong", ...(f.t !== undefined ? { t: f.t } : {}) });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // already closed
    }
    this.disconnected(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    try {
      ws.close(1011, "socket error");
    } catch {
      // already closed
    }
    this.disconnected(ws);
  }

  /** Presence goes offline only when no newer socket replaced this one. */
  private disconnected(ws: WebSocket) {
    const meta = this.meta();
    if (!meta) return;
    const others = this.ctx.getWebSockets().filter((s) => s !== ws && s.readyState === WebSocket.OPEN);
    if (others.length === 0) {
      this.queueHubEvent({
        kind: "presence",
        agentId: meta.agent_id,
        connected: false,
        at: new Date().toISOString(),
      });
    }
  }

  /** A soft limit, so its state lives in memory: after hibernation a socket simply starts with a full bucket. */
  private takeToken(ws: WebSocket): boolean {
    const now = Date.now();
    const b = this.buckets.get(ws) ?? { tokens: BURST, at: now };
    const tokens = Math.min(BURST, b.tokens + ((now - b.at) / 1000) * RATE_PER_SECOND);
    const ok = tokens >= 1;
    this.buckets.set(ws, { tokens: ok ? tokens - 1 : tokens, at: now });
    return ok;
  }

  private sendFrame(ws: WebSocket, frame: PlatformFrame) {
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      // The socket closed under us; the message stays queued/delivered and is redelivered on reconnect.
    }
  }

  // ---- expiry and the hub outbox ----

  override async alarm(): Promise<void> {
    this.alarmAt = undefined;
    this.pruneOutbox();
    const sql = this.ctx.storage.sql;
    // Finished messages stay for a while (for redelivery checks and hop counting), then go.
    const cutoff = new Date(Date.now() - INBOX_RETENTION_MS).toISOString();
    sql.exec("DELETE FROM inbox WHERE status IN ('acknowledged', 'expired') AND sent_at < ?", cutoff);
    sql.exec("DELETE FROM chains WHERE updated_at < ?", cutoff);
    const meta = this.meta();
    const now = new Date().toISOString();
    const expired = sql
      .exec<{ id: string; from_agent: string; type: MessageType }>(
        "SELECT id, from_agent, type FROM inbox WHERE status IN ('queued', 'delivered') AND expires_at <= ?",
        now,
      )
      .toArray();
    for (const e of expired) {
      sql.exec("UPDATE inbox SET status = 'expired' WHERE id = ?", e.id);
      if (meta)
        this.queueHubEvent({
          kind: "status",
          id: e.id,
          from: e.from_agent,
          to: meta.agent_id,
          type: e.type,
          status: "expired",
          at: now,
        });
    }
    await this.flushHub();
    await this.scheduleAlarm();
  }

  /**
   * Arms the one alarm for the earliest due work: the next expiry, or a retry of the hub outbox.
   * `alarmAt` caches what is armed so the hot path (every delivery) usually skips the storage calls.
   */
  private async scheduleAlarm(candidate?: number) {
    if (
      candidate !== undefined &&
      this.alarmAt !== undefined &&
      this.alarmAt !== null &&
      this.alarmAt <= candidate
    )
      return;
    const sql = this.ctx.storage.sql;
    const next = sql
      .exec<{ at: string | null }>(
        "SELECT MIN(expires_at) AS at FROM inbox WHERE status IN ('queued', 'delivered')",
      )
      .toArray()[0]?.at;
    const outboxWaiting =
      (sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM hub_outbox WHERE seq > ?", this.outboxSentThrough)
        .toArray()[0]?.n ?? 0) > 0;
    const at = Math.min(
      next ? Date.parse(next) : Number.POSITIVE_INFINITY,
      outboxWaiting ? Date.now() + 1000 : Number.POSITIVE_INFINITY,
      PRUNE_EVERY_MS + Date.now(),
    );
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) {
      await this.ctx.storage.setAlarm(at);
      this.alarmAt = at;
    } else {
      this.alarmAt = current;
    }
  }

  /** Hub events are written here first, so a crash between the state change and the hub loses nothing. */
  private queueHubEvent(event: HubEvent) {
    this.pruneOutbox();
    this.ctx.storage.sql.exec("INSERT INTO hub_outbox (event) VALUES (?)", JSON.stringify(event));
    if (!this.flushing) {
      // A short delay gathers the events of a burst into one RPC; the outbox row is already durable.
      this.flushing = new Promise<void>((resolve) => setTimeout(resolve, HUB_FLUSH_DELAY_MS))
        .then(() => this.flushHub())
        .finally(() => {
          this.flushing = null;
        });
    }
  }

  /** Sends the outbox to TenantHub in batches; while a batch is in flight new events gather for the next. */
  private async flushHub(): Promise<void> {
    const meta = this.meta();
    if (!meta) return;
    const sql = this.ctx.storage.sql;
    const hub = this.env.TENANT_HUB.get(this.env.TENANT_HUB.idFromName(meta.tenant_id));
    for (;;) {
      const rows = sql
        .exec<{ seq: number; event: string }>(
          "SELECT seq, event FROM hub_outbox WHERE seq > ? ORDER BY seq LIMIT ?",
          this.outboxSentThrough,
          HUB_BATCH,
        )
        .toArray();
      if (rows.length === 0) return;
      try {
        // The rows travel as the JSON text they are stored as: strings cross the RPC boundary far
        // more cheaply than the objects they describe.
        await hub.ingest(
          meta.tenant_id,
          rows.map((r) => r.event),
        );
      } catch (err) {
        console.error("hub ingest failed; retrying from the alarm", { error: String(err) });
        await this.scheduleAlarm();
        return;
      }
      const last = rows[rows.length - 1];
      if (last) this.outboxSentThrough = Math.max(this.outboxSentThrough, last.seq);
    }
  }

  /** Drops the outbox rows the hub already has; called in the same step as another write. */
  private pruneOutbox() {
    if (this.outboxPruned === this.outboxSentThrough) return;
    this.ctx.storage.sql.exec("DELETE FROM hub_outbox WHERE seq <= ?", this.outboxSentThrough);
    this.outboxPruned = this.outboxSentThrough;
  }
  private outboxPruned = 0;
}

function clientIdOf(json: unknown): string | undefined {
  if (json && typeof json === "object" && "clientId" in json && typeof json.clientId === "string") {
    return json.clientId.slice(0, 80);
  }
  return undefined;
}

function readMessagingLimits(config: unknown): { maxHops: number; maxRepeats: number; defaultTtl: number } {
  const parsed = tenantConfigSchema.safeParse(config);
  const m = parsed.success ? parsed.data.messaging : defaultTenantConfig().messaging;
  return { maxHops: m.maxHops, maxRepeats: m.maxRepeats, defaultTtl: m.defaultTtlSeconds };
}
