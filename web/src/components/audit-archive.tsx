import { useEffect, useState } from "preact/hooks";
import { count } from "../format";
import {
  type AuditArchiveResult,
  type AuditArchives,
  auditFiltersFromSearch,
  auditTenants,
  isArchiveIntegrityError,
  isIsoDay,
} from "../models/audit";
import { searchParams } from "../router";
import { AuditRow, AuditTableHead, tenantLabel } from "./audit-log";
import { IconCheck } from "./icons";
import { BusyButton, Card, EmptyState, ErrorBanner, SkeletonRows, TableMessage } from "./ui";

/**
 * "Archived days": events older than the plan's retention leave the live log for a daily archive.
 * The tenant sees the list of archived days; the operator (no list endpoint) picks a tenant in the
 * filters and types a day.
 */
export function AuditArchiveSection({
  archives,
  path,
  operator,
}: {
  archives: AuditArchives;
  path: string;
  operator: boolean;
}) {
  const tenantId = operator ? auditFiltersFromSearch(searchParams.value, true).tenantId : "";
  const [day, setDay] = useState("");
  const [invalid, setInvalid] = useState(false);

  useEffect(() => {
    archives.ensureDays();
  }, [archives]);

  // The operator switched tenant: what is shown (or failed) was about another one.
  useEffect(() => {
    const { archive } = archives;
    const shown = archive.data.value;
    if (operator && (archive.error.value !== null || (shown && shown.tenantId !== tenantId))) archive.reset();
  }, [archives, operator, tenantId]);

  if (operator && !tenantId)
    return (
      <Card title="Archived days" class="audit-archives" data-testid="audit-archives">
        <p class="muted small">Choose a tenant in the filters above to read one of its archived days.</p>
      </Card>
    );

  const show = (d: string) => {
    if (!isIsoDay(d)) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setDay(d);
    void archives.show(d, tenantId);
  };

  const { archive } = archives;
  const current = archive.data.value?.tenantId === tenantId ? archive.data.value : undefined;
  const failed = archive.error.value;

  return (
    <Card title="Archived days" class="audit-archives card-flush" data-testid="audit-archives">
      <div class="audit-archive-body">
        {archives.days && <ArchiveDays archives={archives} selected={current?.date ?? null} onShow={show} />}
        <form
          class="audit-archive-form"
          onSubmit={(ev) => {
            ev.preventDefault();
            show(day);
          }}
        >
          <div class="filter-field">
            <label for="audit-archive-date" class="filter-label">
              Archived day
            </label>
            <input
              id="audit-archive-date"
              type="date"
              class="input input-sm"
              value={day}
              aria-invalid={invalid ? true : undefined}
              aria-describedby={invalid ? "audit-archive-date-error" : undefined}
              data-testid="audit-archive-date"
              onInput={(ev) => {
                setDay(ev.currentTarget.value);
                setInvalid(false);
              }}
            />
            {invalid && (
              <p class="field-error" id="audit-archive-date-error" role="alert">
                Pick a day.
              </p>
            )}
          </div>
          <BusyButton
            type="submit"
            class="btn btn-sm"
            busy={archive.loading}
            data-testid="audit-archive-show"
          >
            Show
          </BusyButton>
        </form>
      </div>
      {failed !== null && !archive.loading.value && (
        <div class="audit-archive-error" data-testid="audit-archive-error">
          <ErrorBanner
            error={failed}
            title={isArchiveIntegrityError(failed) ? "Archive integrity check failed" : undefined}
            onRetry={day && isIsoDay(day) ? () => show(day) : undefined}
          />
        </div>
      )}
      {(current || archive.loading.value) && failed === null && (
        <ArchiveView archives={archives} result={current} path={path} operator={operator} />
      )}
    </Card>
  );
}

function ArchiveDays({
  archives,
  selected,
  onShow,
}: {
  archives: AuditArchives;
  selected: string | null;
  onShow: (day: string) => void;
}) {
  const days = archives.days;
  if (!days) return null;
  const list = days.data.value?.data;
  if (days.error.value && !days.loading.value)
    return <ErrorBanner error={days.error.value} onRetry={() => void days.load()} />;
  if (!list)
    return (
      <p class="muted small" role="status">
        Loading archived days…
      </p>
    );
  if (list.length === 0)
    return (
      <p class="audit-archive-empty muted" data-testid="audit-archives-empty">
        Nothing archived yet — events move to the archive after your plan's retention period.
      </p>
    );
  return (
    <ul class="audit-archive-days" aria-label="Archived days">
      {list.map((d) => (
        <li key={d.day}>
          <button
            type="button"
            class={`audit-archive-day${selected === d.day ? " is-selected" : ""}`}
            aria-pressed={selected === d.day}
            data-testid={`audit-archive-day-${d.day}`}
            onClick={() => onShow(d.day)}
          >
            <span class="audit-archive-day-date">{d.day}</span>
            <span class="muted small">
              {count(d.rowCount)} {d.rowCount === 1 ? "event" : "events"}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

function ArchiveView({
  archives,
  result,
  path,
  operator,
}: {
  archives: AuditArchives;
  result: AuditArchiveResult | undefined;
  path: string;
  operator: boolean;
}) {
  const cols = operator ? 8 : 7;
  const open = archives.expanded.value;
  const loading = archives.archive.loading.value;
  const tenantNames = new Map((auditTenants.data.value?.data ?? []).map((t) => [t.id, t.name]));
  const m = result?.manifest;
  return (
    <section
      class="audit-archive-view"
      data-testid="audit-archive-view"
      data-date={result?.date}
      aria-busy={loading}
      aria-label={result ? `Archive of ${result.date}` : "Archive"}
    >
      {result && m && (
        <header class="audit-archive-head">
          <strong>{result.date}</strong>
          <span class="muted small" data-testid="audit-archive-rows">
            {count(m.rowCount)} {m.rowCount === 1 ? "event" : "events"}
          </span>
          <span class="muted small">
            sha256{" "}
            <code class="audit-id" title={m.sha256} data-testid="audit-archive-sha">
              {m.sha256.slice(0, 12)}
            </code>
          </span>
          <span
            class="badge badge-success audit-archive-verified"
            data-testid="audit-archive-verified"
            title="The server checked the archive's sha256 against its manifest before answering"
          >
            <IconCheck width={12} height={12} />
            Integrity verified
          </span>
        </header>
      )}
      <div class="table-wrap">
        <table
          class={`table table-dense table-clickable audit-table${loading && result ? " is-stale" : ""}`}
          aria-busy={loading}
        >
          <AuditTableHead operator={operator} />
          <tbody>
            {!result && loading && <SkeletonRows cols={cols} rows={4} />}
            {result && result.data.length === 0 && (
              <TableMessage cols={cols}>
                <EmptyState title="No events in this archive" />
              </TableMessage>
            )}
            {result?.data.map((e) => (
              <AuditRow
                key={e.id}
                onToggle={archives.toggle}
                event={e}
                open={open.has(e.id)}
                broken={false}
                cols={cols}
                path={path}
                tenantName={operator ? tenantLabel(e.tenantId, tenantNames) : null}
              />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
