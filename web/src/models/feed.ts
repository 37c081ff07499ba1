import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, api, refreshSession } from "../api";
import type { Me } from "../types";
import {
  type FeedEvent,
  type FeedFilters,
  type FeedMessage,
  isDeliveryState,
  isMessageType,
  REJECT_REASONS,
  type RejectReason,
} from "../wire";
import { onSessionReset } from "./session";

/**
 * The tenant's live feed: one WebSocket to /ws/messages for the whole tab, opened while at least one
 * page uses it. Authenticated by the session cookie; a 4401 close refreshes the session once and
 * reconnects. Other drops reconnect with exponential backoff (0.5 s → 10 s, with jitter).
 */

export type FeedStatus = "idle" | "connecting" | "live" | "reconnecting" | "offline";

export const feedStatus = signal<FeedStatus>("idle");
/** The last `error` event or refusal, for the indicator's tooltip. */
export const feedError = signal<string | null>(null);
/** When the next reconnect attempt is due (ms since epoch), while reconnecting. */
export const feedRetryAt = signal<number | null>(null);

type Listener = (event: FeedEvent) => void;

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const STABLE_MS = 5_000;
const PING_MS = 25_000;
const RELEASE_GRACE_MS = 3_000;
/** The server closes with this code when the access token behind the cookie has expired. */
export const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;

const listeners = new Set<Listener>();
let users = 0;
let socket: WebSocket | null = null;
let attempt = 0;
let failuresBeforeOpen = 0;
let authRetried = false;
let filters: FeedFilters = {};
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let stableTimer: ReturnType<typeof setTimeout> | null = null;
let pingTimer: ReturnType<typeof setInterval> | null = null;
let releaseTimer: ReturnType<typeof setTimeout> | null = null;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
const str = (v: unknown): v is string => typeof v === "string";

function asReason(v: unknown): RejectReason | undefined {
  return str(v) && (REJECT_REASONS as readonly string[]).includes(v) ? (v as RejectReason) : undefined;
}

export function parseFeedMessage(v: unknown): FeedMessage | null {
  if (!isRecord(v)) return null;
  const { id, from, to, type, status, hop, payloadPreview, sentAt, updatedAt, correlationId, reason } = v;
  if (!str(id) || !str(from) || !str(to) || !str(type) || !str(status) || !str(sentAt)) return null;
  if (!isMessageType(type) || !isDeliveryState(status)) return null;
  const r = asReason(reason);
  return {
    id,
    from,
    to,
    type,
    status,
    hop: typeof hop === "number" ? hop : 0,
    payloadPreview: str(payloadPreview) ? payloadPreview : "",
    sentAt,
    updatedAt: str(updatedAt) ? updatedAt : sentAt,
    ...(str(correlationId) ? { correlationId } : {}),
    ...(r ? { reason: r } : {}),
  };
}

