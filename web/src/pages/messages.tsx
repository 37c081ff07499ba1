import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { errorMessage } from "../api";
import { IconSearch } from "../components/icons";
import { AgentRoute, Clock, DeliveryBadge, FeedIndicator, TypeChip } from "../components/live";
import { MESSAGE_TABS, TabLinks } from "../components/tabs";
import {
  BusyButton,
  Card,
  EmptyState,
  ErrorBanner,
  PageHeader,
  SkeletonRows,
  TableMessage,
} from "../components/ui";
import { count } from "../format";
import { agentDirectory, loadAgentDirectory } from "../models/agents";
import { setFeedFilters, useFeed } from "../models/feed";
import {
  applyTimelineEvent,
  FILTER_KEYS,
  filtersFromSearch,
  freshIds,
  hasFilters,
  loadMoreTimeline,
  loadTimeline,
  type MessageFilters,
  moreError,
  moreLoading,
  timeline,
  timelineCursor,
  timelineError,
  timelineLoading,
} from "../models/messages";
import { navigate, searchParams } from "../router";
import type { FeedFilters, FeedMessage } from "../wire";
import { DELIVERY_LABELS, DELIVERY_STATES, MESSAGE_TYPE_LABELS, MESSAGE_TYPES } from "../wire";

const COLS = 5;

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

function setFilters(patch: Partial<MessageFilters>): void {
  const next = new URLSearchParams(searchParams.value);
  for (const [k, v] of Object.entries(patch)) {
    if (v) next.set(k, v);
    else next.delete(k);
  }
  next.delete("cursor");
  const qs = next.toString();
  navigate(`/messages${qs ? `?${qs}` : ""}`, { replace: true });
}

export function MessagesPage() {
  const filters = filtersFromSearch(searchParams.value);
  const key = FILTER_KEYS.map((k) => filters[k]).join("\u0000");

  useEffect(() => {
    void loadAgentDirectory();
  }, []);

  useEffect(() => {
    void loadTimeline(filters);
    const server: FeedFilters = {
      ...(filters.agentId ? { agentIds: [filters.agentId] } : {}),
      ...(filters.type && (MESSAGE_TYPES as readonly string[]).includes(filters.type)
        ? { types: [filters.type as FeedMessage["type"]] }
        : {}),
    };
    setFeedFilters(server);
  }, [key]);

  useEffect(() => () => setFeedFilters({}), []);

  useFeed(applyTimelineEvent);

  return (
    <>
      <PageHeader
        title="Messages"
        subtitle="Every message between your agents, updated as it happens."
        actions={<FeedIndicator />}
      />
      <TabLinks tabs={MESSAGE_TABS} label="Messages views" />
      <FilterBar filters={filters} />
      <ErrorBanner error={timelineError.value} onRetry={() => void loadTimeline(filters)} />
      <Card class="card-flush">
        <Timeline filters={filters} />
      </Card>
    </>
  );
}

