import { useSignal } from "@preact/signals";
import type { ComponentChildren, TargetedEvent, TargetedKeyboardEvent } from "preact";
import { useEffect } from "preact/hooks";
import {
  ACTOR_TYPE_LABELS,
  ACTOR_TYPES,
  type AuditFilterKey,
  type AuditFilters,
  type AuditLog,
  auditFieldErrors,
  auditTenants,
  hasAuditFilters,
  isSeverity,
  SEVERITIES,
  SEVERITY_LABELS,
} from "../models/audit";
import { navigate, searchParams } from "../router";
import { IconSearch } from "./icons";

/** ISO → the value of a datetime-local input, in the viewer's time zone. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fromLocalInput(v: string): string {
  if (!v) return "";
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/** Changes filters in the URL (the list follows the URL); "" removes one. */
export function setAuditFilters(path: string, patch: Partial<Record<AuditFilterKey, string>>): void {
  const next = new URLSearchParams(searchParams.value);
  for (const [k, v] of Object.entries(patch)) {
    if (v) next.set(k, v);
    else next.delete(k);
  }
  next.delete("cursor");
  const qs = next.toString();
  navigate(`${path}${qs ? `?${qs}` : ""}`, { replace: true });
}

export function clearAuditFilters(path: string): void {
  navigate(path, { replace: true });
}

function FieldError({ id, messages }: { id: string; messages: string[] | undefined }) {
  if (!messages?.length) return null;
  return (
    <p class="field-error" id={id}>
      {messages.join(" ")}
    </p>
  );
}

/** A text filter: applied after a pause in typing, at once on Enter; follows back/forward. */
function TextFilter({
  id,
  label,
  name,
  value,
  path,
  placeholder,
  errors,
  search,
}: {
  id: string;
  label: string;
  name: AuditFilterKey;
  value: string;
  path: string;
  placeholder?: string;
  errors: string[] | undefined;
  search?: boolean;
}) {
  const draft = useSignal(value);

  useEffect(() => {
    draft.value = value;
  }, [value]);

  useEffect(() => {
    if (draft.value.trim() === value) return;
    const t = setTimeout(() => setAuditFilters(path, { [name]: draft.value.trim() }), 400);
    return () => clearTimeout(t);
  }, [draft.value]);

  const invalid = Boolean(errors?.length);
  const common = {
    id,
    placeholder,
    value: draft.value,
    spellcheck: false,
    autocomplete: "off",
    "aria-invalid": invalid ? true : undefined,
    "aria-describedby": invalid ? `${id}-error` : undefined,
    onInput: (e: TargetedEvent<HTMLInputElement>) => {
      draft.value = e.currentTarget.value;
    },
    onKeyDown: (e: TargetedKeyboardEvent<HTMLInputElement>) => {
      if (e.key === "Enter") setAuditFilters(path, { [name]: draft.value.trim() });
    },
  };
  return (
    <div class={`filter-field${search ? " filter-grow" : ""}`}>
      <label for={id} class="filter-label">
        {label}
      </label>
      {search ? (
        <div class="search search-sm">
          <IconSearch class="search-icon" />
          <input type="search" class="input input-sm search-input" {...common} />
        </div>
      ) : (
        <input type="text" class="input input-sm" {...common} />
      )}
      <FieldError id={`${id}-error`} messages={errors} />
    </div>
  );
}

function SelectFilter({
  id,
  label,
  name,
  value,
  path,
  errors,
  children,
}: {
  id: string;
  label: string;
  name: AuditFilterKey;
  value: string;
  path: string;
  errors: string[] | undefined;
  children: ComponentChildren;
}) {
  const invalid = Boolean(errors?.length);
  return (
    <div class="filter-field">
      <label for={id} class="filter-label">
        {label}
      </label>
      <select
        id={id}
        class="input input-sm"
        value={value}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={invalid ? `${id}-error` : undefined}
        onChange={(e) => setAuditFilters(path, { [name]: e.currentTarget.value })}
      >
        {children}
      </select>
      <FieldError id={`${id}-error`} messages={errors} />
    </div>
  );
}

function DateFilter({
  id,
  label,
  name,
  value,
  path,
  errors,
  rangeInvalid,
}: {
  id: string;
  label: string;
  name: "from" | "to";
  value: string;
  path: string;
  errors: string[] | undefined;
  rangeInvalid: boolean;
}) {
  const invalid = Boolean(errors?.length);
  const describedBy = [invalid ? `${id}-error` : "", rangeInvalid ? "af-range-error" : ""]
    .filter(Boolean)
    .join(" ");
  return (
    <div class="filter-field">
      <label for={id} class="filter-label">
        {label}
      </label>
      <input
        id={id}
        type="datetime-local"
        class="input input-sm"
        value={value ? toLocalInput(value) : ""}
        aria-invalid={invalid || rangeInvalid ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(e) => setAuditFilters(path, { [name]: fromLocalInput(e.currentTarget.value) })}
      />
      <FieldError id={`${id}-error`} messages={errors} />
    </div>
  );
}

