import type { JSX, SVGAttributes } from "preact";
import { Fragment } from "preact";
import { useEffect } from "preact/hooks";
import { errorMessage } from "../api";
import { clock, count, dateTime, relative } from "../format";
import {
  ACTOR_TYPE_LABELS,
  ACTOR_TYPES,
  AUDIT_EXPORT_MAX,
  type AuditActorType,
  type AuditEvent,
  type AuditFilters,
  type AuditLog,
  auditActorText,
  auditFilterKey,
  auditFiltersFromSearch,
  auditTenants,
  ensureAuditTenants,
  hasAuditFilters,
  isSeverity,
  SEVERITY_LABELS,
} from "../models/audit";
import { Link, searchParams } from "../router";
import { AuditDetail } from "./audit-detail";
import { AuditFilterBar, clearAuditFilters } from "./audit-filters";
import { IconAlert, IconBot, IconCheck, IconChevronRight, IconDownload, IconServer, IconUser } from "./icons";
import { BusyButton, Card, EmptyState, ErrorBanner, PageHeader, SkeletonRows, TableMessage } from "./ui";

const ACTOR_ICONS: Record<AuditActorType, (p: SVGAttributes<SVGSVGElement>) => JSX.Element> = {
  user: IconUser,
  agent: IconBot,
  system: IconServer,
};

/**
 * The audit log, for a tenant's own dashboard (`/audit`) or the operator's (`/admin/audit`, across
 * tenants, with a tenant filter). Filters live in the URL.
 */
export function AuditLogView({ log, path, operator }: { log: AuditLog; path: string; operator: boolean }) {
  const filters = auditFiltersFromSearch(searchParams.value, operator);
  const key = auditFilterKey(filters);
  const verifyTenant = operator ? filters.tenantId : "";

  useEffect(() => {
    log.ensureActions();
    if (operator) ensureAuditTenants();
  }, [log, operator]);

  useEffect(() => {
    void log.load(filters);
  }, [log, key]);

  useEffect(() => {
    if (!operator || verifyTenant) void log.verify.load(verifyTenant);
  }, [log, operator, verifyTenant]);

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle={
          operator
            ? "Every recorded action across all tenants, newest first."
            : "Every sign-in, change and sensitive action in your workspace, newest first."
        }
        actions={<ExportLinks log={log} filters={filters} />}
      >
        <ChainBadge log={log} tenantId={verifyTenant} operator={operator} />
      </PageHeader>
      <AuditFilterBar log={log} filters={filters} path={path} operator={operator} />
      <ErrorBanner error={log.error.value} onRetry={() => void log.load(filters)} />
      <Card class="card-flush">
        <AuditTable log={log} filters={filters} path={path} operator={operator} />
      </Card>
    </>
  );
}

// ---- chain and export ----

function ChainBadge({ log, tenantId, operator }: { log: AuditLog; tenantId: string; operator: boolean }) {
  if (operator && !tenantId)
    return <p class="audit-chain-hint muted small">Choose a tenant to verify its hash chain.</p>;
  const { data, loading, error } = log.verify;
  const result = data.value && data.value.tenantId === tenantId ? data.value : undefined;

  if (error.value && !loading.value)
    return (
      <div class="audit-chain audit-chain-error" data-testid="audit-chain" data-state="error" role="status">
        <IconAlert />
        <span>Chain not verified: {errorMessage(error.value)}</span>
        <button type="button" class="btn btn-sm btn-ghost" onClick={() => void log.verify.load(tenantId)}>
          Try again
        </button>
      </div>
    );
  if (loading.value || !result)
    return (
      <div
        class="audit-chain audit-chain-checking"
        data-testid="audit-chain"
        data-state="checking"
        role="status"
      >
        <span class="spinner-ring spinner-inline" aria-hidden="true" />
        <span>Checking the hash chain…</span>
      </div>
    );
  if (result.valid)
    return (
      <div
        class="audit-chain audit-chain-valid"
        data-testid="audit-chain"
        data-state="valid"
        data-valid="true"
        role="status"
        title="Every event's hash matches its content and the event before it"
      >
        <IconCheck />
        <span>
          Chain verified · {count(result.checked)} {result.checked === 1 ? "event" : "events"}
        </span>
      </div>
    );
  return (
    <div
      class="audit-chain audit-chain-broken"
      data-testid="audit-chain"
      data-state="broken"
      data-valid="false"
      role="alert"
    >
      <IconAlert />
      <span>
        Chain broken
        {result.firstBrokenId && (
          <>
            {" at "}
            <code>{result.firstBrokenId}</code>
          </>
        )}
        {result.reason ? `: ${result.reason}` : ""}
        {result.checked > 0 && (
          <span class="audit-chain-note"> ({count(result.checked)} events checked)</span>
        )}
      </span>
    </div>
  );
}

