import { inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditChainHeads, auditEvents } from "../db/schema";
import { type ChainedContent, chainOf, GENESIS, rowHash } from "../features/audit/chain";
import type { AuditEvent } from "../features/audit/record";

/** D1 binds at most 100 parameters per statement: 18 columns × 5 rows stays under it. */
const ROWS_PER_INSERT = 5;

/**
 * Appends a batch of audit events to their tenants' hash chains. Idempotent: an event id already
 * written is skipped, so a redelivered batch writes nothing twice. Each chain's rows and its new
 * head go in one transaction; a concurrent writer on the same chain collides on (chain, seq) and
 * the whole batch is retried by the queue, never forking the chain.
 */
export async function writeAuditEvents(db: Database, events: AuditEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const unique = [...new Map(events.map((e) => [e.id, e])).values()];
  const existing = new Set<string>();
  for (let i = 0; i < unique.length; i += 90) {
    const ids = unique.slice(i, i + 90).map((e) => e.id);
    for (const r of await db
      .select({ id: auditEvents.id })
      .from(auditEvents)
      .where(inArray(auditEvents.id, ids))
      .all()) {
      existing.add(r.id);
    }
  }
  const fresh = unique.filter((e) => !existing.has(e.id));
  const byChain = new Map<string, AuditEvent[]>();
  for (const e of fresh) {
    const chain = chainOf(e.tenantId);
    const list = byChain.get(chain) ?? [];
    list.push(e);
    byChain.set(chain, list);
  }
  let written = 0;
  for (const [chain, list] of byChain) {
    list.sort((a, b) => (a.at === b.at ? (a.id < b.id ? -1 : 1) : a.at < b.at ? -1 : 1));
    const head = await chainHead(db, chain);
    let seq = head.seq;
    let prev = head.hash;
    const rows: Array<typeof auditEvents.$inferInsert> = [];
    for (const e of list) {
      seq += 1;
      const content: ChainedContent = {
        id: e.id,
        tenantId: e.tenantId,
        chain,
        seq,
        actorType: e.actorType,
        actorId: e.actorId,
        actorName: e.actorName,
        action: e.action,
        targetType: e.targetType,
        targetId: e.targetId,
        severity: e.severity,
        details: e.details === null || e.details === undefined ? null : JSON.stringify(e.details),
        ip: e.ip,
        userAgent: e.userAgent,
        requestId: e.requestId,
        at: e.at,
      };
      const hash = await rowHash(prev, content);
      rows.push({ ...content, prevHash: prev, hash });
      prev = hash;
    }
    const statements = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      statements.push(db.insert(auditEvents).values(rows.slice(i, i + ROWS_PER_INSERT)));
    }
    const now = new Date().toISOString();
    const headWrite = db
      .insert(auditChainHeads)
      .values({ chain, seq, hash: prev, updatedAt: now })
      .onConflictDoUpdate({ target: auditChainHeads.chain, set: { seq, hash: prev, updatedAt: now } });
    const [first, ...rest] = statements;
    if (first) await db.batch([first, ...rest, headWrite]);
    written += rows.length;
  }
  return written;
}

/** The newest row of a chain; a chain written before the heads table existed starts after its last seq. */
export async function chainHead(db: Database, chain: string): Promise<{ seq: number; hash: string }> {
  const head = await db
    .select({ seq: auditChainHeads.seq, hash: auditChainHeads.hash })
    .from(auditChainHeads)
    .where(sql`${auditChainHeads.chain} = ${chain}`)
    .get();
  if (head) return head;
  const legacy = await db
    .select({ seq: sql<number>`COALESCE(MAX(${auditEvents.seq}), 0)` })
    .from(auditEvents)
    .where(sql`${auditEvents.chain} = ${chain}`)
    .get();
  return { seq: legacy?.seq ?? 0, hash: GENESIS };
}