/** "agent.created", "agent.paused", "auth.login_failed" → grouped by what comes before the dot. */
function groupActions(actions: readonly string[]): Array<[string, string[]]> {
  const groups = new Map<string, string[]>();
  for (const a of [...new Set(actions)].sort()) {
    const dot = a.indexOf(".");
    const group = dot > 0 ? a.slice(0, dot) : "other";
    groups.set(group, [...(groups.get(group) ?? []), a]);
  }
  return [...groups.entries()];
}

export function AuditFilterBar({
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
  const errors = auditFieldErrors(log.error.value);
  const actions = log.actions.data.value?.data ?? [];
  const tenants = auditTenants.data.value?.data ?? [];
  const rangeInvalid = Boolean(
    filters.from && filters.to && Date.parse(filters.from) > Date.parse(filters.to),
  );

  return (
    <section class="filter-bar audit-filters" aria-label="Filters" data-testid="audit-filters">
      {operator && (
        <SelectFilter
          id="af-tenant"
          label="Tenant"
          name="tenantId"
          value={filters.tenantId}
          path={path}
          errors={errors.tenantId}
        >
          <option value="">All tenants</option>
          {tenants.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
          {filters.tenantId && !tenants.some((t) => t.id === filters.tenantId) && (
            <option value={filters.tenantId}>{filters.tenantId}</option>
          )}
        </SelectFilter>
      )}
      <SelectFilter
        id="af-actor-type"
        label="Actor type"
        name="actorType"
        value={filters.actorType}
        path={path}
        errors={errors.actorType}
      >
        <option value="">Any actor</option>
        {ACTOR_TYPES.map((t) => (
          <option key={t} value={t}>
            {ACTOR_TYPE_LABELS[t]}
          </option>
        ))}
        {filters.actorType && !(ACTOR_TYPES as readonly string[]).includes(filters.actorType) && (
          <option value={filters.actorType}>{filters.actorType}</option>
        )}
      </SelectFilter>
      <TextFilter
        id="af-actor"
        label="Actor"
        name="actorId"
        value={filters.actorId}
        path={path}
        placeholder="User, agent or key id"
        errors={errors.actorId}
      />
      <SelectFilter
        id="af-action"
        label="Action"
        name="action"
        value={filters.action}
        path={path}
        errors={errors.action}
      >
        <option value="">All actions</option>
        {groupActions(actions).map(([group, names]) => (
          <optgroup key={group} label={group}>
            {names.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </optgroup>
        ))}
        {filters.action && !actions.includes(filters.action) && (
          <option value={filters.action}>{filters.action}</option>
        )}
      </SelectFilter>
      <TextFilter
        id="af-target-type"
        label="Target type"
        name="targetType"
        value={filters.targetType}
        path={path}
        placeholder="agent, config, member…"
        errors={errors.targetType}
      />
      <TextFilter
        id="af-target-id"
        label="Target ID"
        name="targetId"
        value={filters.targetId}
        path={path}
        errors={errors.targetId}
      />
      <SelectFilter
        id="af-severity"
        label="Severity"
        name="severity"
        value={filters.severity}
        path={path}
        errors={errors.severity}
      >
        <option value="">Any severity</option>
        {SEVERITIES.map((s) => (
          <option key={s} value={s}>
            {SEVERITY_LABELS[s]}
          </option>
        ))}
        {filters.severity && !isSeverity(filters.severity) && (
          <option value={filters.severity}>{filters.severity}</option>
        )}
      </SelectFilter>
      <DateFilter
        id="af-from"
        label="From"
        name="from"
        value={filters.from}
        path={path}
        errors={errors.from}
        rangeInvalid={rangeInvalid}
      />
      <DateFilter
        id="af-to"
        label="To"
        name="to"
        value={filters.to}
        path={path}
        errors={errors.to}
        rangeInvalid={rangeInvalid}
      />
      <TextFilter
        id="af-q"
        label="Search"
        name="q"
        value={filters.q}
        path={path}
        placeholder="Action, actor name, target id, details or request id"
        errors={errors.q}
        search
      />
      {hasAuditFilters(filters) && (
        <button
          type="button"
          class="btn btn-sm btn-ghost filter-clear"
          onClick={() => clearAuditFilters(path)}
        >
          Clear
        </button>
      )}
      {rangeInvalid && (
        <p class="field-error filter-error" id="af-range-error">
          “From” is later than “To”: nothing can match.
        </p>
      )}
    </section>
  );
}