function ExportLinks({ log, filters }: { log: AuditLog; filters: AuditFilters }) {
  return (
    <div class="audit-export">
      <div class="audit-export-buttons">
        <a
          class="btn btn-sm"
          href={log.exportUrl("csv", filters)}
          download=""
          data-testid="audit-export-csv"
          aria-describedby="audit-export-hint"
        >
          <IconDownload />
          Export CSV
        </a>
        <a
          class="btn btn-sm"
          href={log.exportUrl("json", filters)}
          download=""
          data-testid="audit-export-json"
          aria-describedby="audit-export-hint"
        >
          <IconDownload />
          Export JSON
        </a>
      </div>
      <span class="muted small" id="audit-export-hint">
        {hasAuditFilters(filters) ? "Matching these filters, up to" : "Up to"} {count(AUDIT_EXPORT_MAX)} rows
      </span>
    </div>
  );
}

// ---- the table ----

function AuditTable({
  log,
  filters,
  path,
  operator,
}: {
  log: AuditLog;
  filters: AuditFilters;
  path: string;
  operator: boolean;
}) {
  const rows = log.rows.value;
  const loading = log.loading.value;
  const open = log.expanded.value;
  const cols = operator ? 8 : 7;
  const verified = log.verify.data.value;
  const brokenId =
    verified && verified.tenantId === (operator ? filters.tenantId : "") && !verified.valid
      ? verified.firstBrokenId
      : null;
  const tenantNames = new Map((auditTenants.data.value?.data ?? []).map((t) => [t.id, t.name]));

  return (
    <>
      <div class="table-wrap">
        <table
          class={`table table-dense table-clickable audit-table${loading && rows ? " is-stale" : ""}`}
          data-testid="audit-table"
          aria-busy={loading}
        >
          <AuditTableHead operator={operator} />
          <tbody>
            {!rows && loading && <SkeletonRows cols={cols} rows={8} />}
            {rows && rows.length === 0 && (
              <TableMessage cols={cols}>
                {hasAuditFilters(filters) ? (
                  <EmptyState
                    title="No audit events match these filters"
                    action={
                      <button type="button" class="btn" onClick={() => clearAuditFilters(path)}>
                        Clear filters
                      </button>
                    }
                  >
                    Widen the date range or remove a filter.
                  </EmptyState>
                ) : (
                  <EmptyState title="No audit events yet">
                    {operator
                      ? "Sign-ins, tenant changes and every tenant's recorded actions show up here."
                      : "Sign-ins, changes to agents, configuration and people, and exports are recorded here."}
                  </EmptyState>
                )}
              </TableMessage>
            )}
            {rows?.map((e) => (
              <AuditRow
                key={e.id}
                onToggle={log.toggle}
                event={e}
                open={open.has(e.id)}
                broken={e.id === brokenId}
                cols={cols}
                path={path}
                tenantName={operator ? tenantLabel(e.tenantId, tenantNames) : null}
              />
            ))}
          </tbody>
        </table>
      </div>
      {rows && rows.length > 0 && (
        <div class="table-foot timeline-foot">
          <span class="muted small">
            {count(rows.length)} {rows.length === 1 ? "event" : "events"} shown
            {log.cursor.value ? "" : " · end of the log"}
          </span>
          {log.moreError.value !== null && (
            <span class="text-danger small" role="alert">
              {errorMessage(log.moreError.value)}
            </span>
          )}
          {log.cursor.value && (
            <BusyButton
              class="btn btn-sm"
              busy={log.moreLoading}
              busyLabel="Loading…"
              onClick={() => void log.loadMore()}
              data-testid="audit-load-more"
            >
              Load more
            </BusyButton>
          )}
        </div>
      )}
    </>
  );
}

/** The column headings of an audit table (the live log's and an archived day's). */
export function AuditTableHead({ operator }: { operator: boolean }) {
  return (
    <thead>
      <tr>
        <th scope="col" class="cell-toggle">
          <span class="visually-hidden">Details</span>
        </th>
        <th scope="col">Time</th>
        {operator && <th scope="col">Tenant</th>}
        <th scope="col">Actor</th>
        <th scope="col">Action</th>
        <th scope="col">Target</th>
        <th scope="col">Severity</th>
        <th scope="col">IP</th>
      </tr>
    </thead>
  );
}