/** One frame → a typed event, or null for anything malformed or unknown (ignored, never thrown). */
export function parseFeedEvent(raw: string): FeedEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(v) || !str(v.event)) return null;
  const at = str(v.at) ? v.at : new Date().toISOString();
  switch (v.event) {
    case "message": {
      const message = parseFeedMessage(v.message);
      return message ? { event: "message", message } : null;
    }
    case "message_status": {
      const { id, from, to, type, status } = v;
      if (!str(id) || !str(status) || !isDeliveryState(status)) return null;
      const reason = asReason(v.reason);
      return {
        event: "message_status",
        id,
        from: str(from) ? from : "",
        to: str(to) ? to : "",
        type: str(type) && isMessageType(type) ? type : "notification",
        status,
        at,
        ...(reason ? { reason } : {}),
      };
    }
    case "config_applied":
      if (!str(v.agentId) || typeof v.version !== "number") return null;
      return { event: "config_applied", agentId: v.agentId, version: v.version, at };
    case "presence":
      if (!str(v.agentId) || typeof v.connected !== "boolean") return null;
      return { event: "presence", agentId: v.agentId, connected: v.connected, at };
    case "allowlist":
      if (typeof v.version !== "number") return null;
      return { event: "allowlist", version: v.version, updatedBy: str(v.updatedBy) ? v.updatedBy : null, at };
    case "provisioning":
      if (!str(v.tenantId) || !str(v.status)) return null;
      return {
        event: "provisioning",
        tenantId: v.tenantId,
        status: v.status,
        steps: Array.isArray(v.steps)
          ? v.steps.filter(isRecord).map((s) => ({
              name: str(s.name) ? s.name : "",
              status: str(s.status) ? s.status : "",
              ...(str(s.error) ? { error: s.error } : {}),
            }))
          : [],
      };
    case "alert":
      return { ...v, event: "alert" };
    case "quota":
      if (!str(v.agentId) || !str(v.state)) return null;
      return {
        event: "quota",
        agentId: v.agentId,
        name: str(v.name) ? v.name : v.agentId,
        state: v.state,
        usedTokens: typeof v.usedTokens === "number" ? v.usedTokens : 0,
        quota: typeof v.quota === "number" ? v.quota : 0,
        at,
      };
    case "usage":
      if (!Array.isArray(v.agents)) return null;
      return {
        event: "usage",
        agents: v.agents.filter(isRecord).flatMap((a) =>
          str(a.agentId)
            ? [
                {
                  agentId: a.agentId,
                  monthlyTokensUsed: typeof a.monthlyTokensUsed === "number" ? a.monthlyTokensUsed : 0,
                  quotaState: str(a.quotaState) ? a.quotaState : "normal",
                },
              ]
            : [],
        ),
        at,
      };
    case "skill_version": {
      const changes = [
        "review_started",
        "approved",
        "rejected",
        "changes_requested",
        "deprecated",
        "dry_run",
      ];
      if (!str(v.skillId) || !str(v.versionId) || !str(v.change) || !changes.includes(v.change)) return null;
      return {
        event: "skill_version",
        skillId: v.skillId,
        versionId: v.versionId,
        name: str(v.name) ? v.name : v.skillId,
        version: str(v.version) ? v.version : "",
        status: str(v.status) ? v.status : "",
        change: v.change as Extract<FeedEvent, { event: "skill_version" }>["change"],
        at,
      };
    }
    case "subscribed":
      return { event: "subscribed", filters: isRecord(v.filters) ? (v.filters as FeedFilters) : {} };
    case "error":
      return {
        event: "error",
        code: str(v.code) ? v.code : "error",
        message: str(v.message) ? v.message : "The live feed reported an error",
      };
    default:
      return null;
  }
}

function clearTimer(t: ReturnType<typeof setTimeout> | null): null {
  if (t) clearTimeout(t);
  return null;
}

function send(frame: unknown): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function sendFilters(): void {
  send({ op: "subscribe", filters });
}

