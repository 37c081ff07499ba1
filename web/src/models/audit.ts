import { type ReadonlySignal, signal } from "@preact/signals";
import { ApiError, api, type FieldErrors } from "../api";
import { type DiffEntry, deepEqual, diff, isPlainObject } from "../json-schema";
import type { ListOf } from "../types";
import { type Resource, resource } from "./resource";
import { onSessionReset } from "./session";

export const AUDIT_PAGE_SIZE = 50;
/** What one export can hold (the server cuts there). */
export const AUDIT_EXPORT_MAX = 10_000;

export const ACTOR_TYPES = ["user", "agent", "system"] as const;
export type AuditActorType = (typeof ACTOR_TYPES)[number];

export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type AuditSeverity = (typeof SEVERITIES)[number];

export const ACTOR_TYPE_LABELS: Record<AuditActorType, string> = {
  user: "User",
  agent: "Agent",
  system: "System",
};
export const SEVERITY_LABELS: Record<AuditSeverity, string> = {
  info: "Info",
  low: "Low",
  medium: "Medium",
  high: "High",
  critical: "Critical",
};

export interface AuditEvent {
  id: string;
  tenantId: string | null;
  seq: number;
  actor: { type: AuditActorType; id: string | null; name: string | null };
  action: string;
  target: { type: string; id: string | null } | null;
  severity: AuditSeverity;
  details: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  at: string;
  hash: string;
}

export interface AuditPage {
  data: AuditEvent[];
  meta: { limit: number; nextCursor: string | null };
}

export interface AuditVerify {
  valid: boolean;
  checked: number;
  firstBrokenId: string | null;
  reason: string | null;
}

/** A verification and the tenant it is about ("" on the tenant's own dashboard). */
export type AuditVerifyResult = AuditVerify & { tenantId: string };

/** The filters as they appear in the URL and the API query; "" means "any". `from`/`to` are ISO datetimes. */
export interface AuditFilters {
  tenantId: string;
  actorType: string;
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  severity: string;
  from: string;
  to: string;
  q: string;
}

export type AuditFilterKey = keyof AuditFilters;

export const AUDIT_FILTER_KEYS = [
  "tenantId",
  "actorType",
  "actorId",
  "action",
  "targetType",
  "targetId",
  "severity",
  "from",
  "to",
  "q",
] as const satisfies ReadonlyArray<AuditFilterKey>;

/** Who did it, in words: the name, else the id, else "System". */
export function auditActorText(actor: AuditEvent["actor"]): string {
  return actor.name ?? actor.id ?? (actor.type === "system" ? "System" : "Unknown");
}

export function isSeverity(v: string): v is AuditSeverity {
  return (SEVERITIES as readonly string[]).includes(v);
}

/** Reads the filters from the URL; `tenantId` only counts on the operator's view. */
export function auditFiltersFromSearch(params: URLSearchParams, withTenant: boolean): AuditFilters {
  const get = (k: AuditFilterKey) => params.get(k)?.trim() ?? "";
  return {
    tenantId: withTenant ? get("tenantId") : "",
    actorType: get("actorType"),
    actorId: get("actorId"),
    action: get("action"),
    targetType: get("targetType"),
    targetId: get("targetId"),
    severity: get("severity"),
    from: get("from"),
    to: get("to"),
    q: get("q"),
  };
}

export function hasAuditFilters(f: AuditFilters): boolean {
  return AUDIT_FILTER_KEYS.some((k) => f[k] !== "");
}

/** A stable string for "did the filters change". */
export function auditFilterKey(f: AuditFilters): string {
  return AUDIT_FILTER_KEYS.map((k) => f[k]).join("\u0000");
}

function filterQuery(f: AuditFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of AUDIT_FILTER_KEYS) if (f[k]) out[k] = f[k];
  return out;
}

/**
 * Field errors of a 400 on the list, keyed by filter name: the server says `query.from`, the filter
 * bar knows `from`.
 */
export function auditFieldErrors(e: unknown): Partial<Record<AuditFilterKey, string[]>> {
  if (!(e instanceof ApiError) || !e.details) return {};
  const out: Partial<Record<AuditFilterKey, string[]>> = {};
  const details: FieldErrors = e.details;
  for (const [key, messages] of Object.entries(details)) {
    const name = key.replace(/^query\./, "");
    const k = AUDIT_FILTER_KEYS.find((x) => x === name);
    if (k) out[k] = [...(out[k] ?? []), ...messages];
  }
  return out;
}