export function tenantLabel(
  id: string | null,
  names: ReadonlyMap<string, string>,
): { id: string | null; name: string } {
  if (!id) return { id: null, name: "Platform" };
  return { id, name: names.get(id) ?? id };
}

export function SeverityBadge({ severity }: { severity: string }) {
  const known = isSeverity(severity) ? severity : null;
  return (
    <span class={`badge sev sev-${known ?? "info"}`} data-severity={severity}>
      {known ? SEVERITY_LABELS[known] : severity}
    </span>
  );
}

function Actor({ actor }: { actor: AuditEvent["actor"] }) {
  const type: AuditActorType = (ACTOR_TYPES as readonly string[]).includes(actor.type)
    ? actor.type
    : "system";
  const Icon = ACTOR_ICONS[type];
  const label = ACTOR_TYPE_LABELS[type];
  return (
    <span
      class="audit-actor"
      title={actor.id ? `${label} · ${actor.id}` : label}
      data-actor-type={actor.type}
    >
      <span class={`actor-icon actor-${type}`} aria-hidden="true">
        <Icon width={12} height={12} />
      </span>
      <span class="visually-hidden">{label}: </span>
      <span class="audit-actor-name">{auditActorText(actor)}</span>
    </span>
  );
}

function Target({ target }: { target: AuditEvent["target"] }) {
  if (!target) return <span class="faint">—</span>;
  return (
    <span class="audit-target">
      <span class="audit-target-type">{target.type}</span>
      {target.id && (
        <code class="audit-id" title={target.id}>
          {target.id}
        </code>
      )}
    </span>
  );
}

/** One event of an audit table, expandable to its details (and before/after diff). */
export function AuditRow({
  onToggle,
  event: e,
  open,
  broken,
  cols,
  path,
  tenantName,
}: {
  onToggle: (id: string) => void;
  event: AuditEvent;
  open: boolean;
  broken: boolean;
  cols: number;
  path: string;
  tenantName: { id: string | null; name: string } | null;
}) {
  const detailId = `audit-detail-${e.id}`;
  const classes = [open ? "row-open" : "", broken ? "row-broken" : ""].filter(Boolean).join(" ");
  return (
    <Fragment>
      <tr
        data-testid={`audit-row-${e.id}`}
        data-severity={e.severity}
        class={classes || undefined}
        onClick={(ev) => {
          if (ev.target instanceof Element && ev.target.closest("a, button, input, select")) return;
          if (window.getSelection()?.toString()) return;
          onToggle(e.id);
        }}
      >
        <td class="cell-toggle">
          <button
            type="button"
            class="disclosure"
            aria-expanded={open}
            aria-controls={open ? detailId : undefined}
            aria-label={`Details of ${e.action}, ${dateTime(e.at)}`}
            data-testid={`audit-expand-${e.id}`}
            onClick={() => onToggle(e.id)}
          >
            <IconChevronRight />
          </button>
        </td>
        <td class="cell-nowrap">
          <time dateTime={e.at} title={`${dateTime(e.at)} (${relative(e.at)})`} class="clock">
            {clock(e.at)}
          </time>
        </td>
        {tenantName && (
          <td class="cell-nowrap">
            {tenantName.id ? (
              <Link href={`/admin/tenants/${encodeURIComponent(tenantName.id)}`}>{tenantName.name}</Link>
            ) : (
              <span class="muted">{tenantName.name}</span>
            )}
          </td>
        )}
        <td class="cell-nowrap">
          <Actor actor={e.actor} />
        </td>
        <td>
          <code class="audit-action">{e.action}</code>
          {broken && (
            <span class="badge badge-danger audit-broken-badge" title="The hash chain breaks at this event">
              Chain break
            </span>
          )}
        </td>
        <td>
          <Target target={e.target} />
        </td>
        <td>
          <SeverityBadge severity={e.severity} />
        </td>
        <td class="cell-nowrap mono small">{e.ip ?? <span class="faint">—</span>}</td>
      </tr>
      {open && (
        <tr class="audit-detail-row">
          <td colSpan={cols}>
            <AuditDetail event={e} id={detailId} path={path} tenantName={tenantName} />
          </td>
        </tr>
      )}
    </Fragment>
  );
}