function FilterBar({ filters }: { filters: MessageFilters }) {
  const q = useSignal(filters.q);
  const agents = agentDirectory.data.value ?? [];
  const rangeInvalid = filters.from && filters.to && Date.parse(filters.from) > Date.parse(filters.to);

  // Back/forward changes the URL under the search box: follow it.
  useEffect(() => {
    q.value = filters.q;
  }, [filters.q]);

  useEffect(() => {
    if (q.value.trim() === filters.q) return;
    const t = setTimeout(() => setFilters({ q: q.value.trim() }), 300);
    return () => clearTimeout(t);
  }, [q.value]);

  return (
    <section class="filter-bar" aria-label="Filters" data-testid="message-filters">
      <div class="filter-field">
        <label for="mf-agent" class="filter-label">
          Agent
        </label>
        <select
          id="mf-agent"
          class="input input-sm"
          value={filters.agentId}
          onChange={(e) => setFilters({ agentId: e.currentTarget.value })}
        >
          <option value="">All agents</option>
          {agents.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
          {filters.agentId && !agents.some((a) => a.id === filters.agentId) && (
            <option value={filters.agentId}>{filters.agentId}</option>
          )}
        </select>
      </div>
      <div class="filter-field">
        <label for="mf-type" class="filter-label">
          Type
        </label>
        <select
          id="mf-type"
          class="input input-sm"
          value={filters.type}
          onChange={(e) => setFilters({ type: e.currentTarget.value })}
        >
          <option value="">All types</option>
          {MESSAGE_TYPES.map((t) => (
            <option key={t} value={t}>
              {MESSAGE_TYPE_LABELS[t]}
            </option>
          ))}
        </select>
      </div>
      <div class="filter-field">
        <label for="mf-status" class="filter-label">
          Status
        </label>
        <select
          id="mf-status"
          class="input input-sm"
          value={filters.status}
          onChange={(e) => setFilters({ status: e.currentTarget.value })}
        >
          <option value="">All statuses</option>
          {DELIVERY_STATES.map((s) => (
            <option key={s} value={s}>
              {DELIVERY_LABELS[s]}
            </option>
          ))}
        </select>
      </div>
      <div class="filter-field">
        <label for="mf-from" class="filter-label">
          Sent after
        </label>
        <input
          id="mf-from"
          type="datetime-local"
          class="input input-sm"
          value={filters.from ? toLocalInput(filters.from) : ""}
          aria-invalid={rangeInvalid ? true : undefined}
          onChange={(e) => setFilters({ from: fromLocalInput(e.currentTarget.value) })}
        />
      </div>
      <div class="filter-field">
        <label for="mf-to" class="filter-label">
          Sent before
        </label>
        <input
          id="mf-to"
          type="datetime-local"
          class="input input-sm"
          value={filters.to ? toLocalInput(filters.to) : ""}
          aria-invalid={rangeInvalid ? true : undefined}
          aria-describedby={rangeInvalid ? "mf-range-error" : undefined}
          onChange={(e) => setFilters({ to: fromLocalInput(e.currentTarget.value) })}
        />
      </div>
      <div class="filter-field filter-grow">
        <label for="mf-q" class="filter-label">
          Search
        </label>
        <div class="search search-sm">
          <IconSearch class="search-icon" />
          <input
            id="mf-q"
            type="search"
            class="input input-sm search-input"
            placeholder="Payload text, message or correlation id"
            value={q.value}
            onInput={(e) => {
              q.value = e.currentTarget.value;
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter") setFilters({ q: q.value.trim() });
            }}
          />
        </div>
      </div>
      {hasFilters(filters) && (
        <button
          type="button"
          class="btn btn-sm btn-ghost filter-clear"
          onClick={() => {
            q.value = "";
            navigate("/messages", { replace: true });
          }}
        >
          Clear filters
        </button>
      )}
      {rangeInvalid && (
        <p class="field-error filter-error" id="mf-range-error">
          “Sent after” is later than “Sent before”: nothing can match.
        </p>
      )}
    </section>
  );
}

function Timeline({ filters }: { filters: MessageFilters }) {
  const rows = timeline.value;
  const fresh = freshIds.value;
  const filtered = hasFilters(filters);

  return (
    <>
      <div class="table-wrap">
        <table
          class={`table table-clickable${timelineLoading.value && rows ? " is-stale" : ""}`}
          data-testid="messages-table"
          aria-busy={timelineLoading.value}
        >
          <thead>
            <tr>
              <th scope="col">Sent</th>
              <th scope="col">From → To</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Payload</th>
            </tr>
          </thead>
          <tbody>
            {!rows && timelineLoading.value && <SkeletonRows cols={COLS} rows={6} />}
            {rows && rows.length === 0 && (
              <TableMessage cols={COLS}>
                {filtered ? (
                  <EmptyState
                    title="No messages match these filters"
                    action={
                      <button
                        type="button"
                        class="btn"
                        onClick={() => navigate("/messages", { replace: true })}
                      >
                        Clear filters
                      </button>
                    }
                  >
                    New matching messages will still appear here as they are sent.
                  </EmptyState>
                ) : (
                  <EmptyState title="No messages yet">
                    When your agents message each other, every message shows up here live, with its delivery
                    status.
                  </EmptyState>
                )}
              </TableMessage>
            )}
            {rows?.map((m) => (
              <MessageRow key={m.id} m={m} fresh={fresh.has(m.id)} />
            ))}
          </tbody>
        </table>
      </div>
      {rows && rows.length > 0 && (
        <div class="table-foot timeline-foot">
          <span class="muted small">
            {count(rows.length)} {rows.length === 1 ? "message" : "messages"} shown
            {timelineCursor.value ? "" : " · end of timeline"}
          </span>
          {moreError.value !== null && <span class="text-danger small">{errorMessage(moreError.value)}</span>}
          {timelineCursor.value && (
            <BusyButton
              class="btn btn-sm"
              busy={moreLoading}
              busyLabel="Loading…"
              onClick={() => void loadMoreTimeline()}
              data-testid="messages-load-more"
            >
              Load more
            </BusyButton>
          )}
        </div>
      )}
    </>
  );
}

function MessageRow({ m, fresh }: { m: FeedMessage; fresh: boolean }) {
  const href = `/messages/${encodeURIComponent(m.id)}`;
  return (
    <tr
      data-testid={`message-row-${m.id}`}
      class={fresh ? "row-fresh" : undefined}
      onClick={(e) => {
        if (e.target instanceof Element && e.target.closest("a, button, input, select")) return;
        if (window.getSelection()?.toString()) return;
        navigate(href);
      }}
    >
      <td class="cell-nowrap">
        <a
          href={href}
          class="row-link"
          onClick={(e) => {
            if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
            e.preventDefault();
            navigate(href);
          }}
        >
          <Clock iso={m.sentAt} />
          <span class="visually-hidden">, open message</span>
        </a>
      </td>
      <td class="cell-nowrap">
        <AgentRoute from={m.from} to={m.to} />
      </td>
      <td>
        <TypeChip type={m.type} />
        {m.hop > 1 && (
          <span class="hop" title="Position in its correlation chain">
            hop {m.hop}
          </span>
        )}
      </td>
      <td>
        <DeliveryBadge status={m.status} reason={m.reason} testId={`message-status-${m.id}`} />
      </td>
      <td class="cell-preview">
        <span class="preview" title={m.payloadPreview}>
          {m.payloadPreview || <span class="faint">(empty)</span>}
        </span>
      </td>
    </tr>
  );
}