// ---- before/after ----

export interface AuditChanges {
  changes: DiffEntry[];
  /** Whatever else the details carry beside `before` and `after`. */
  rest: Record<string, unknown> | null;
}

/**
 * When details are `{ before, after, … }`: the changed leaves, by dot path (`messaging.maxHops`).
 * A missing side (a creation, a deletion) counts as an empty object. Null when there is no pair.
 */
export function auditChanges(details: unknown): AuditChanges | null {
  if (!isPlainObject(details) || !("before" in details) || !("after" in details)) return null;
  const { before, after, ...others } = details;
  const rest = Object.keys(others).length ? others : null;
  const b = before ?? (isPlainObject(after) ? {} : before);
  const a = after ?? (isPlainObject(before) ? {} : after);
  if (isPlainObject(b) && isPlainObject(a)) return { changes: diff(b, a), rest };
  if (deepEqual(before, after)) return { changes: [], rest };
  return { changes: [{ path: "(value)", kind: "changed", before, after }], rest };
}

// ---- the log ----

export interface AuditLog {
  /** `/api/dashboard/audit` or `/api/admin/audit`. */
  readonly base: string;
  /** The loaded events, newest first. */
  readonly rows: ReadonlySignal<AuditEvent[] | undefined>;
  readonly cursor: ReadonlySignal<string | null>;
  readonly loading: ReadonlySignal<boolean>;
  readonly error: ReadonlySignal<unknown>;
  readonly moreLoading: ReadonlySignal<boolean>;
  readonly moreError: ReadonlySignal<unknown>;
  /** Rows whose details are open. */
  readonly expanded: ReadonlySignal<ReadonlySet<string>>;
  readonly verify: Resource<AuditVerifyResult, [tenantId: string]>;
  readonly actions: Resource<ListOf<string>>;
  load(f: AuditFilters): Promise<void>;
  loadMore(): Promise<void>;
  toggle(id: string): void;
  /** Loads the action names once per session. */
  ensureActions(): void;
  /** The download link for the current filters (the session cookie authenticates it). */
  exportUrl(format: "csv" | "json", f: AuditFilters): string;
  reset(): void;
}

function createAuditLog(base: string): AuditLog {
  const rows = signal<AuditEvent[] | undefined>(undefined);
  const cursor = signal<string | null>(null);
  const loading = signal(false);
  const error = signal<unknown>(null);
  const moreLoading = signal(false);
  const moreError = signal<unknown>(null);
  const expanded = signal<ReadonlySet<string>>(new Set());
  let active: AuditFilters | null = null;
  let controller: AbortController | null = null;

  const query = (f: AuditFilters, after?: string) => ({
    ...filterQuery(f),
    limit: AUDIT_PAGE_SIZE,
    ...(after ? { cursor: after } : {}),
  });

  const verify = resource(async (sig, tenantId: string): Promise<AuditVerifyResult> => {
    const result = await api.get<AuditVerify>(`${base}/verify`, tenantId ? { tenantId } : undefined, sig);
    return { ...result, tenantId };
  });
  const actions = resource((sig) => api.get<ListOf<string>>(`${base}/actions`, undefined, sig));

  return {
    base,
    rows,
    cursor,
    loading,
    error,
    moreLoading,
    moreError,
    expanded,
    verify,
    actions,
    async load(f) {
      controller?.abort();
      const mine = new AbortController();
      controller = mine;
      active = f;
      loading.value = true;
      error.value = null;
      moreError.value = null;
      try {
        const page = await api.get<AuditPage>(base, query(f), mine.signal);
        if (controller !== mine) return;
        rows.value = page.data;
        cursor.value = page.meta.nextCursor;
      } catch (e) {
        if (controller === mine && !mine.signal.aborted) error.value = e;
      } finally {
        if (controller === mine) {
          loading.value = false;
          controller = null;
        }
      }
    },
    async loadMore() {
      const after = cursor.value;
      const f = active;
      if (!after || !f || moreLoading.value) return;
      moreLoading.value = true;
      moreError.value = null;
      try {
        const page = await api.get<AuditPage>(base, query(f, after));
        if (active !== f) return;
        const seen = new Set((rows.value ?? []).map((r) => r.id));
        rows.value = [...(rows.value ?? []), ...page.data.filter((r) => !seen.has(r.id))];
        cursor.value = page.meta.nextCursor;
      } catch (e) {
        if (active === f) moreError.value = e;
      } finally {
        moreLoading.value = false;
      }
    },
    toggle(id) {
      const next = new Set(expanded.value);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      expanded.value = next;
    },
    ensureActions() {
      if (!actions.data.value && !actions.loading.value) void actions.load();
    },
    exportUrl(format, f) {
      const params = new URLSearchParams({ format, ...filterQuery(f) });
      return `${base}/export?${params.toString()}`;
    },
    reset() {
      controller?.abort();
      controller = null;
      active = null;
      rows.value = undefined;
      cursor.value = null;
      loading.value = false;
      error.value = null;
      moreLoading.value = false;
      moreError.value = null;
      expanded.value = new Set();
      verify.reset();
      actions.reset();
    },
  };
}

