import { and, desc, eq, gte, like, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { auditArchives, auditChainHeads, auditEvents } from "../../db/schema";
import { validationFailed } from "../../lib/errors";
import { GENESIS, rowHash } from "./chain";

export interface AuditQuery {
  actorId?: string;
  actorType?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  severity?: string;
  from?: string;
  to?: string;
  q?: string;
  cursor?: string;
  limit: number;
}

type Row = typeof auditEvents.$inferSelect;

export function presentAudit(r: Row) {
  let details: unknown = null;
  if (r.details) {
    try {
      details = JSON.parse(r.details);
    } catch {
      details = r.details;
    }
  }
  return {
    id: r.id,
    tenantId: r.tenantId,
    seq: r.seq,
    actor: { type: r.actorType, id: r.actorId, name: r.actorName },
    action: r.action,
    target: r.targetType ? { type: r.targetType, id: r.targetId } : null,
    severity: r.severity,
    details,
    ip: r.ip,
    userAgent: r.userAgent,
    requestId: r.requestId,
    at: r.at,
    hash: r.hash,
  };
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|(aud_[a-z0-9_]+)$/;

/** Cursors are opaque but checked: a forged or mangled one is a 400, never a way around the tenant scope. */
function decodeCursor(cursor: string): [string, string] {
  let text = "";
  try {
    text = atob(cursor);
  } catch {
    throw validationFailed({ "query.cursor": ["Invalid cursor"] });
  }
  const m = CURSOR.exec(text);
  if (!m?.[1] || !m[2]) throw validationFailed({ "query.cursor": ["Invalid cursor"] });
  return [m[1], m[2]];
}

function escapeLike(s: string) {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `scope` is a tenant id, or null for the operator's view of every tenant (then `tenantId` filters). */
export function auditFilters(
  scope: string | null | undefined,
  q: Omit<AuditQuery, "limit" | "cursor">,
  tenantFilter?: string,
): SQL[] {
  const where: SQL[] = [];
  if (scope !== null && scope !== undefined) where.push(eq(auditEvents.tenantId, scope));
  else if (tenantFilter) where.push(eq(auditEvents.tenantId, tenantFilter));
  if (q.actorId) where.push(eq(auditEvents.actorId, q.actorId));
  if (q.actorType) where.push(eq(auditEvents.actorType, q.actorType));
  if (q.action) where.push(eq(auditEvents.action, q.action));
  if (q.targetType) where.push(eq(auditEvents.targetType, q.targetType));
  if (q.targetId) where.push(eq(auditEvents.targetId, q.targetId));
  if (q.severity) where.push(eq(auditEvents.severity, q.severity));
  if (q.from) where.push(gte(auditEvents.at, q.from));
  if (q.to) where.push(lte(auditEvents.at, q.to));
  if (q.q) {
    const p = `%${escapeLike(q.q)}%`;
    const text = or(
      sql`${auditEvents.action} LIKE ${p} ESCAPE '\\'`,
      sql`${auditEvents.actorName} LIKE ${p} ESCAPE '\\'`,
      sql`${auditEvents.targetId} LIKE ${p} ESCAPE '\\'`,
      sql`${auditEvents.details} LIKE ${p} ESCAPE '\\'`,
      eq(auditEvents.requestId, q.q),
    );
    if (text) where.push(text);
  }
  return where;
}

export async function listAudit(db: Database, scope: string | null, q: AuditQuery, tenantFilter?: string) {
  const where = auditFilters(scope, q, tenantFilter);
  if (q.cursor) {
    const [at, id] = decodeCursor(q.cursor);
    const after = or(lt(auditEvents.at, at), and(eq(auditEvents.at, at), lt(auditEvents.id, id)));
    if (after) where.push(after);
  }
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(presentAudit),
    nextCursor: rows.length > q.limit && last ? btoa(`${last.at}|${last.id}`) : null,
  };
}

export async function distinctActions(db: Database, scope: string | null) {
  const rows = await db
    .selectDistinct({ action: auditEvents.action })
    .from(auditEvents)
    .where(scope ? eq(auditEvents.tenantId, scope) : undefined)
    .orderBy(auditEvents.action)
    .limit(500)
    .all();
  return rows.map((r) => r.action);
}

export interface VerifyResult {
  valid: boolean;
  checked: number;
  firstBrokenId: string | null;
  reason: string | null;
}

const VERIFY_PAGE = 1000;

/**
 * Walks a chain in seq order, recomputing every hash. Names the first row that was changed (its
 * hash no longer matches), inserted or re-ordered (its prev_hash is not the previous row's hash), or
 * removed (a gap in seq, or the head no longer matches the last row).
 */
export async function verifyChain(db: Database, chain: string): Promise<VerifyResult> {
  let checked = 0;
  let prev: { seq: number; hash: string } | null = null;
  let afterSeq = -1;
  let legacyBefore = -1;
  for (;;) {
    const rows = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.chain, chain), sql`${auditEvents.seq} > ${afterSeq}`))
      .orderBy(auditEvents.seq)
      .limit(VERIFY_PAGE)
      .all();
    for (const r of rows) {
      // Rows written before the chain existed carry no hash; the chain begins after them.
      if (!r.hash) {
        afterSeq = r.seq;
        legacyBefore = r.seq;
        continue;
      }
      if (!prev && r.seq > 1 && legacyBefore !== r.seq - 1) {
        // Older rows were archived: the chain must continue exactly from the last archived row.
        const archive = await db
          .select()
          .from(auditArchives)
          .where(and(eq(auditArchives.tenantId, chain), eq(auditArchives.lastSeq, r.seq - 1)))
          .get();
        if (!archive)
          return broken(checked, r.id, `row(s) missing before seq ${r.seq} and not in any archive`);
        if (archive.chainHash !== r.prevHash)
          return broken(checked, r.id, "does not continue the archived chain");
      }
      if (prev && r.seq !== prev.seq + 1) {
        return broken(checked, r.id, `row(s) missing before seq ${r.seq}`);
      }
      if (prev && r.prevHash !== prev.hash) return broken(checked, r.id, "previous-hash link does not match");
      if (!prev && r.prevHash !== GENESIS && checked === 0 && r.seq === 1) {
        return broken(checked, r.id, "first row does not start from the genesis hash");
      }
      const expected = await rowHash(r.prevHash, {
        id: r.id,
        tenantId: r.tenantId,
        chain: r.chain,
        seq: r.seq,
        actorType: r.actorType,
        actorId: r.actorId,
        actorName: r.actorName,
        action: r.action,
        targetType: r.targetType,
        targetId: r.targetId,
        severity: r.severity,
        details: r.details,
        ip: r.ip,
        userAgent: r.userAgent,
        requestId: r.requestId,
        at: r.at,
      });
      if (expected !== r.hash) return broken(checked, r.id, "content does not match its hash");
      prev = { seq: r.seq, hash: r.hash };
      afterSeq = r.seq;
      checked++;
    }
    if (rows.length < VERIFY_PAGE) break;
  }
  const head = await db.select().from(auditChainHeads).where(eq(auditChainHeads.chain, chain)).get();
  if (head && prev && (head.seq !== prev.seq || head.hash !== prev.hash)) {
    return broken(checked, null, `the newest ${head.seq - prev.seq} row(s) were removed`);
  }
  if (head && !prev && checked === 0) return broken(0, null, "every row of the chain was removed");
  return { valid: true, checked, firstBrokenId: null, reason: null };
}

