import { DurableObject } from "cloudflare:workers";
import { buildAuditEvent, enqueueAudit } from "../worker/features/audit/record";
import { newId } from "../worker/lib/ids";
import type { DeliveryRequest, SendResult } from "./agent-mailbox";
import { mailboxName } from "./agent-mailbox";
import {
  type AllowlistEdge,
  type DeliveryState,
  directedPairs,
  type FeedEvent,
  type FeedFilters,
  type FeedMessage,
  feedClientFrameSchema,
  MESSAGE_TYPES,
  type MessageType,
  type RejectReason,
} from "./protocol";
import {
  type RunStatus,
  type RunStepStatus,
  renderPayload,
  TEMPLATES,
  type WorkflowRun,
  type WorkflowTemplateId,
} from "./workflows";

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

/** What mailboxes report to the hub, in batches, from their durable outbox. */
export type HubEvent =
  | { kind: "message"; message: DeliveryRequest & { status: DeliveryState; reason: RejectReason | null } }
  | {
      kind: "status";
      id: string;
      from: string;
      to: string;
      type: MessageType;
      status: DeliveryState;
      at: string;
      reason?: RejectReason;
    }
  | { kind: "config_applied"; agentId: string; version: number; at: string }
  | { kind: "presence"; agentId: string; connected: boolean; at: string };

export interface MessageQuery {
  agentId?: string;
  type?: string;
  status?: string;
  from?: string;
  to?: string;
  q?: string;
  cursor?: string;
  limit: number;
}

export interface AllowlistState {
  version: number;
  edges: AllowlistEdge[];
  updatedAt: string | null;
  updatedBy: string | null;
}

const RANK: Record<DeliveryState, number> = {
  queued: 0,
  delivered: 1,
  acknowledged: 2,
  rejected: 3,
  expired: 3,
  failed: 3,
};
const PREVIEW = 160;
/** The hub keeps the timeline for this long; older rows are pruned by the alarm. */
const LOG_RETENTION_DAYS = 30;

interface FeedAttachment {
  userId: string;
  filters: FeedFilters;
}

type MessageRow = {
  id: string;
  from_agent: string;
  to_agent: string;
  type: MessageType;
  status: DeliveryState;
  reason: RejectReason | null;
  correlation_id: string | null;
  hop: number;
  payload: string | null;
  payload_preview: string;
  ttl_seconds: number | null;
  expires_at: string | null;
  sent_at: string;
  updated_at: string;
  delivered_at: string | null;
  acknowledged_at: string | null;
  /** When it reached its end state (rejected, expired or failed), which `status` then names. */
  ended_at: string | null;
};

/**
 * A message's delivery history lives on its own row: each state happens at most once, so a column
 * per state holds its time. One row write per report instead of a row per state in a second table
 * keeps the hub's share of each message small (it is on every message's path).
 */
const STAMP_COLUMN: Partial<Record<DeliveryState, "delivered_at" | "acknowledged_at" | "ended_at">> = {
  delivered: "delivered_at",
  acknowledged: "acknowledged_at",
  rejected: "ended_at",
  expired: "ended_at",
  failed: "ended_at",
};

/** The times of each state in `reports`, the first report of a state winning. */
function stamps(reports: Array<{ status: DeliveryState; at: string }>) {
  const out: { delivered_at: string | null; acknowledged_at: string | null; ended_at: string | null } = {
    delivered_at: null,
    acknowledged_at: null,
    ended_at: null,
  };
  for (const r of reports) {
    const column = STAMP_COLUMN[r.status];
    if (column) out[column] ??= r.at;
  }
  return out;
}

function historyOf(r: MessageRow): Array<{ status: DeliveryState; reason?: RejectReason; at: string }> {
  const history: Array<{ status: DeliveryState; reason?: RejectReason; at: string }> = [
    { status: "queued", at: r.sent_at },
  ];
  if (r.delivered_at) history.push({ status: "delivered", at: r.delivered_at });
  if (r.acknowledged_at) history.push({ status: "acknowledged", at: r.acknowledged_at });
  if (r.ended_at)
    history.push({ status: r.status, at: r.ended_at, ...(r.reason ? { reason: r.reason } : {}) });
  // Stable: states stamped in the same millisecond keep their delivery order.
  return history.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
}

function toFeedMessage(r: MessageRow): FeedMessage {
  return {
    id: r.id,
    from: r.from_agent,
    to: r.to_agent,
    type: r.type,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.correlation_id ? { correlationId: r.correlation_id } : {}),
    hop: r.hop,
    payloadPreview: r.payload_preview,
    sentAt: r.sent_at,
    updatedAt: r.updated_at,
  };
}

/** A state's time is kept from its first report: a redelivered report changes nothing. */
const STAMP_UPSERT = `delivered_at = COALESCE(messages.delivered_at, excluded.delivered_at),
               acknowledged_at = COALESCE(messages.acknowledged_at, excluded.acknowledged_at),
               ended_at = COALESCE(messages.ended_at, excluded.ended_at)`;

/**
 * Hubs created before the history moved onto the message row kept it in `message_events`: add the
 * columns, fill them from that table, and drop it. Runs once (the table is gone afterwards).
 */
