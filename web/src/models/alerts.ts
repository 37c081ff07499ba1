import { signal } from "@preact/signals";
import { api } from "../api";
import type { ListOf } from "../types";
import { onSessionReset } from "./session";

/** Mirrors `AlertSchema` in worker/features/alerts/routes.ts. */
export const ALERT_SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const ALERT_STATUSES = ["open", "acknowledged", "resolved"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export interface Alert {
  id: string;
  tenantId: string | null;
  rule: string;
  severity: string;
  status: string;
  title: string;
  evidence: string[];
  count: number;
  firstAt: string;
  lastAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
}

export interface AlertFilters {
  status: AlertStatus | "";
  severity: AlertSeverity | "";
  /** Operator only: a tenant id, "platform", or "" for all. */
  tenantId?: string;
}

/** Where an alert list lives: the tenant's own, or the operator's view of every tenant. */
export interface AlertScope {
  base: "/api/dashboard/alerts" | "/api/admin/alerts";
}
export const TENANT_ALERTS: AlertScope = { base: "/api/dashboard/alerts" };
export const ADMIN_ALERTS: AlertScope = { base: "/api/admin/alerts" };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
const str = (v: unknown): v is string => typeof v === "string";
const strOrNull = (v: unknown): string | null => (str(v) ? v : null);

/** An alert from a live-feed frame, or null when it is not one. */
export function parseAlert(v: unknown): Alert | null {
  if (!isRecord(v)) return null;
  const { id, rule, severity, status, title, firstAt, lastAt } = v;
  if (!str(id) || !str(rule) || !str(severity) || !str(status) || !str(title)) return null;
  if (!str(firstAt) || !str(lastAt)) return null;
  return {
    id,
    tenantId: strOrNull(v.tenantId),
    rule,
    severity,
    status,
    title,
    evidence: Array.isArray(v.evidence) ? v.evidence.filter(str) : [],
    count: typeof v.count === "number" ? v.count : 1,
    firstAt,
    lastAt,
    acknowledgedBy: strOrNull(v.acknowledgedBy),
    acknowledgedAt: strOrNull(v.acknowledgedAt),
    resolvedBy: strOrNull(v.resolvedBy),
    resolvedAt: strOrNull(v.resolvedAt),
  };
}

export function matchesFilters(a: Alert, f: AlertFilters): boolean {
  if (f.status && a.status !== f.status) return false;
  if (f.severity && a.severity !== f.severity) return false;
  return true;
}

export function listAlerts(scope: AlertScope, f: AlertFilters, signal?: AbortSignal): Promise<ListOf<Alert>> {
  return api.get<ListOf<Alert>>(
    scope.base,
    { status: f.status, severity: f.severity, tenantId: f.tenantId, limit: 200 },
    signal,
  );
}

export async function transitionAlert(
  scope: AlertScope,
  id: string,
  to: "acknowledge" | "resolve",
): Promise<Alert> {
  const res = await api.post<{ alert: Alert }>(`${scope.base}/${encodeURIComponent(id)}/${to}`);
  if (scope === TENANT_ALERTS) void loadOpenAlertCount();
  return res.alert;
}

/** Open alerts of the tenant, for the nav badge; null until known (or when it cannot be read). */
export const openAlertCount = signal<number | null>(null);

export async function loadOpenAlertCount(): Promise<void> {
  try {
    const res = await listAlerts(TENANT_ALERTS, { status: "open", severity: "" });
    openAlertCount.value = res.data.length;
  } catch {
    openAlertCount.value = null;
  }
}

onSessionReset(() => {
  openAlertCount.value = null;
});