function broken(checked: number, id: string | null, reason: string): VerifyResult {
  return { valid: false, checked, firstBrokenId: id, reason };
}

// ---- export ----

export const EXPORT_LIMIT = 10_000;
const EXPORT_PAGE = 500;
const CSV_COLUMNS = [
  "id",
  "at",
  "tenantId",
  "seq",
  "actorType",
  "actorId",
  "actorName",
  "action",
  "targetType",
  "targetId",
  "severity",
  "ip",
  "userAgent",
  "requestId",
  "details",
  "hash",
] as const;

/** RFC 4180 quoting, with formula injection neutralised: a cell starting with = + - @ or a control character gets a leading '. */
export function csvCell(value: unknown): string {
  let s =
    value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Streams up to 10,000 rows, a page at a time, so memory stays flat whatever the filter matches. */
export function exportStream(
  db: Database,
  scope: string | null,
  q: Omit<AuditQuery, "cursor" | "limit">,
  format: "csv" | "json",
  tenantFilter?: string,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let sent = 0;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(format === "csv" ? `${CSV_COLUMNS.join(",")}\r\n` : "["));
      }
      const limit = Math.min(EXPORT_PAGE, EXPORT_LIMIT - sent);
      const page =
        limit > 0
          ? await listAudit(db, scope, { ...q, limit, ...(cursor ? { cursor } : {}) }, tenantFilter)
          : null;
      if (page) {
        let chunk = "";
        for (const e of page.data) {
          if (format === "csv") {
            const flat: Record<(typeof CSV_COLUMNS)[number], unknown> = {
              id: e.id,
              at: e.at,
              tenantId: e.tenantId,
              seq: e.seq,
              actorType: e.actor.type,
              actorId: e.actor.id,
              actorName: e.actor.name,
              action: e.action,
              targetType: e.target?.type ?? null,
              targetId: e.target?.id ?? null,
              severity: e.severity,
              ip: e.ip,
              userAgent: e.userAgent,
              requestId: e.requestId,
              details: e.details,
              hash: e.hash,
            };
            chunk += `${CSV_COLUMNS.map((c) => csvCell(flat[c])).join(",")}\r\n`;
          } else {
            chunk += `${sent > 0 ? "," : ""}${JSON.stringify(e)}`;
          }
          sent++;
        }
        if (chunk) controller.enqueue(encoder.encode(chunk));
        cursor = page.nextCursor ?? undefined;
      }
      if (!page || !cursor || sent >= EXPORT_LIMIT) {
        if (format === "json") controller.enqueue(encoder.encode("]"));
        controller.close();
      }
    },
  });
}