export function migrateMessageHistory(sql: SqlStorage) {
  const old = sql
    .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_events'")
    .toArray();
  if (old.length === 0) return;
  const columns = String(
    sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'messages'").one().sql,
  );
  for (const c of ["delivered_at", "acknowledged_at", "ended_at"]) {
    if (!columns.includes(c)) sql.exec(`ALTER TABLE messages ADD COLUMN ${c} TEXT`);
  }
  sql.exec(`UPDATE messages SET
    delivered_at = (SELECT MIN(at) FROM message_events e WHERE e.message_id = messages.id AND e.status = 'delivered'),
    acknowledged_at = (SELECT MIN(at) FROM message_events e WHERE e.message_id = messages.id AND e.status = 'acknowledged'),
    ended_at = (SELECT MIN(at) FROM message_events e WHERE e.message_id = messages.id
                AND e.status IN ('rejected', 'expired', 'failed'))`);
  sql.exec("DROP TABLE message_events");
}

const encodeCursor = (sentAt: string, id: string) => btoa(`${sentAt}|${id}`);
function decodeCursor(cursor: string): [string, string] | null {
  try {
    const [sentAt, id] = atob(cursor).split("|");
    return sentAt && id ? [sentAt, id] : null;
  } catch {
    return null;
  }
}

/**
 * One per tenant: the truth for the allowlist graph and its version, the tenant's message log for
 * the timeline, and the admin real-time feed (hibernatable sockets).
 */
