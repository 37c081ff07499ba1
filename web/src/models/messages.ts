import { signal } from "@preact/signals";
import { api } from "../api";
import type { DeliveryState, FeedEvent, FeedMessage, RejectReason } from "../wire";
import { agentName } from "./agents";
import { resource } from "./resource";
import { onSessionReset } from "./session";

export const MESSAGE_PAGE_SIZE = 50;
const HIGHLIGHT_MS = 2500;

/** The timeline's filters, as they appear in the URL; "" means "any". `from`/`to` are ISO datetimes. */
export interface MessageFilters {
  agentId: string;
  type: string;
  status: string;
  from: string;
  to: string;
  q: string;
}

export const FILTER_KEYS = ["agentId", "type", "status", "from", "to", "q"] as const satisfies ReadonlyArray<
  keyof MessageFilters
>;

export function filtersFromSearch(params: URLSearchParams): MessageFilters {
  return {
    agentId: params.get("agentId") ?? "",
    type: params.get("type") ?? "",
    status: params.get("status") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
    q: params.get("q") ?? "",
  };
}

export function hasFilters(f: MessageFilters): boolean {
  return FILTER_KEYS.some((k) => f[k] !== "");
}

interface MessagePage {
  data: FeedMessage[];
  meta: { limit: number; nextCursor: string | null };
}

/** The loaded timeline, newest first; live events are merged in. */
export const timeline = signal<FeedMessage[] | undefined>(undefined);
export const timelineCursor = signal<string | null>(null);
export const timelineLoading = signal(false);
export const timelineError = signal<unknown>(null);
export const moreLoading = signal(false);
export const moreError = signal<unknown>(null);
/** Rows that just arrived live, highlighted briefly. */
export const freshIds = signal<ReadonlySet<string>>(new Set());

let active: MessageFilters | null = null;
let controller: AbortController | null = null;

function query(f: MessageFilters, cursor?: string) {
  return { ...f, limit: MESSAGE_PAGE_SIZE, ...(cursor ? { cursor } : {}) };
}

export async function loadTimeline(f: MessageFilters): Promise<void> {
  controller?.abort();
  const mine = new AbortController();
  controller = mine;
  active = f;
  timelineLoading.value = true;
  timelineError.value = null;
  moreError.value = null;
  try {
    const page = await api.get<MessagePage>("/api/dashboard/messages", query(f), mine.signal);
    if (controller !== mine) return;
    timeline.value = page.data;
    timelineCursor.value = page.meta.nextCursor;
    freshIds.value = new Set();
  } catch (e) {
    if (controller === mine && !mine.signal.aborted) timelineError.value = e;
  } finally {
    if (controller === mine) {
      timelineLoading.value = false;
      controller = null;
    }
  }
}

export async function loadMoreTimeline(): Promise<void> {
  const cursor = timelineCursor.value;
  const f = active;
  if (!cursor || !f || moreLoading.value) return;
  moreLoading.value = true;
  moreError.value = null;
  try {
    const page = await api.get<MessagePage>("/api/dashboard/messages", query(f, cursor));
    if (active !== f) return;
    const seen = new Set((timeline.value ?? []).map((m) => m.id));
    timeline.value = [...(timeline.value ?? []), ...page.data.filter((m) => !seen.has(m.id))];
    timelineCursor.value = page.meta.nextCursor;
  } catch (e) {
    moreError.value = e;
  } finally {
    moreLoading.value = false;
  }
}

