import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, errorMessage } from "../api";
import { SelectField } from "../components/field";
import { IconChevronDown, IconChevronRight, IconRefresh } from "../components/icons";
import {
  Badge,
  Card,
  EmptyState,
  ErrorBanner,
  PageHeader,
  SkeletonRows,
  TableMessage,
  type Tone,
} from "../components/ui";
import { dateTime, humanize, relative } from "../format";
import {
  ADMIN_ALERTS,
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  type Alert,
  type AlertFilters,
  type AlertScope,
  type AlertSeverity,
  type AlertStatus,
  listAlerts,
  loadOpenAlertCount,
  matchesFilters,
  openAlertCount,
  parseAlert,
  TENANT_ALERTS,
  transitionAlert,
} from "../models/alerts";
import { useFeed } from "../models/feed";
import { canWrite } from "../models/session";
import { Link } from "../router";
import type { Page, Tenant } from "../types";

const SEVERITY_TONES: Record<string, Tone> = {
  low: "neutral",
  medium: "info",
  high: "warning",
  critical: "danger",
};
const STATUS_TONES: Record<string, Tone> = { open: "danger", acknowledged: "warning", resolved: "success" };
const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

const STATUS_OPTIONS: ReadonlyArray<{ value: AlertStatus | ""; label: string }> = [
  { value: "", label: "All statuses" },
  ...ALERT_STATUSES.map((s) => ({ value: s, label: humanize(s) })),
];
const SEVERITY_OPTIONS: ReadonlyArray<{ value: AlertSeverity | ""; label: string }> = [
  { value: "", label: "All severities" },
  ...ALERT_SEVERITIES.map((s) => ({ value: s, label: humanize(s) })),
];

/** Newest activity first, as the API sorts them. */
function byLastSeen(a: Alert, b: Alert): number {
  return (
    b.lastAt.localeCompare(a.lastAt) || (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9)
  );
}

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge tone={SEVERITY_TONES[severity] ?? "neutral"} data-testid="alert-severity">
      {humanize(severity)}
    </Badge>
  );
}

function AlertStatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={STATUS_TONES[status] ?? "neutral"}>
      <span class="badge-dot" aria-hidden="true" />
      {humanize(status)}
    </Badge>
  );
}

/** `/alerts`: the tenant's security alerts, updated live from the feed. */
export function AlertsPage() {
  return <AlertsView scope={TENANT_ALERTS} operator={false} />;
}

/** `/admin/alerts`: every tenant's alerts and the platform-level ones. */
export function AdminAlertsPage() {
  return <AlertsView scope={ADMIN_ALERTS} operator />;
}