export class TenantHub extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = this.ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        tenant_id TEXT NOT NULL, slug TEXT NOT NULL, plan_tier TEXT NOT NULL,
        initialized_at TEXT NOT NULL, allowlist_version INTEGER NOT NULL DEFAULT 0)`);
      sql.exec(`CREATE TABLE IF NOT EXISTS allowlist (
        version INTEGER PRIMARY KEY, edges TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT)`);
      sql.exec(`CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY, from_agent TEXT NOT NULL, to_agent TEXT NOT NULL, type TEXT NOT NULL,
        status TEXT NOT NULL, status_rank INTEGER NOT NULL, reason TEXT, correlation_id TEXT, hop INTEGER NOT NULL DEFAULT 0,
        payload TEXT, payload_preview TEXT NOT NULL DEFAULT '', ttl_seconds INTEGER, expires_at TEXT,
        sent_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        delivered_at TEXT, acknowledged_at TEXT, ended_at TEXT)`);
      migrateMessageHistory(sql);
      sql.exec("CREATE INDEX IF NOT EXISTS messages_sent ON messages (sent_at DESC, id DESC)");
      sql.exec("CREATE INDEX IF NOT EXISTS messages_from ON messages (from_agent, sent_at)");
      sql.exec("CREATE INDEX IF NOT EXISTS messages_to ON messages (to_agent, sent_at)");
      sql.exec("CREATE INDEX IF NOT EXISTS messages_correlation ON messages (correlation_id)");
      sql.exec(
        `CREATE TABLE IF NOT EXISTS config_applied (agent_id TEXT PRIMARY KEY, version INTEGER NOT NULL, at TEXT NOT NULL)`,
      );
      sql.exec(
        `CREATE TABLE IF NOT EXISTS presence (agent_id TEXT PRIMARY KEY, connected INTEGER NOT NULL, at TEXT NOT NULL)`,
      );
      sql.exec(`CREATE TABLE IF NOT EXISTS workflow_runs (
        id TEXT PRIMARY KEY, template TEXT NOT NULL, status TEXT NOT NULL, lead TEXT NOT NULL, participants TEXT NOT NULL,
        names TEXT NOT NULL, step_index INTEGER NOT NULL DEFAULT 0, started_at TEXT NOT NULL, finished_at TEXT, error TEXT,
        trigger TEXT NOT NULL, dedupe_key TEXT UNIQUE, timeout_override INTEGER)`);
      sql.exec(`CREATE TABLE IF NOT EXISTS workflow_steps (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, template_step INTEGER NOT NULL, name TEXT NOT NULL, agent_id TEXT NOT NULL,
        awaits TEXT, status TEXT NOT NULL, message_id TEXT, error TEXT, started_at TEXT, finished_at TEXT, due_at TEXT,
        response TEXT, PRIMARY KEY (run_id, seq))`);
      sql.exec("CREATE INDEX IF NOT EXISTS workflow_steps_waiting ON workflow_steps (status, message_id)");
      sql.exec(
        "CREATE TABLE IF NOT EXISTS housekeeping (id INTEGER PRIMARY KEY CHECK (id = 1), next_prune_at INTEGER NOT NULL)",
      );
      sql.exec(
        "CREATE TABLE IF NOT EXISTS hub_config (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, audit_messages TEXT NOT NULL)",
      );
    });
  }

  // ---- tenant ----

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
    await this.ensureAlarm();
    return { ok: true, state };
  }

  async describe(): Promise<TenantHubState | null> {
    return this.state();
  }

  /** Cache of meta.tenant_id for the hot path (ingest); undefined until read while set. */
  private boundTenant: string | undefined;

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

  // ---- allowlist ----

  async getAllowlist(): Promise<AllowlistState> {
    const row = this.ctx.storage.sql
      .exec<{ version: number; edges: string; updated_at: string; updated_by: string | null }>(
        "SELECT version, edges, updated_at, updated_by FROM allowlist ORDER BY version DESC LIMIT 1",
      )
      .toArray()[0];
    if (!row) return { version: 0, edges: [], updatedAt: null, updatedBy: null };
    return {
      version: row.version,
      edges: JSON.parse(row.edges),
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    };
  }

  /** The directed sets one agent's mailbox needs. */
  async allowlistFor(agentId: string): Promise<{ version: number; outgoing: string[]; incoming: string[] }> {
    const current = await this.getAllowlist();
    return { version: current.version, ...setsFor(agentId, current.edges) };
  }

  /**
   * Writes a new version if `expectedVersion` is current, then pushes it to every mailbox whose
   * sets changed and returns only when each holds it: a revoked link blocks the very next message.
   */
  async setAllowlist(input: {
    tenantId: string;
    expectedVersion: number;
    edges: AllowlistEdge[];
    updatedBy: string | null;
  }): Promise<
    | { ok: true; state: AllowlistState; appliedTo: number }
    | {
        ok: false;
        code: "version_conflict";
        current: { version: number; updatedBy: string | null; updatedAt: string | null };
      }
    | { ok: false; code: "push_failed"; failed: string[] }
  > {
    const before = await this.getAllowlist();
    if (before.version !== input.expectedVersion) {
      return {
        ok: false,
        code: "version_conflict",
        current: { version: before.version, updatedBy: before.updatedBy, updatedAt: before.updatedAt },
      };
    }
    const version = before.version + 1;
    const at = new Date().toISOString();
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec(
        "INSERT INTO allowlist (version, edges, updated_at, updated_by) VALUES (?, ?, ?, ?)",
        version,
        JSON.stringify(input.edges),
        at,
        input.updatedBy,
      );
      this.ctx.storage.sql.exec("UPDATE meta SET allowlist_version = ? WHERE id = 1", version);
    });
    const state: AllowlistState = { version, edges: input.edges, updatedAt: at, updatedBy: input.updatedBy };
    const pushed = await this.pushAllowlist(input.tenantId, before.edges, state);
    this.broadcast({ event: "allowlist", version, updatedBy: input.updatedBy, at });
    if (pushed.failed.length) return { ok: false, code: "push_failed", failed: pushed.failed };
    return { ok: true, state, appliedTo: pushed.applied };
  }

  private async pushAllowlist(tenantId: string, previous: AllowlistEdge[], next: AllowlistState) {
    const agents = new Set<string>();
    for (const e of [...previous, ...next.edges]) {
      agents.add(e.from);
      agents.add(e.to);
    }
    const ns = this.env.AGENT_MAILBOX;
    const failed: string[] = [];
    let applied = 0;
    await Promise.all(
      [...agents].map(async (agentId) => {
        const before = setsFor(agentId, previous);
        const after = setsFor(agentId, next.edges);
        if (sameSets(before, after)) return;
        const stub = ns.get(ns.idFromName(mailboxName(tenantId, agentId)));
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            const res = await stub.applyAllowlist(
              { agentId, tenantId },
              next.version,
              after.outgoing,
              after.incoming,
            );
            if (res.ok) applied++;
            else failed.push(agentId);
            return;
          } catch (err) {
            if (attempt === 2) {
              console.error("allowlist push failed", { agentId, error: String(err) });
              failed.push(agentId);
            }
          }
        }
      }),
    );
    return { applied, failed };
  }

  // ---- message log and feed ----

  /**
   * Mailboxes report messages and status changes here, as outbox rows (each the JSON text of one
   * `HubEvent`); idempotent and order-insensitive. A message and its later statuses in the same
   * batch (the recipient usually reports the message and its ack together) are written as one row
   * with its history; the feed still gets each event.
   */
  async ingest(tenantId: string, rows: string[]): Promise<void> {
    const events = rows.map((r) => JSON.parse(r) as HubEvent);
    // The tenant a hub belongs to never changes once set: read once, not per batch.
    this.boundTenant ??= this.state()?.tenantId;
    if (this.boundTenant && this.boundTenant !== tenantId) throw new Error("tenant mismatch");
    const sql = this.ctx.storage.sql;
    const out: FeedEvent[] = [];
    let advance = false;
    // Statuses that follow their message in this batch: folded into the message's own write.
    const folded = new Map<string, Array<Extract<HubEvent, { kind: "status" }>>>();
    const messagesSeen = new Set<string>();
    for (const e of events) {
      if (e.kind === "message") messagesSeen.add(e.message.id);
      else if (e.kind === "status" && messagesSeen.has(e.id)) {
        folded.set(e.id, [...(folded.get(e.id) ?? []), e]);
      }
    }
    const foldedEvents = new Set([...folded.values()].flat());
    this.ctx.storage.transactionSync(() => {
      for (const e of events) {
        if (e.kind === "message") {
          const m = e.message;
          const payload = JSON.stringify(m.payload ?? null);
          const later = folded.get(m.id) ?? [];
          const final = later.reduce(
            (acc, s) => (RANK[s.status] > RANK[acc.status] ? { status: s.status, at: s.at } : acc),
            { status: m.status, at: m.sentAt },
          );
          // Its history in the same write: the state it was reported in, and any folded ones.
          const at = stamps([{ status: m.status, at: m.sentAt }, ...later]);
          const row = sql
            .exec<Pick<MessageRow, "status" | "reason" | "updated_at">>(
              `INSERT INTO messages (id, from_agent, to_agent, type, status, status_rank, reason, correlation_id, hop, payload,
               payload_preview, ttl_seconds, expires_at, sent_at, updated_at, delivered_at, acknowledged_at, ended_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, payload_preview = excluded.payload_preview,
               correlation_id = excluded.correlation_id, hop = excluded.hop, ttl_seconds = excluded.ttl_seconds,
               expires_at = excluded.expires_at, sent_at = excluded.sent_at,
               reason = COALESCE(messages.reason, excluded.reason),
               status = CASE WHEN excluded.status_rank > messages.status_rank THEN excluded.status ELSE messages.status END,
               status_rank = MAX(messages.status_rank, excluded.status_rank),
               updated_at = MAX(messages.updated_at, excluded.updated_at),
               ${STAMP_UPSERT}
             RETURNING status, reason, updated_at`,
              m.id,
              m.from,
              m.to,
              m.type,
              final.status,
              RANK[final.status],
              m.reason,
              m.correlationId,
              m.hop,
              payload,
              payload.slice(0, PREVIEW),
              m.ttlSeconds,
              m.expiresAt,
              m.sentAt,
              final.at,
              at.delivered_at,
              at.acknowledged_at,
              at.ended_at,
            )
            .toArray()[0];
          if (row) {
            // The feed shows the message as it was sent; folded statuses follow as their own events.
            out.push({
              event: "message",
              message: {
                id: m.id,
                from: m.from,
                to: m.to,
                type: m.type,
                status: later.length ? m.status : (row.status as DeliveryState),
                ...(row.reason ? { reason: row.reason as RejectReason } : {}),
                correlationId: m.correlationId,
                hop: m.hop,
                payloadPreview: payload.slice(0, PREVIEW),
                sentAt: m.sentAt,
                updatedAt: later.length ? m.sentAt : row.updated_at,
              },
            });
          }
          if (m.status !== "rejected" && m.status !== "failed" && this.matchWorkflowReply(m)) advance = true;
        } else if (e.kind === "status") {
          if (foldedEvents.has(e)) {
            out.push({
              event: "message_status",
              id: e.id,
              from: e.from,
              to: e.to,
              type: e.type,
              status: e.status,
              ...(e.reason ? { reason: e.reason } : {}),
              at: e.at,
            });
            continue;
          }
          const at = stamps([e]);
          sql.exec(
            `INSERT INTO messages (id, from_agent, to_agent, type, status, status_rank, reason, sent_at, updated_at,
               delivered_at, acknowledged_at, ended_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET
               status = CASE WHEN excluded.status_rank > messages.status_rank THEN excluded.status ELSE messages.status END,
               status_rank = MAX(messages.status_rank, excluded.status_rank),
               reason = COALESCE(excluded.reason, messages.reason), updated_at = excluded.updated_at,
               ${STAMP_UPSERT}`,
            e.id,
            e.from,
            e.to,
            e.type,
            e.status,
            RANK[e.status],
            e.reason ?? null,
            e.at,
            e.at,
            at.delivered_at,
            at.acknowledged_at,
            at.ended_at,
          );
          out.push({
            event: "message_status",
            id: e.id,
            from: e.from,
            to: e.to,
            type: e.type,
            status: e.status,
            ...(e.reason ? { reason: e.reason } : {}),
            at: e.at,
          });
        } else if (e.kind === "presence") {
          // Events arrive in batches from one mailbox in order; the newest wins.
          sql.exec(
            `INSERT INTO presence (agent_id, connected, at) VALUES (?, ?, ?)
             ON CONFLICT (agent_id) DO UPDATE SET connected = excluded.connected, at = excluded.at WHERE excluded.at >= presence.at`,
            e.agentId,
            e.connected ? 1 : 0,
            e.at,
          );
          out.push({ event: "presence", agentId: e.agentId, connected: e.connected, at: e.at });
        } else {
          sql.exec(
            `INSERT INTO config_applied (agent_id, version, at) VALUES (?, ?, ?)
             ON CONFLICT (agent_id) DO UPDATE SET version = MAX(version, excluded.version), at = excluded.at`,
            e.agentId,
            e.version,
            e.at,
          );
          out.push({ event: "config_applied", agentId: e.agentId, version: e.version, at: e.at });
        }
      }
    });
    for (const ev of out) this.broadcast(ev);
    if (advance) await this.ctx.storage.setAlarm(Date.now());
    // Rejections are security-relevant agent actions: they always go to the audit log (and its
    // alert rules). Delivered messages too when the tenant's config says `audit.messages: "all"`;
    // otherwise they stay in this log only, which keeps D1 writes off the per-message path.
    const all = this.auditMessages() === "all";
    const audited = events.flatMap((e) =>
      e.kind === "message" && (all || e.message.status === "rejected") ? [e.message] : [],
    );
    if (audited.length) {
      await enqueueAudit(
        this.env,
        // Deterministic ids: a hub batch redelivered by a mailbox records each message once.
        audited.map((m) => {
          const rejected = m.status === "rejected";
          return {
            ...buildAuditEvent({
              action: rejected ? "message.rejected" : "message.sent",
              tenantId,
              actor: { type: "agent", id: m.from, name: m.from },
              severity: !rejected ? "info" : m.reason === "loop_detected" ? "medium" : "low",
              target: { type: "agent", id: m.to },
              details: {
                messageId: m.id,
                type: m.type,
                status: m.status,
                reason: m.reason,
                hop: m.hop,
                correlationId: m.correlationId,
              },
            }),
            id: `aud_${rejected ? "rej" : "msg"}_${m.id}`,
          };
        }),
      );
    }
  }

  /** The tenant config's audit setting for messages, pushed with every config version. */
  async applyConfig(version: number, auditMessages: "rejected" | "all"): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO hub_config (id, version, audit_messages) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, audit_messages = excluded.audit_messages
       WHERE excluded.version >= hub_config.version`,
      version,
      auditMessages,
    );
    this.auditMode = undefined;
  }

  private auditMessages(): "rejected" | "all" {
    if (this.auditMode === undefined) {
      const row = this.ctx.storage.sql
        .exec<{ audit_messages: string }>("SELECT audit_messages FROM hub_config WHERE id = 1")
        .toArray()[0];
      this.auditMode = row?.audit_messages === "all" ? "all" : "rejected";
    }
    return this.auditMode;
  }
  /** A cache of hub_config.audit_messages (read on every ingest); applyConfig drops it. */
  private auditMode: "rejected" | "all" | undefined;

  /** Pushes an event from outside the mailboxes (provisioning, alerts) to the feed. */
  async publish(event: FeedEvent): Promise<void> {
    this.broadcast(event);
  }

  async listMessages(q: MessageQuery): Promise<{ data: FeedMessage[]; nextCursor: string | null }> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.agentId) {
      where.push("(from_agent = ? OR to_agent = ?)");
      args.push(q.agentId, q.agentId);
    }
    if (q.type) {
      where.push("type = ?");
      args.push(q.type);
    }
    if (q.status) {
      where.push("status = ?");
      args.push(q.status);
    }
    if (q.from) {
      where.push("sent_at >= ?");
      args.push(q.from);
    }
    if (q.to) {
      where.push("sent_at <= ?");
      args.push(q.to);
    }
    if (q.q) {
      where.push("(payload LIKE ? ESCAPE '\\' OR id = ? OR correlation_id = ?)");
      args.push(`%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, q.q, q.q);
    }
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      if (c) {
        where.push("(sent_at < ? OR (sent_at = ? AND id < ?))");
        args.push(c[0], c[0], c[1]);
      }
    }
    const rows = this.ctx.storage.sql
      .exec<MessageRow>(
        `SELECT * FROM messages ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY sent_at DESC, id DESC LIMIT ?`,
        ...args,
        q.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(toFeedMessage),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.sent_at, last.id) : null,
    };
  }

  async getMessage(id: string): Promise<{
    message: FeedMessage & { payload: unknown; ttlSeconds: number | null; expiresAt: string | null };
    history: Array<{ status: DeliveryState; reason?: RejectReason; at: string }>;
    thread: FeedMessage[];
  } | null> {
    const sql = this.ctx.storage.sql;
    const row = sql.exec<MessageRow>("SELECT * FROM messages WHERE id = ?", id).toArray()[0];
    if (!row) return null;
    const history = historyOf(row);
    const thread = row.correlation_id
      ? sql
          .exec<MessageRow>(
            "SELECT * FROM messages WHERE correlation_id = ? OR id = ? ORDER BY sent_at, id LIMIT 200",
            row.correlation_id,
            row.correlation_id,
          )
          .toArray()
          .map(toFeedMessage)
      : [];
    return {
      message: {
        ...toFeedMessage(row),
        payload: row.payload ? JSON.parse(row.payload) : null,
        ttlSeconds: row.ttl_seconds,
        expiresAt: row.expires_at,
      },
      history,
      thread,
    };
  }

  /** Who talked to whom in the period: message count and rejections per directed pair. */
  async flow(
    from: string,
    to: string,
  ): Promise<Array<{ from: string; to: string; count: number; rejected: number; lastAt: string }>> {
    return this.ctx.storage.sql
      .exec<{ from_agent: string; to_agent: string; count: number; rejected: number; last_at: string }>(
        `SELECT from_agent, to_agent, COUNT(*) AS count, SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
           MAX(sent_at) AS last_at
         FROM messages WHERE sent_at >= ? AND sent_at <= ? GROUP BY from_agent, to_agent`,
        from,
        to,
      )
      .toArray()
      .map((r) => ({
        from: r.from_agent,
        to: r.to_agent,
        count: r.count,
        rejected: r.rejected,
        lastAt: r.last_at,
      }));
  }

  async loopRejections(since: string): Promise<number> {
    return (
      this.ctx.storage.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM messages WHERE reason = 'loop_detected' AND sent_at >= ?",
          since,
        )
        .toArray()[0]?.n ?? 0
    );
  }

  async configApplied(): Promise<Array<{ agentId: string; version: number; at: string }>> {
    return this.ctx.storage.sql
      .exec<{ agent_id: string; version: number; at: string }>(
        "SELECT agent_id, version, at FROM config_applied",
      )
      .toArray()
      .map((r) => ({ agentId: r.agent_id, version: r.version, at: r.at }));
  }

  async presence(): Promise<Array<{ agentId: string; connected: boolean; at: string }>> {
    return this.ctx.storage.sql
      .exec<{ agent_id: string; connected: number; at: string }>(
        "SELECT agent_id, connected, at FROM presence",
      )
      .toArray()
      .map((r) => ({ agentId: r.agent_id, connected: r.connected === 1, at: r.at }));
  }

  // ---- feed sockets ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const userId = request.headers.get("x-aegis-principal") ?? "unknown";
    const url = new URL(request.url);
    const filters: FeedFilters = {
      ...(url.searchParams.getAll("agentId").length ? { agentIds: url.searchParams.getAll("agentId") } : {}),
      ...(url.searchParams.getAll("type").length
        ? { types: url.searchParams.getAll("type").filter((t): t is MessageType => isMessageType(t)) }
        : {}),
    };
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ userId, filters } satisfies FeedAttachment);
    server.send(JSON.stringify({ event: "subscribed", filters } satisfies FeedEvent));
    const protocol = request.headers.get("x-aegis-protocol");
    return new Response(null, {
      status: 101,
      webSocket: client,
      ...(protocol ? { headers: { "Sec-WebSocket-Protocol": protocol } } : {}),
    });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      return ws.send(
        JSON.stringify({
          event: "error",
          code: "invalid_frame",
          message: "Frames must be JSON",
        } satisfies FeedEvent),
      );
    }
    const frame = feedClientFrameSchema.safeParse(json);
    if (!frame.success) {
      return ws.send(
        JSON.stringify({
          event: "error",
          code: "invalid_frame",
          message: "Expected { op: 'subscribe', filters }",
        } satisfies FeedEvent),
      );
    }
    if (frame.data.op === "ping") return ws.send(JSON.stringify({ event: "pong" }));
    const a = ws.deserializeAttachment() as FeedAttachment | null;
    ws.serializeAttachment({
      userId: a?.userId ?? "unknown",
      filters: frame.data.filters,
    } satisfies FeedAttachment);
    ws.send(JSON.stringify({ event: "subscribed", filters: frame.data.filters } satisfies FeedEvent));
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // already closed
    }
  }

  private broadcast(event: FeedEvent) {
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const json = JSON.stringify(event);
    for (const ws of sockets) {
      const a = ws.deserializeAttachment() as FeedAttachment | null;
      if (a && !matches(a.filters, event)) continue;
      try {
        ws.send(json);
      } catch {
        // closed; the runtime drops it from getWebSockets()
      }
    }
  }

  // ---- workflows ----

  async startRun(input: {
    template: WorkflowTemplateId;
    leadAgentId: string;
    participants: Array<{ id: string; name: string }>;
    leadName: string;
    trigger: string;
    dedupeKey?: string;
    timeoutSeconds?: number;
  }): Promise<{ ok: true; run: WorkflowRun; duplicate: boolean }> {
    const sql = this.ctx.storage.sql;
    if (input.dedupeKey) {
      const existing = sql
        .exec<{ id: string }>("SELECT id FROM workflow_runs WHERE dedupe_key = ?", input.dedupeKey)
        .toArray()[0];
      const run = existing ? this.run(existing.id) : null;
      if (run) return { ok: true, run, duplicate: true };
    }
    const template = TEMPLATES[input.template];
    const id = newId("run");
    const now = new Date().toISOString();
    const names = Object.fromEntries([
      [input.leadAgentId, input.leadName],
      ...input.participants.map((p) => [p.id, p.name]),
    ]);
    this.ctx.storage.transactionSync(() => {
      sql.exec(
        `INSERT INTO workflow_runs (id, template, status, lead, participants, names, started_at, trigger, dedupe_key, timeout_override)
         VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
        id,
        input.template,
        input.leadAgentId,
        JSON.stringify(input.participants.map((p) => p.id)),
        JSON.stringify(names),
        now,
        input.trigger,
        input.dedupeKey ?? null,
        input.timeoutSeconds ?? null,
      );
      let seq = 0;
      template.steps.forEach((step, t) => {
        for (const p of input.participants) {
          sql.exec(
            `INSERT INTO workflow_steps (run_id, seq, template_step, name, agent_id, awaits, status) VALUES (?, ?, ?, ?, ?, ?, 'pending')`,
            id,
            seq++,
            t,
            `${step.name} → ${p.name}`,
            p.id,
            step.awaits ?? null,
          );
        }
      });
    });
    await this.ctx.storage.setAlarm(Date.now());
    const run = this.run(id);
    if (!run) throw new Error("run vanished");
    return { ok: true, run, duplicate: false };
  }

  async listRuns(limit = 50): Promise<WorkflowRun[]> {
    const ids = this.ctx.storage.sql
      .exec<{ id: string }>("SELECT id FROM workflow_runs ORDER BY started_at DESC, id DESC LIMIT ?", limit)
      .toArray();
    return ids.map((r) => this.run(r.id)).filter((r): r is WorkflowRun => r !== null);
  }

  async getRun(id: string): Promise<WorkflowRun | null> {
    return this.run(id);
  }

  private run(id: string): WorkflowRun | null {
    const sql = this.ctx.storage.sql;
    const r = sql
      .exec<{
        id: string;
        template: WorkflowTemplateId;
        status: RunStatus;
        lead: string;
        participants: string;
        started_at: string;
        finished_at: string | null;
        error: string | null;
        trigger: string;
      }>(
        "SELECT id, template, status, lead, participants, started_at, finished_at, error, trigger FROM workflow_runs WHERE id = ?",
        id,
      )
      .toArray()[0];
    if (!r) return null;
    const steps = sql
      .exec<{
        name: string;
        template_step: number;
        status: RunStepStatus;
        agent_id: string;
        message_id: string | null;
        error: string | null;
        started_at: string | null;
        finished_at: string | null;
      }>(
        "SELECT name, template_step, status, agent_id, message_id, error, started_at, finished_at FROM workflow_steps WHERE run_id = ? ORDER BY seq",
        id,
      )
      .toArray();
    return {
      id: r.id,
      template: r.template,
      status: r.status,
      leadAgentId: r.lead,
      participantIds: JSON.parse(r.participants),
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      error: r.error,
      trigger: r.trigger,
      steps: steps.map((s) => ({
        name: s.name,
        templateStep: s.template_step,
        status: s.status,
        agentId: s.agent_id,
        messageId: s.message_id,
        error: s.error,
        startedAt: s.started_at,
        finishedAt: s.finished_at,
      })),
    };
  }

  /** A participant's reply threaded to a waiting step completes that step. */
  private matchWorkflowReply(m: DeliveryRequest): boolean {
    const sql = this.ctx.storage.sql;
    const step = sql
      .exec<{ run_id: string; seq: number }>(
        `SELECT s.run_id, s.seq FROM workflow_steps s JOIN workflow_runs r ON r.id = s.run_id
         WHERE s.status = 'running' AND s.message_id = ? AND s.agent_id = ? AND s.awaits = ? AND r.lead = ? AND r.status = 'running'`,
        m.correlationId,
        m.from,
        m.type,
        m.to,
      )
      .toArray()[0];
    if (!step) return false;
    sql.exec(
      "UPDATE workflow_steps SET status = 'completed', finished_at = ?, response = ? WHERE run_id = ? AND seq = ?",
      new Date().toISOString(),
      JSON.stringify(m.payload ?? null),
      step.run_id,
      step.seq,
    );
    return true;
  }

  /** Moves every running workflow forward: sends the next step's messages, fails steps past their timeout. */
  private async advanceRuns(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const state = this.state();
    if (!state) return;
    const runs = sql
      .exec<{
        id: string;
        template: WorkflowTemplateId;
        lead: string;
        names: string;
        step_index: number;
        timeout_override: number | null;
      }>(
        "SELECT id, template, lead, names, step_index, timeout_override FROM workflow_runs WHERE status = 'running'",
      )
      .toArray();
    for (const run of runs) {
      const template = TEMPLATES[run.template];
      const names: Record<string, string> = JSON.parse(run.names);
      let index = run.step_index;
      for (;;) {
        const step = template.steps[index];
        if (!step) {
          this.finishRun(run.id, "completed", null);
          break;
        }
        const rows = sql
          .exec<{
            seq: number;
            agent_id: string;
            status: RunStepStatus;
            due_at: string | null;
            name: string;
          }>(
            "SELECT seq, agent_id, status, due_at, name FROM workflow_steps WHERE run_id = ? AND template_step = ? ORDER BY seq",
            run.id,
            index,
          )
          .toArray();
        const now = new Date();
        for (const row of rows.filter((r) => r.status === "pending")) {
          await this.sendStep(state.tenantId, run, step, row, names, index);
        }
        for (const row of rows.filter(
          (r) => r.status === "running" && r.due_at && Date.parse(r.due_at) <= now.getTime(),
        )) {
          const seconds = run.timeout_override ?? step.timeoutSeconds;
          sql.exec(
            "UPDATE workflow_steps SET status = 'failed', error = ?, finished_at = ? WHERE run_id = ? AND seq = ?",
            `${names[row.agent_id] ?? row.agent_id} did not answer with ${step.awaits} within ${seconds} s`,
            now.toISOString(),
            run.id,
            row.seq,
          );
        }
        const after = sql
          .exec<{ status: RunStepStatus; error: string | null }>(
            "SELECT status, error FROM workflow_steps WHERE run_id = ? AND template_step = ?",
            run.id,
            index,
          )
          .toArray();
        const failed = after.filter((r) => r.status === "failed");
        if (failed.length) {
          this.finishRun(run.id, "failed", failed.map((f) => f.error).join("; "));
          break;
        }
        if (after.every((r) => r.status === "completed")) {
          index++;
          sql.exec("UPDATE workflow_runs SET step_index = ? WHERE id = ?", index, run.id);
          continue;
        }
        break;
      }
    }
  }

  private async sendStep(
    tenantId: string,
    run: { id: string; lead: string; timeout_override: number | null },
    step: (typeof TEMPLATES)[WorkflowTemplateId]["steps"][number],
    row: { seq: number; agent_id: string },
    names: Record<string, string>,
    index: number,
  ) {
    const sql = this.ctx.storage.sql;
    const summary = sql
      .exec<{ agent_id: string; response: string | null }>(
        "SELECT agent_id, response FROM workflow_steps WHERE run_id = ? AND template_step < ? AND response IS NOT NULL ORDER BY seq",
        run.id,
        index,
      )
      .toArray()
      .map((r) => `- ${names[r.agent_id] ?? r.agent_id}: ${summarize(r.response)}`)
      .join("\n");
    const payload = renderPayload(step.payload, summary || "(no answers)");
    const mailbox = this.env.AGENT_MAILBOX.get(
      this.env.AGENT_MAILBOX.idFromName(mailboxName(tenantId, run.lead)),
    );
    const now = new Date();
    let result: SendResult;
    try {
      result = await mailbox.send(
        { agentId: run.lead, tenantId },
        { to: row.agent_id, type: step.type, payload },
      );
    } catch (err) {
      result = { ok: false, code: "agent_unavailable", message: String(err) };
    }
    const lead = names[run.lead] ?? run.lead;
    const target = names[row.agent_id] ?? row.agent_id;
    if (!result.ok || result.status === "rejected" || result.status === "failed") {
      const why = result.ok ? (result.reason ?? result.status) : result.message;
      sql.exec(
        "UPDATE workflow_steps SET status = 'failed', error = ?, started_at = ?, finished_at = ?, message_id = ? WHERE run_id = ? AND seq = ?",
        `${lead} could not send ${step.type} to ${target}: ${why}`,
        now.toISOString(),
        now.toISOString(),
        result.ok ? result.id : null,
        run.id,
        row.seq,
      );
      return;
    }
    const timeout = run.timeout_override ?? step.timeoutSeconds;
    sql.exec(
      "UPDATE workflow_steps SET status = ?, message_id = ?, started_at = ?, due_at = ?, finished_at = ? WHERE run_id = ? AND seq = ?",
      step.awaits ? "running" : "completed",
      result.id,
      now.toISOString(),
      step.awaits ? new Date(now.getTime() + timeout * 1000).toISOString() : null,
      step.awaits ? null : now.toISOString(),
      run.id,
      row.seq,
    );
  }

  private finishRun(id: string, status: RunStatus, error: string | null) {
    this.ctx.storage.sql.exec(
      "UPDATE workflow_runs SET status = ?, error = ?, finished_at = ? WHERE id = ?",
      status,
      error,
      new Date().toISOString(),
      id,
    );
  }

  // ---- housekeeping: one alarm, backed by due work ----

  private async ensureAlarm() {
    const sql = this.ctx.storage.sql;
    if (!sql.exec("SELECT 1 FROM housekeeping WHERE id = 1").toArray().length) {
      sql.exec("INSERT INTO housekeeping (id, next_prune_at) VALUES (1, ?)", Date.now() + 3600_000);
    }
    await this.scheduleAlarm();
  }

  private async scheduleAlarm() {
    const sql = this.ctx.storage.sql;
    const prune = sql
      .exec<{ at: number }>("SELECT next_prune_at AS at FROM housekeeping WHERE id = 1")
      .toArray()[0]?.at;
    const due = sql
      .exec<{ at: string | null }>(
        "SELECT MIN(due_at) AS at FROM workflow_steps WHERE status = 'running' AND due_at IS NOT NULL",
      )
      .toArray()[0]?.at;
    const times = [prune ?? Number.POSITIVE_INFINITY, due ? Date.parse(due) : Number.POSITIVE_INFINITY];
    const at = Math.min(...times);
    if (Number.isFinite(at)) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    await this.advanceRuns();
    const sql = this.ctx.storage.sql;
    const prune = sql
      .exec<{ at: number }>("SELECT next_prune_at AS at FROM housekeeping WHERE id = 1")
      .toArray()[0]?.at;
    if (prune !== undefined && prune <= Date.now()) {
      const cutoff = new Date(Date.now() - LOG_RETENTION_DAYS * 86_400_000).toISOString();
      sql.exec(
        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE sent_at < ? LIMIT 5000)",
        cutoff,
      );
      sql.exec("UPDATE housekeeping SET next_prune_at = ? WHERE id = 1", Date.now() + 3600_000);
    }
    await this.scheduleAlarm();
  }
}

