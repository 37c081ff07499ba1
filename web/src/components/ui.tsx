import type { ReadonlySignal } from "@preact/signals";
import type { ButtonHTMLAttributes, ComponentChildren, HTMLAttributes } from "preact";
import { errorMessage } from "../api";
import { humanize } from "../format";
import { IconAlert } from "./icons";

export type Tone = "neutral" | "info" | "success" | "warning" | "danger" | "brand";

export function Badge({
  tone = "neutral",
  children,
  ...rest
}: { tone?: Tone; children: ComponentChildren } & HTMLAttributes<HTMLSpanElement>) {
  return (
    <span class={`badge badge-${tone}`} {...rest}>
      {children}
    </span>
  );
}

const STATUS_TONES: Record<string, Tone> = {
  // tenants, provisioning
  provisioning: "info",
  pending: "neutral",
  running: "info",
  completed: "success",
  active: "success",
  failed: "danger",
  suspended: "warning",
  // agents, runtime
  paused: "warning",
  stopped: "neutral",
  starting: "info",
  crashloop: "danger",
  // quota
  normal: "success",
  warning: "warning",
  grace: "warning",
  rate_limited: "danger",
  // people, keys
  invited: "info",
  disabled: "neutral",
  revoked: "neutral",
};

/** A status word as a coloured badge: "rate_limited" → "Rate limited" in red. */
export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <Badge tone={STATUS_TONES[status] ?? "neutral"} data-testid={testId}>
      <span class="badge-dot" aria-hidden="true" />
      {humanize(status)}
    </Badge>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner-ring" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** Grey bars shaped like a table while it loads. */
export function SkeletonRows({ rows = 4, cols }: { rows?: number; cols: number }) {
  return (
    <>
      {Array.from({ length: rows }, (_, r) => (
        <tr key={r} class="skeleton-row">
          {Array.from({ length: cols }, (_, c) => (
            <td key={c}>
              <span class="skeleton" aria-hidden="true" />
            </td>
          ))}
        </tr>
      ))}
    </>
  );
}

/** A failure, in the server's words, with an optional retry. */
export function ErrorBanner({
  error,
  onRetry,
  title,
}: {
  error: unknown;
  onRetry?: () => void;
  title?: string;
}) {
  if (error === null || error === undefined || error === "") return null;
  const message = typeof error === "string" ? error : errorMessage(error);
  return (
    <div class="banner banner-danger" role="alert">
      <IconAlert class="banner-icon" />
      <div class="banner-body">
        {title && <strong>{title}</strong>}
        <span>{message}</span>
      </div>
      {onRetry && (
        <button type="button" class="btn btn-sm" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Banner({
  tone = "info",
  children,
  ...rest
}: {
  tone?: "info" | "success" | "warning" | "danger";
  children: ComponentChildren;
} & HTMLAttributes<HTMLDivElement>) {
  return (
    <div class={`banner banner-${tone}`} role={tone === "danger" ? "alert" : "status"} {...rest}>
      <div class="banner-body">{children}</div>
    </div>
  );
}

export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ComponentChildren;
  action?: ComponentChildren;
}) {
  return (
    <div class="empty" data-testid="empty-state">
      <p class="empty-title">{title}</p>
      {children && <p class="empty-text">{children}</p>}
      {action && <div class="empty-action">{action}</div>}
    </div>
  );
}

/** A table's empty or loading state in a single full-width cell. */
export function TableMessage({ cols, children }: { cols: number; children: ComponentChildren }) {
  return (
    <tr>
      <td colSpan={cols} class="table-message">
        {children}
      </td>
    </tr>
  );
}

export function PageHeader({
  title,
  subtitle,
  actions,
  children,
}: {
  title: ComponentChildren;
  subtitle?: ComponentChildren;
  actions?: ComponentChildren;
  children?: ComponentChildren;
}) {
  return (
    <header class="page-header">
      <div class="page-header-text">
        <h1>{title}</h1>
        {subtitle && <p class="page-subtitle">{subtitle}</p>}
        {children}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </header>
  );
}

export function Card({
  title,
  actions,
  children,
  class: className,
  ...rest
}: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
} & Omit<HTMLAttributes<HTMLElement>, "title" | "class">) {
  return (
    <section class={`card${className ? ` ${className}` : ""}`} {...rest}>
      {(title || actions) && (
        <div class="card-header">
          {title && <h2 class="card-title">{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

export function StatCard({
  label,
  value,
  hint,
  testId,
}: {
  label: string;
  value: ComponentChildren;
  hint?: ComponentChildren;
  testId?: string;
}) {
  return (
    <div class="stat" data-testid={testId}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint && <div class="stat-hint">{hint}</div>}
    </div>
  );
}

export function Pagination({
  page,
  totalPages,
  total,
  onPage,
  noun,
}: {
  page: number;
  totalPages: number;
  total: number;
  onPage: (page: number) => void;
  noun: string;
}) {
  if (totalPages <= 1) return total > 0 ? <div class="pagination-info">{`${total} ${noun}`}</div> : null;
  return (
    <nav class="pagination" aria-label="Pagination">
      <span class="pagination-info">
        Page {page} of {totalPages} · {total} {noun}
      </span>
      <div class="pagination-buttons">
        <button type="button" class="btn btn-sm" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          Previous
        </button>
        <button
          type="button"
          class="btn btn-sm"
          disabled={page >= totalPages}
          onClick={() => onPage(page + 1)}
        >
          Next
        </button>
      </div>
    </nav>
  );
}

/** A button that shows progress while its action runs. */
export function BusyButton({
  busy,
  busyLabel,
  children,
  class: className = "btn btn-primary",
  disabled,
  type = "button",
  ...rest
}: {
  busy: boolean | ReadonlySignal<boolean>;
  busyLabel?: string;
  children: ComponentChildren;
  class?: string;
  disabled?: boolean;
} & Omit<ButtonHTMLAttributes<HTMLButtonElement>, "class" | "disabled">) {
  const isBusy = typeof busy === "boolean" ? busy : busy.value;
  return (
    <button type={type} class={className} disabled={isBusy || disabled} aria-busy={isBusy} {...rest}>
      {isBusy && <span class="spinner-ring spinner-inline" aria-hidden="true" />}
      {isBusy && busyLabel ? busyLabel : children}
    </button>
  );
}

export function DefinitionList({ items }: { items: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="dl">
      {items.map(([term, value]) => (
        <div class="dl-row" key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A small spinner beside content that is being refreshed in the background. */
export function Refreshing({ label = "Refreshing" }: { label?: string }) {
  return (
    <span class="refreshing" role="status">
      <span class="spinner-ring spinner-inline" aria-hidden="true" />
      <span class="visually-hidden">{label}</span>
    </span>
  );
}