// ---- archived days ----

export interface AuditArchiveDay {
  /** `YYYY-MM-DD`. */
  day: string;
  rowCount: number;
}

export interface AuditArchiveManifest {
  rowCount: number;
  firstId: string;
  lastId: string;
  chainHash: string;
  sha256: string;
}

/** One archived day as the server read it back (it checks the sha256 before answering). */
export interface AuditArchive {
  date: string;
  manifest: AuditArchiveManifest;
  /** Newest first, like the live log. */
  data: AuditEvent[];
}

/** An archived day and the tenant it is about ("" on the tenant's own dashboard). */
export type AuditArchiveResult = AuditArchive & { tenantId: string };

/** The server's code when an archive's sha256 does not match its manifest. */
export const ARCHIVE_INTEGRITY_FAILED = "archive_integrity_failed";

export function isArchiveIntegrityError(e: unknown): boolean {
  return e instanceof ApiError && e.code === ARCHIVE_INTEGRITY_FAILED;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
export function isIsoDay(v: string): boolean {
  return ISO_DAY.test(v);
}

export interface AuditArchives {
  /** The archived days; null where the API has no list (the operator's). */
  readonly days: Resource<ListOf<AuditArchiveDay>> | null;
  readonly archive: Resource<AuditArchiveResult, [date: string, tenantId: string]>;
  /** Rows of the shown day whose details are open. */
  readonly expanded: ReadonlySignal<ReadonlySet<string>>;
  /** Loads the list once per session (no-op without a list). */
  ensureDays(): void;
  show(date: string, tenantId: string): Promise<void>;
  toggle(id: string): void;
  reset(): void;
}

function createAuditArchives(base: string, withList: boolean): AuditArchives {
  const expanded = signal<ReadonlySet<string>>(new Set());
  const days = withList
    ? resource((sig) => api.get<ListOf<AuditArchiveDay>>(`${base}/archives`, undefined, sig))
    : null;
  const archive = resource(async (sig, date: string, tenantId: string): Promise<AuditArchiveResult> => {
    const result = await api.get<AuditArchive>(
      `${base}/archive`,
      tenantId ? { date, tenantId } : { date },
      sig,
    );
    return { ...result, tenantId };
  });
  return {
    days,
    archive,
    expanded,
    ensureDays() {
      if (days && !days.data.value && !days.loading.value) void days.load();
    },
    async show(date, tenantId) {
      expanded.value = new Set();
      await archive.load(date, tenantId);
    },
    toggle(id) {
      const next = new Set(expanded.value);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      expanded.value = next;
    },
    reset() {
      days?.reset();
      archive.reset();
      expanded.value = new Set();
    },
  };
}

export const tenantAuditArchives = createAuditArchives("/api/dashboard/audit", true);
export const operatorAuditArchives = createAuditArchives("/api/admin/audit", false);

export const tenantAudit = createAuditLog("/api/dashboard/audit");
export const operatorAudit = createAuditLog("/api/admin/audit");

export interface AuditTenant {
  id: string;
  name: string;
  slug: string;
}

/** The operator's tenant filter: the first 100 tenants, loaded once per session. */
export const auditTenants = resource((sig) =>
  api.get<ListOf<AuditTenant>>("/api/admin/tenants", { limit: 100 }, sig),
);
export function ensureAuditTenants(): void {
  if (!auditTenants.data.value && !auditTenants.loading.value) void auditTenants.load();
}

onSessionReset(() => {
  tenantAudit.reset();
  operatorAudit.reset();
  tenantAuditArchives.reset();
  operatorAuditArchives.reset();
  auditTenants.reset();
});