function summarize(response: string | null): string {
  if (!response) return "";
  try {
    const p: unknown = JSON.parse(response);
    if (p && typeof p === "object") {
      const text = "data" in p ? p.data : "summary" in p ? p.summary : "status" in p ? p.status : p;
      return (typeof text === "string" ? text : JSON.stringify(text)).slice(0, 500);
    }
    return String(p).slice(0, 500);
  } catch {
    return response.slice(0, 500);
  }
}

/** The protocol's own list, so a new message type needs no second edit here. */
function isMessageType(t: string): t is MessageType {
  return (MESSAGE_TYPES as readonly string[]).includes(t);
}

function matches(filters: FeedFilters, event: FeedEvent): boolean {
  if (filters.events?.length && !filters.events.includes(event.event)) return false;
  let from: string | undefined;
  let to: string | undefined;
  let type: MessageType | undefined;
  if (event.event === "message") {
    ({ from, to, type } = event.message);
  } else if (event.event === "message_status") {
    ({ from, to, type } = event);
  } else if (event.event === "config_applied" || event.event === "presence") {
    from = event.agentId;
    to = event.agentId;
  } else {
    return true;
  }
  if (filters.agentIds?.length && !filters.agentIds.some((a) => a === from || a === to)) return false;
  if (filters.types?.length && type && !filters.types.includes(type)) return false;
  return true;
}

function setsFor(agentId: string, edges: readonly AllowlistEdge[]) {
  const outgoing: string[] = [];
  const incoming: string[] = [];
  for (const [a, b] of directedPairs(edges)) {
    if (a === agentId) outgoing.push(b);
    if (b === agentId) incoming.push(a);
  }
  return { outgoing: outgoing.sort(), incoming: incoming.sort() };
}

function sameSets(
  a: { outgoing: string[]; incoming: string[] },
  b: { outgoing: string[]; incoming: string[] },
) {
  return a.outgoing.join(",") === b.outgoing.join(",") && a.incoming.join(",") === b.incoming.join(",");
}