function AlertsView({ scope, operator }: { scope: AlertScope; operator: boolean }) {
  const status = useSignal<AlertStatus | "">("");
  const severity = useSignal<AlertSeverity | "">("");
  const tenant = useSignal("");
  const rows = useSignal<Alert[] | null>(null);
  const loading = useSignal(false);
  const loadError = useSignal<unknown>(null);
  const fresh = useSignal<ReadonlySet<string>>(new Set());
  const controller = useRef<AbortController | null>(null);

  const filters = (): AlertFilters => ({
    status: status.value,
    severity: severity.value,
    ...(operator ? { tenantId: tenant.value } : {}),
  });

  async function load() {
    controller.current?.abort();
    const mine = new AbortController();
    controller.current = mine;
    loading.value = true;
    loadError.value = null;
    try {
      const res = await listAlerts(scope, filters(), mine.signal);
      if (controller.current !== mine) return;
      rows.value = res.data;
      if (!operator && status.value === "open" && !severity.value) openAlertCount.value = res.data.length;
    } catch (e) {
      if (controller.current === mine && !mine.signal.aborted) loadError.value = e;
    } finally {
      if (controller.current === mine) {
        loading.value = false;
        controller.current = null;
      }
    }
  }

  useEffect(() => {
    void load();
    return () => controller.current?.abort();
  }, [status.value, severity.value, tenant.value]);

  function flash(id: string) {
    fresh.value = new Set([...fresh.value, id]);
    setTimeout(() => {
      const next = new Set(fresh.value);
      next.delete(id);
      fresh.value = next;
    }, 2500);
  }

  /** Puts a changed alert in place (or drops it when it no longer matches the filters). */
  function upsert(a: Alert, highlight: boolean) {
    const current = rows.value ?? [];
    const others = current.filter((r) => r.id !== a.id);
    rows.value = matchesFilters(a, filters()) ? [a, ...others].sort(byLastSeen) : others;
    if (highlight) flash(a.id);
  }

  function onLive(a: Alert) {
    upsert(a, true);
    void loadOpenAlertCount();
  }

  const list = rows.value;
  const writable = canWrite.value;
  const cols = operator ? 9 : 8;
  const filtered = !!(status.value || severity.value || tenant.value);

  return (
    <>
      <PageHeader
        title="Alerts"
        subtitle={
          operator
            ? "Security alerts raised across every tenant and on the platform itself."
            : "Security alerts raised from this workspace's audit log. New alerts appear here live."
        }
        actions={
          <button type="button" class="btn" onClick={() => void load()} disabled={loading.value}>
            <IconRefresh /> Refresh
          </button>
        }
      />
      {!operator && <AlertFeed onAlert={onLive} />}
      <Card class="card-flush">
        <div class="toolbar alerts-toolbar">
          <SelectField id="alert-status" label="Status" value={status} options={STATUS_OPTIONS} />
          <SelectField id="alert-severity" label="Severity" value={severity} options={SEVERITY_OPTIONS} />
          {operator && <TenantFilter value={tenant.value} onChange={(v) => (tenant.value = v)} />}
        </div>
        <ErrorBanner error={loadError.value} onRetry={() => void load()} />
        <div class="table-wrap">
          <table class={`table${loading.value && list ? " is-stale" : ""}`} data-testid="alerts-table">
            <thead>
              <tr>
                <th scope="col">
                  <span class="visually-hidden">Evidence</span>
                </th>
                <th scope="col">Severity</th>
                <th scope="col">Alert</th>
                {operator && <th scope="col">Tenant</th>}
                <th scope="col" class="num">
                  Count
                </th>
                <th scope="col">First seen</th>
                <th scope="col">Last seen</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {!list && loading.value && <SkeletonRows cols={cols} rows={3} />}
              {list && list.length === 0 && (
                <TableMessage cols={cols}>
                  <EmptyState title="No alerts — all quiet">
                    {filtered
                      ? "Nothing matches these filters."
                      : "Alerts appear here when the audit log shows something worth a look."}
                  </EmptyState>
                </TableMessage>
              )}
              {list?.map((a) => (
                <AlertRow
                  key={a.id}
                  alert={a}
                  scope={scope}
                  operator={operator}
                  canAct={operator || writable}
                  fresh={fresh.value.has(a.id)}
                  cols={cols}
                  onChanged={(next) => upsert(next, false)}
                />
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  );
}

/** The tenant's live feed, for alert frames (operators have no feed: they refresh by hand). */
function AlertFeed({ onAlert }: { onAlert: (a: Alert) => void }) {
  useFeed((e) => {
    if (e.event !== "alert") return;
    const a = parseAlert(e.alert);
    if (a) onAlert(a);
  });
  return null;
}

function TenantFilter({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const tenants = useSignal<Tenant[]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    api
      .get<Page<Tenant>>("/api/admin/tenants", { limit: 100 }, ctl.signal)
      .then((res) => {
        tenants.value = res.data;
      })
      .catch(() => {
        // The filter still offers "All" and "Platform".
      });
    return () => ctl.abort();
  }, []);
  return (
    <div class="field">
      <label for="alert-tenant" class="field-label">
        Tenant
      </label>
      <select
        id="alert-tenant"
        name="alert-tenant"
        class="input"
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
      >
        <option value="">All tenants</option>
        <option value="platform">Platform</option>
        {tenants.value.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
        {value && value !== "platform" && !tenants.value.some((t) => t.id === value) && (
          <option value={value}>{value}</option>
        )}
      </select>
    </div>
  );
}

function AlertRow({
  alert: a,
  scope,
  operator,
  canAct,
  fresh,
  cols,
  onChanged,
}: {
  alert: Alert;
  scope: AlertScope;
  operator: boolean;
  canAct: boolean;
  fresh: boolean;
  cols: number;
  onChanged: (a: Alert) => void;
}) {
  const open = useSignal(false);
  const busy = useSignal<"acknowledge" | "resolve" | null>(null);
  const error = useSignal<string | null>(null);

  async function act(to: "acknowledge" | "resolve") {
    busy.value = to;
    error.value = null;
    try {
      onChanged(await transitionAlert(scope, a.id, to));
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      busy.value = null;
    }
  }

  const evidenceId = `alert-evidence-${a.id}`;
  return (
    <>
      <tr data-testid={`alert-row-${a.id}`} data-status={a.status} class={fresh ? "row-fresh" : undefined}>
        <td>
          <button
            type="button"
            class="btn btn-sm btn-ghost"
            aria-expanded={open.value}
            aria-controls={evidenceId}
            aria-label={`${open.value ? "Hide" : "Show"} evidence for ${a.title}`}
            onClick={() => {
              open.value = !open.value;
            }}
          >
            {open.value ? <IconChevronDown /> : <IconChevronRight />}
          </button>
        </td>
        <td>
          <SeverityBadge severity={a.severity} />
        </td>
        <td>
          <div class="link-strong">{a.title}</div>
          <div class="muted small mono">{a.rule}</div>
        </td>
        {operator && (
          <td>
            {a.tenantId ? (
              <Link href={`/admin/tenants/${encodeURIComponent(a.tenantId)}`}>{a.tenantId}</Link>
            ) : (
              <span class="muted">Platform</span>
            )}
          </td>
        )}
        <td class="num">{a.count}</td>
        <td class="muted" title={dateTime(a.firstAt)}>
          {relative(a.firstAt)}
        </td>
        <td class="muted" title={dateTime(a.lastAt)}>
          {relative(a.lastAt)}
        </td>
        <td>
          <AlertStatusBadge status={a.status} />
        </td>
        <td class="cell-actions">
          {canAct && a.status === "open" && (
            <button
              type="button"
              class="btn btn-sm"
              data-testid={`alert-ack-${a.id}`}
              disabled={busy.value !== null}
              aria-busy={busy.value === "acknowledge"}
              onClick={() => void act("acknowledge")}
            >
              {busy.value === "acknowledge" ? "Acknowledging…" : "Acknowledge"}
            </button>
          )}
          {canAct && a.status !== "resolved" && (
            <button
              type="button"
              class="btn btn-sm"
              data-testid={`alert-resolve-${a.id}`}
              disabled={busy.value !== null}
              aria-busy={busy.value === "resolve"}
              onClick={() => void act("resolve")}
            >
              {busy.value === "resolve" ? "Resolving…" : "Resolve"}
            </button>
          )}
          {error.value && (
            <div class="text-danger small" role="alert" data-testid={`alert-error-${a.id}`}>
              {error.value}
            </div>
          )}
        </td>
      </tr>
      {open.value && (
        <tr id={evidenceId} data-testid={`alert-evidence-${a.id}`}>
          <td colSpan={cols}>
            <div class="alert-evidence">
              <strong>Evidence</strong>
              {a.evidence.length === 0 ? (
                <span class="muted"> No audit events recorded.</span>
              ) : (
                <ul class="alert-evidence-list">
                  {a.evidence.map((id) => (
                    <li key={id}>
                      <Link
                        class="mono"
                        href={`${operator ? "/admin/audit" : "/audit"}?q=${encodeURIComponent(id)}`}
                      >
                        {id}
                      </Link>
                    </li>
                  ))}
                </ul>
              )}
              <div class="muted small">
                {a.acknowledgedAt &&
                  `Acknowledged by ${a.acknowledgedBy ?? "someone"} ${relative(a.acknowledgedAt)}. `}
                {a.resolvedAt && `Resolved by ${a.resolvedBy ?? "someone"} ${relative(a.resolvedAt)}.`}
              </div>
            </div>
          </td>
        </tr>
      )}
    </>
  );
}