function feedUrl(): string {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${window.location.host}/ws/messages`;
}

function connect(): void {
  retryTimer = clearTimer(retryTimer);
  feedRetryAt.value = null;
  if (users === 0 || socket) return;
  if (feedStatus.value !== "reconnecting") feedStatus.value = "connecting";
  let ws: WebSocket;
  try {
    ws = new WebSocket(feedUrl());
  } catch (e) {
    feedError.value = e instanceof Error ? e.message : "Cannot open the live feed";
    scheduleReconnect();
    return;
  }
  socket = ws;
  let opened = false;

  ws.onopen = () => {
    if (socket !== ws) return;
    opened = true;
    failuresBeforeOpen = 0;
    feedStatus.value = "live";
    feedError.value = null;
    sendFilters();
    stableTimer = clearTimer(stableTimer);
    stableTimer = setTimeout(() => {
      attempt = 0;
      authRetried = false;
    }, STABLE_MS);
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ op: "ping" }), PING_MS);
  };

  ws.onmessage = (m: MessageEvent) => {
    if (socket !== ws || typeof m.data !== "string") return;
    const event = parseFeedEvent(m.data);
    if (!event) return;
    if (event.event === "error") feedError.value = event.message;
    for (const fn of [...listeners]) {
      try {
        fn(event);
      } catch (e) {
        // A page's handler failing must not take the feed down for the others.
        console.error(e);
      }
    }
  };

  ws.onclose = (ev: CloseEvent) => {
    if (socket !== ws) return;
    socket = null;
    stableTimer = clearTimer(stableTimer);
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = null;
    if (users === 0) {
      feedStatus.value = "idle";
      return;
    }
    void handleClose(ev.code, ev.reason, opened);
  };
}

async function handleClose(code: number, reason: string, opened: boolean): Promise<void> {
  if (code === CLOSE_FORBIDDEN) {
    feedStatus.value = "offline";
    feedError.value = reason || "This account may not watch the live feed";
    return;
  }
  if (!opened) failuresBeforeOpen++;
  // 4401: the access token expired. The Worker refuses an expired cookie before the upgrade, which
  // a browser only sees as 1006 without ever opening: treated the same. Either way the session is
  // refreshed once (again only after a connection has held for a while).
  const auth = code === CLOSE_UNAUTHENTICATED || (!opened && failuresBeforeOpen >= 1);
  if (auth && !authRetried) {
    authRetried = true;
    feedStatus.value = "reconnecting";
    if (await refreshSession()) {
      if (users > 0) connect();
      return;
    }
    // The refresh failed: ask the API who we are. A 401 there ends the session the usual way
    // (to /login); anything else (offline, 5xx) just means keep trying.
    try {
      await api.get<Me>("/api/auth/me");
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
    }
  }
  if (code === CLOSE_UNAUTHENTICATED) feedError.value = reason || "The session expired";
  scheduleReconnect();
}

function scheduleReconnect(): void {
  if (users === 0) return;
  feedStatus.value = "reconnecting";
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  attempt++;
  retryTimer = clearTimer(retryTimer);
  feedRetryAt.value = Date.now() + delay;
  retryTimer = setTimeout(connect, delay);
}

/** Back online or back to the tab: try now rather than waiting out the backoff. */
function retrySoon(): void {
  if (users > 0 && !socket && retryTimer) {
    attempt = 0;
    connect();
  }
}
window.addEventListener("online", retrySoon);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") retrySoon();
});

function disconnect(): void {
  retryTimer = clearTimer(retryTimer);
  stableTimer = clearTimer(stableTimer);
  releaseTimer = clearTimer(releaseTimer);
  if (pingTimer) clearInterval(pingTimer);
  pingTimer = null;
  const ws = socket;
  socket = null;
  ws?.close(1000, "done");
  attempt = 0;
  failuresBeforeOpen = 0;
  authRetried = false;
  feedStatus.value = "idle";
  feedRetryAt.value = null;
}

/** Holds the connection open until the returned release is called. */
export function acquireFeed(): () => void {
  users++;
  releaseTimer = clearTimer(releaseTimer);
  if (!socket && !retryTimer) connect();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    users = Math.max(0, users - 1);
    if (users === 0) {
      // Navigating between two live pages should not drop and reopen the socket.
      releaseTimer = clearTimer(releaseTimer);
      releaseTimer = setTimeout(() => {
        if (users === 0) disconnect();
      }, RELEASE_GRACE_MS);
    }
  };
}

export function onFeedEvent(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Narrows what the server sends (agents, message types); `{}` is everything. */
export function setFeedFilters(next: FeedFilters): void {
  const same = JSON.stringify(next) === JSON.stringify(filters);
  filters = next;
  if (!same) sendFilters();
}

/**
 * A page's use of the feed: keeps the socket open while mounted and calls `handler` (always the
 * latest one passed, so it may close over current props and signals) for every event.
 */
export function useFeed(handler?: Listener): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const release = acquireFeed();
    const off = onFeedEvent((e) => ref.current?.(e));
    return () => {
      off();
      release();
    };
  }, []);
}

onSessionReset(() => {
  filters = {};
  users = 0;
  disconnect();
  feedError.value = null;
});
