import { and, asc, eq, gte, isNull, lte, type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { alerts, auditEvents } from "../../db/schema";
import { newId } from "../../lib/ids";
import type { AuditEvent } from "../audit/record";
import { announceAlert } from "./notify";
import {
  type AlertRule,
  dedupeKey,
  rulesFor,
  SUPPRESS_SECONDS,
  subjectOf,
  titleOf,
  UNKNOWN_SUBJECT,
} from "./rules";
import { type AlertRow, parseEvidence, presentAlert } from "./service";

/**
 * Evidence kept per alert. Past it, `count` still grows; an event is then known as counted when it
 * falls between the alert's first and last event (events of one subject arrive in order).
 */
export const MAX_EVIDENCE = 200;
/** Rows read per window: a threshold rule only needs to know the threshold is reached. */
const WINDOW_ROWS = 2000;

export interface AlertChange {
  change: "raised" | "updated";
  alert: AlertRow;
}

interface Group {
  rule: AlertRule;
  tenantId: string | null;
  subject: string;
  events: AuditEvent[];
}

interface State {
  row: AlertRow;
  evidence: string[];
  isNew: boolean;
  changed: boolean;
  /** The count read from D1, for the optimistic update. */
  readCount: number;
}

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/**
 * Runs the alert rules over a batch of audit events that `writeAuditEvents` has just stored.
 * Idempotent: an event already in an alert's evidence is skipped, so a redelivered batch raises
 * nothing twice. A repeat of an alert's subject within 15 minutes of its last event (and while it
 * is not resolved) updates that alert's count, last_at and evidence instead of raising another.
 */
export async function evaluateAlerts(db: Database, events: AuditEvent[]): Promise<AlertChange[]> {
  const groups = new Map<string, Group>();
  for (const e of events) {
    for (const rule of rulesFor(e.action)) {
      const subject = subjectOf(rule, e);
      const key = `${e.tenantId ?? ""}\u0000${dedupeKey(rule, subject)}`;
      const group = groups.get(key) ?? { rule, tenantId: e.tenantId, subject, events: [] };
      group.events.push(e);
      groups.set(key, group);
    }
  }
  const changes: AlertChange[] = [];
  for (const group of groups.values()) changes.push(...(await evaluateGroup(db, group)));
  return changes;
}

async function evaluateGroup(db: Database, g: Group): Promise<AlertChange[]> {
  const { rule } = g;
  const key = dedupeKey(rule, g.subject);
  const batch = [...new Map(g.events.map((e) => [e.id, e])).values()].sort((a, b) =>
    a.at === b.at ? (a.id < b.id ? -1 : 1) : ms(a.at) - ms(b.at),
  );
  const first = batch[0];
  const last = batch[batch.length - 1];
  if (!first || !last) return [];
  const windowMs = rule.windowSeconds * 1000;
  const suppressMs = SUPPRESS_SECONDS * 1000;

  const tenantIs = (column: typeof alerts.tenantId | typeof auditEvents.tenantId) =>
    g.tenantId === null ? isNull(column) : eq(column, g.tenantId);
  // Any alert that holds one of these events, or one of their window, or may absorb them.
  const horizon = iso(ms(first.at) - Math.max(windowMs, suppressMs));
  const existing = await db
    .select()
    .from(alerts)
    .where(and(tenantIs(alerts.tenantId), eq(alerts.dedupeKey, key), gte(alerts.lastAt, horizon)))
    .orderBy(asc(alerts.firstAt))
    .all();
  const states: State[] = existing.map((row) => ({
    row: { ...row },
    evidence: parseEvidence(row.evidence),
    isNew: false,
    changed: false,
    readCount: row.count,
  }));

  let window: Array<{ id: string; at: string }> = batch;
  if (rule.threshold > 1) {
    const where: SQL[] = [
      eq(auditEvents.action, rule.action),
      tenantIs(auditEvents.tenantId),
      gte(auditEvents.at, iso(ms(first.at) - windowMs)),
      lte(auditEvents.at, last.at),
    ];
    const subject = g.subject === UNKNOWN_SUBJECT ? null : g.subject;
    if (rule.subject.from === "details") {
      where.push(sql`json_extract(${auditEvents.details}, ${`$.${rule.subject.key}`}) IS ${subject}`);
    } else if (rule.subject.from === "actor") {
      where.push(sql`${auditEvents.actorId} IS ${subject}`);
    }
    window = await db
      .select({ id: auditEvents.id, at: auditEvents.at })
      .from(auditEvents)
      .where(and(...where))
      .orderBy(asc(auditEvents.at), asc(auditEvents.id))
      .limit(WINDOW_ROWS)
      .all();
  }

  const counted = (id: string, at: string) =>
    states.some(
      (s) =>
        s.evidence.includes(id) ||
        (s.row.count > s.evidence.length && at >= s.row.firstAt && at <= s.row.lastAt),
    );

  for (const e of batch) {
    if (counted(e.id, e.at)) continue;
    const absorbing = states.findLast(
      (s) => s.row.status !== "resolved" && Math.abs(ms(e.at) - ms(s.row.lastAt)) <= suppressMs,
    );
    if (absorbing) {
      if (absorbing.evidence.length < MAX_EVIDENCE) absorbing.evidence.push(e.id);
      absorbing.row.count += 1;
      if (e.at > absorbing.row.lastAt) absorbing.row.lastAt = e.at;
      if (e.at < absorbing.row.firstAt) absorbing.row.firstAt = e.at;
      absorbing.changed = true;
      continue;
    }
    const from = ms(e.at) - windowMs;
    const fresh =
      rule.threshold <= 1
        ? [e]
        : window.filter((w) => ms(w.at) >= from && ms(w.at) <= ms(e.at) && !counted(w.id, w.at));
    if (fresh.length < rule.threshold) continue;
    const firstFresh = fresh[0] ?? e;
    states.push({
      row: {
        id: newId("alr"),
        tenantId: g.tenantId,
        rule: rule.id,
        severity: rule.severity,
        status: "open",
        title: titleOf(rule, g.subject, e),
        evidence: "[]",
        count: fresh.length,
        dedupeKey: key,
        firstAt: firstFresh.at,
        lastAt: e.at,
        acknowledgedBy: null,
        acknowledgedAt: null,
        resolvedBy: null,
        resolvedAt: null,
      },
      evidence: fresh.slice(0, MAX_EVIDENCE).map((w) => w.id),
      isNew: true,
      changed: true,
      readCount: 0,
    });
  }

  const touched = states.filter((s) => s.changed);
  if (touched.length === 0) return [];
  for (const s of touched) s.row.evidence = JSON.stringify(s.evidence);
  const writes = touched.map((s) =>
    s.isNew
      ? db.insert(alerts).values(s.row)
      : db
          .update(alerts)
          .set({ count: s.row.count, lastAt: s.row.lastAt, firstAt: s.row.firstAt, evidence: s.row.evidence })
          // Optimistic: a concurrent consumer that counted first makes this batch retry.
          .where(and(eq(alerts.id, s.row.id), eq(alerts.count, s.readCount))),
  );
  const [head, ...rest] = writes;
  if (!head) return [];
  const results = await db.batch([head, ...rest]);
  touched.forEach((s, i) => {
    const r = results[i];
    if (!s.isNew && r && "meta" in r && r.meta.changes !== 1) {
      throw new Error(`alert ${s.row.id} changed concurrently; the batch will be retried`);
    }
  });
  return touched.map((s) => ({ change: s.isNew ? "raised" : "updated", alert: s.row }));
}

/** The hook in the audit consumer: evaluate the batch, then announce what was raised or updated. */
export async function runAlertRules(db: Database, env: Env, events: AuditEvent[]): Promise<AlertChange[]> {
  const changes = await evaluateAlerts(db, events);
  for (const c of changes) await announceAlert(db, env, c.change, presentAlert(c.alert));
  return changes;
}
