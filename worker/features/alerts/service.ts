import { and, desc, eq, inArray, isNull, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../../db/client";
import { alerts } from "../../db/schema";
import { conflict, ScopedNotFound } from "../../lib/errors";
import type { AlertSeverity, AlertStatus } from "./rules";

export type AlertRow = typeof alerts.$inferSelect;

const Evidence = z.array(z.string());

export function parseEvidence(text: string): string[] {
  try {
    const parsed = Evidence.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

export function presentAlert(r: AlertRow) {
  return {
    id: r.id,
    tenantId: r.tenantId,
    rule: r.rule,
    severity: r.severity,
    status: r.status,
    title: r.title,
    evidence: parseEvidence(r.evidence),
    count: r.count,
    firstAt: r.firstAt,
    lastAt: r.lastAt,
    acknowledgedBy: r.acknowledgedBy,
    acknowledgedAt: r.acknowledgedAt,
    resolvedBy: r.resolvedBy,
    resolvedAt: r.resolvedAt,
  };
}
export type Alert = ReturnType<typeof presentAlert>;

/** A tenant id, or `null` for platform-level alerts; `undefined` is every alert (operators). */
export type AlertScope = string | null | undefined;

function scopeWhere(scope: AlertScope): SQL | undefined {
  if (scope === undefined) return undefined;
  return scope === null ? isNull(alerts.tenantId) : eq(alerts.tenantId, scope);
}

export async function listAlerts(
  db: Database,
  scope: AlertScope,
  q: { status?: AlertStatus; severity?: AlertSeverity; limit: number },
): Promise<Alert[]> {
  const where: Array<SQL | undefined> = [scopeWhere(scope)];
  if (q.status) where.push(eq(alerts.status, q.status));
  if (q.severity) where.push(eq(alerts.severity, q.severity));
  const rows = await db
    .select()
    .from(alerts)
    .where(and(...where))
    .orderBy(desc(alerts.lastAt), desc(alerts.id))
    .limit(q.limit)
    .all();
  return rows.map(presentAlert);
}

const FROM: Record<"acknowledged" | "resolved", AlertStatus[]> = {
  acknowledged: ["open"],
  resolved: ["open", "acknowledged"],
};

/**
 * open → acknowledged → resolved (an open alert may be resolved directly). 404 for an alert outside
 * the scope (another tenant's answers the same as none), 409 when it is already there or past it.
 */
export async function transitionAlert(
  db: Database,
  scope: AlertScope,
  id: string,
  to: "acknowledged" | "resolved",
  by: string,
): Promise<{ before: Alert; after: Alert }> {
  const current = await db
    .select()
    .from(alerts)
    .where(and(eq(alerts.id, id), scopeWhere(scope)))
    .get();
  if (!current) throw new ScopedNotFound("Alert", "alerts", id);
  const now = new Date().toISOString();
  const set =
    to === "acknowledged"
      ? { status: to, acknowledgedBy: by, acknowledgedAt: now }
      : { status: to, resolvedBy: by, resolvedAt: now };
  const [updated] = await db
    .update(alerts)
    .set(set)
    .where(and(eq(alerts.id, id), inArray(alerts.status, FROM[to])))
    .returning();
  if (!updated) {
    throw conflict(`Alert is already ${current.status}`, "conflict", { status: current.status });
  }
  return { before: presentAlert(current), after: presentAlert(updated) };
}