/** Whether a live message belongs in the timeline under these filters (the server's rules, approximated for q). */
export function matchesFilters(m: FeedMessage, f: MessageFilters): boolean {
  if (f.agentId && m.from !== f.agentId && m.to !== f.agentId) return false;
  if (f.type && m.type !== f.type) return false;
  if (f.status && m.status !== f.status) return false;
  const sent = Date.parse(m.sentAt);
  if (f.from && sent < Date.parse(f.from)) return false;
  if (f.to && sent > Date.parse(f.to)) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    const hay = [m.payloadPreview, m.type, m.id, m.correlationId ?? "", agentName(m.from), agentName(m.to)]
      .join("\n")
      .toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

function highlight(id: string): void {
  freshIds.value = new Set([...freshIds.value, id]);
  setTimeout(() => {
    if (!freshIds.value.has(id)) return;
    const next = new Set(freshIds.value);
    next.delete(id);
    freshIds.value = next;
  }, HIGHLIGHT_MS);
}

function withStatus<T extends FeedMessage>(
  m: T,
  status: DeliveryState,
  reason: RejectReason | undefined,
  at: string,
): T {
  const { reason: _old, ...rest } = m;
  return { ...rest, status, updatedAt: at, ...(reason ? { reason } : {}) } as T;
}

/**
 * Live messages seen lately, whatever the filters: a message sent as `queued` that turns `rejected`
 * joins a timeline filtered on "rejected" at that moment.
 */
const recent = new Map<string, FeedMessage>();
const RECENT_MAX = 500;
function remember(m: FeedMessage): void {
  recent.delete(m.id);
  recent.set(m.id, m);
  if (recent.size > RECENT_MAX) {
    const oldest = recent.keys().next().value;
    if (oldest !== undefined) recent.delete(oldest);
  }
}

/** Merges one feed event into the timeline: new messages on top, status changes in place. */
export function applyTimelineEvent(e: FeedEvent): void {
  if (e.event === "message") remember(e.message);
  if (e.event === "message_status") {
    const seen = recent.get(e.id);
    if (seen) remember(withStatus(seen, e.status, e.reason, e.at));
  }
  const list = timeline.value;
  if (!list || !active) return;
  if (e.event === "message") {
    const m = e.message;
    const i = list.findIndex((x) => x.id === m.id);
    if (i >= 0) {
      timeline.value = list.map((x) => (x.id === m.id ? m : x));
      return;
    }
    if (!matchesFilters(m, active)) return;
    timeline.value = [m, ...list];
    highlight(m.id);
  } else if (e.event === "message_status") {
    if (!list.some((x) => x.id === e.id)) {
      const now = recent.get(e.id);
      if (now && matchesFilters(now, active)) {
        timeline.value = [now, ...list].sort((a, b) => b.sentAt.localeCompare(a.sentAt));
        highlight(now.id);
      }
      return;
    }
    timeline.value = list.map((x) => (x.id === e.id ? withStatus(x, e.status, e.reason, e.at) : x));
  }
}

// ---- one message ----

export interface MessageHistoryEntry {
  status: DeliveryState;
  reason?: string;
  at: string;
}

export interface MessageDetail {
  message: FeedMessage & { payload: unknown; ttlSeconds: number | null; expiresAt: string | null };
  history: MessageHistoryEntry[];
  thread: FeedMessage[];
}

export const messageDetail = resource((signal, id: string) =>
  api.get<MessageDetail>(`/api/dashboard/messages/${encodeURIComponent(id)}`, undefined, signal),
);

/** Keeps the open message current: its status and history, and new replies in its thread. */
export function applyDetailEvent(e: FeedEvent): void {
  const d = messageDetail.data.value;
  if (!d) return;
  if (e.event === "message_status") {
    const isMain = e.id === d.message.id;
    const inThread = d.thread.some((t) => t.id === e.id);
    if (!isMain && !inThread) return;
    const entry: MessageHistoryEntry = {
      status: e.status,
      at: e.at,
      ...(e.reason ? { reason: e.reason } : {}),
    };
    const last = d.history[d.history.length - 1];
    const duplicate = last && last.status === e.status && last.at === e.at;
    messageDetail.set({
      message: isMain ? withStatus(d.message, e.status, e.reason, e.at) : d.message,
      history: isMain && !duplicate ? [...d.history, entry] : d.history,
      thread: d.thread.map((t) => (t.id === e.id ? withStatus(t, e.status, e.reason, e.at) : t)),
    });
  } else if (e.event === "message") {
    const m = e.message;
    const threadKey = d.message.correlationId ?? d.message.id;
    const related = m.correlationId === threadKey || m.id === threadKey;
    if (!related || d.thread.some((t) => t.id === m.id)) return;
    const thread = [...d.thread, m].sort((a, b) => a.sentAt.localeCompare(b.sentAt));
    messageDetail.set({ ...d, thread });
  }
}

// ---- who talks to whom ----

export const FLOW_PERIODS = [
  { value: "1h", label: "Last hour", ms: 3600_000 },
  { value: "24h", label: "Last 24 hours", ms: 24 * 3600_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 24 * 3600_000 },
] as const;
export type FlowPeriod = (typeof FLOW_PERIODS)[number]["value"];

export interface FlowEdge {
  from: string;
  to: string;
  count: number;
  rejected: number;
}
export interface MessageFlow {
  agents: Array<{ id: string; name: string }>;
  edges: FlowEdge[];
}

export const flowPeriod = signal<FlowPeriod>("24h");

export const messageFlow = resource(async (signal, period: FlowPeriod) => {
  const ms = FLOW_PERIODS.find((p) => p.value === period)?.ms ?? 24 * 3600_000;
  const to = new Date();
  const from = new Date(to.getTime() - ms);
  const flow = await api.get<MessageFlow>(
    "/api/dashboard/messages/flow",
    { from: from.toISOString(), to: to.toISOString() },
    signal,
  );
  return { ...flow, period, from: from.toISOString(), to: to.toISOString() };
});

onSessionReset(() => {
  controller?.abort();
  controller = null;
  active = null;
  timeline.value = undefined;
  timelineCursor.value = null;
  timelineLoading.value = false;
  timelineError.value = null;
  moreError.value = null;
  freshIds.value = new Set();
  recent.clear();
  messageDetail.reset();
  messageFlow.reset();
  flowPeriod.value = "24h";
});
