import { computed, signal } from "@preact/signals";
import { ApiError, api, conflictCurrent, errorMessage, type FieldErrors, type VersionInfo } from "../api";
import type { AllowlistEdge, Direction, FeedEvent } from "../wire";
import { resource } from "./resource";
import { onSessionReset } from "./session";
import { showToast } from "./toasts";

export interface AllowlistTraffic {
  from: string;
  to: string;
  count: number;
  lastAt: string;
}

export interface Allowlist {
  version: number;
  edges: AllowlistEdge[];
  updatedAt: string | null;
  updatedBy: string | null;
  /** Messages in the last 24 h per directed sender → recipient pair. */
  traffic: AllowlistTraffic[];
}

export interface SaveAllowlistResponse {
  version: number;
  edges: AllowlistEdge[];
  /** Mailboxes that picked up the new list; a count or their ids. */
  appliedTo: number | string[];
}

/** The saved allowlist, as the server has it. */
export const allowlist = resource((signal) =>
  api.get<Allowlist>("/api/dashboard/allowlist", undefined, signal),
);

/** Local edits; null while there are none. `base` is what they were made on top of. */
export const draftEdges = signal<AllowlistEdge[] | null>(null);
const base = signal<{ version: number; edges: AllowlistEdge[] } | null>(null);

export const saving = signal(false);
export const saveError = signal<string | null>(null);
/** Saved, but not every mailbox confirmed the new version (503 `push_incomplete`). */
export const saveWarning = signal<string | null>(null);
/** The server's 400 `details`, and which edges (by "from>to") they point at. */
export const saveDetails = signal<FieldErrors>({});
export const invalidEdges = signal<ReadonlyMap<string, string[]>>(new Map());
/** A 409: who saved in between. */
export const conflict = signal<VersionInfo | null>(null);
/** Someone else saved a newer version (seen on the live feed). */
export const remoteChange = signal<{ version: number; updatedBy: string | null; at: string } | null>(null);

let lastSavedVersion = 0;

export const edgeKey = (e: { from: string; to: string }) => `${e.from}>${e.to}`;
/** Order-free: a link between A and B is the same link whichever end it was drawn from. */
export const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

const FLIP: Record<Direction, Direction> = {
  both: "both",
  send_only: "receive_only",
  receive_only: "send_only",
};

/** The same link written from the other end: A→B send_only is B→A receive_only. */
export function flipEdge(e: AllowlistEdge): AllowlistEdge {
  return { from: e.to, to: e.from, direction: FLIP[e.direction] };
}

function canonical(e: AllowlistEdge): AllowlistEdge {
  return e.from <= e.to ? e : flipEdge(e);
}

/** What the editor shows: the draft if there is one, else the saved list. */
export const workingEdges = computed<AllowlistEdge[]>(
  () => draftEdges.value ?? allowlist.data.value?.edges ?? [],
);

export type Change =
  | { kind: "added"; edge: AllowlistEdge }
  | { kind: "removed"; edge: AllowlistEdge }
  | { kind: "changed"; edge: AllowlistEdge; before: AllowlistEdge };

function byPair(edges: readonly AllowlistEdge[]): Map<string, AllowlistEdge> {
  const m = new Map<string, AllowlistEdge>();
  for (const e of edges) m.set(pairKey(e.from, e.to), e);
  return m;
}

export function diffEdges(before: readonly AllowlistEdge[], after: readonly AllowlistEdge[]): Change[] {
  const a = byPair(before);
  const b = byPair(after);
  const out: Change[] = [];
  for (const [k, e] of b) {
    const old = a.get(k);
    if (!old) out.push({ kind: "added", edge: e });
    else if (canonical(old).direction !== canonical(e).direction)
      out.push({ kind: "changed", edge: e, before: old });
  }
  for (const [k, e] of a) if (!b.has(k)) out.push({ kind: "removed", edge: e });
  return out;
}

export const changes = computed<Change[]>(() => {
  const d = draftEdges.value;
  const b = base.value;
  return d && b ? diffEdges(b.edges, d) : [];
});
export const dirty = computed(() => changes.value.length > 0);

/** The edges the current draft started from, to show removed links and undo single changes. */
export const baseEdges = computed(() => base.value?.edges ?? allowlist.data.value?.edges ?? []);

function edit(fn: (edges: AllowlistEdge[]) => AllowlistEdge[]): void {
  const server = allowlist.data.value;
  if (!server) return;
  if (!draftEdges.value || !base.value) base.value = { version: server.version, edges: server.edges };
  const next = fn([...(draftEdges.value ?? server.edges)]);
  // Back to where it started: no draft at all, so the counter shows 0 and Save is off.
  draftEdges.value = diffEdges(base.value.edges, next).length ? next : null;
  if (!draftEdges.value) base.value = null;
  saveError.value = null;
  invalidEdges.value = new Map();
}

/** Adds a link; returns why it cannot be added, or null. */
export function addEdge(from: string, to: string, direction: Direction = "both"): string | null {
  if (!from || !to) return "Choose both agents.";
  if (from === to) return "An agent cannot be linked to itself.";
  if (workingEdges.value.some((e) => pairKey(e.from, e.to) === pairKey(from, to)))
    return "These agents are already linked. Change the direction of that link instead.";
  edit((edges) => [...edges, { from, to, direction }]);
  return null;
}

export function setDirection(key: string, direction: Direction): void {
  edit((edges) => edges.map((e) => (edgeKey(e) === key ? { ...e, direction } : e)));
}

export function removeEdge(key: string): void {
  edit((edges) => edges.filter((e) => edgeKey(e) !== key));
}

/** Takes back one change: restores the link as it was in the base (or drops an added one). */
export function undoChange(pair: string): void {
  const original = baseEdges.value.find((e) => pairKey(e.from, e.to) === pair);
  edit((edges) => {
    const rest = edges.filter((e) => pairKey(e.from, e.to) !== pair);
    return original ? [...rest, original] : rest;
  });
}

export function discardChanges(): void {
  saveWarning.value = null;
  draftEdges.value = null;
  base.value = null;
  saveError.value = null;
  saveDetails.value = {};
  invalidEdges.value = new Map();
  conflict.value = null;
}

/** Loads the saved list; local edits are kept unless `discard`. */
export async function loadAllowlist(opts: { discard?: boolean } = {}): Promise<void> {
  if (opts.discard) discardChanges();
  await allowlist.load();
  const latest = allowlist.data.value;
  if (latest && remoteChange.value && remoteChange.value.version <= latest.version) remoteChange.value = null;
}

/** After a conflict: fetch the latest and replay this draft's changes on top of it. */
export async function reapplyOnLatest(): Promise<void> {
  const mine = changes.value;
  draftEdges.value = null;
  base.value = null;
  conflict.value = null;
  await allowlist.load();
  const latest = allowlist.data.value;
  if (!latest || allowlist.error.value) return;
  remoteChange.value = null;
  const replayed = byPair(latest.edges);
  for (const c of mine) {
    const k = pairKey(c.edge.from, c.edge.to);
    if (c.kind === "removed") replayed.delete(k);
    else replayed.set(k, c.edge);
  }
  const next = [...replayed.values()];
  if (diffEdges(latest.edges, next).length) {
    base.value = { version: latest.version, edges: latest.edges };
    draftEdges.value = next;
  }
}

function edgeIndexOf(path: string): number | null {
  const m = /^(?:body\.)?edges(?:\.|\[)(\d+)/.exec(path);
  return m ? Number(m[1]) : null;
}

export async function saveAllowlist(): Promise<boolean> {
  const server = allowlist.data.value;
  const edges = workingEdges.value;
  if (!server || saving.value) return false;
  const expectedVersion = base.value?.version ?? server.version;
  saving.value = true;
  saveError.value = null;
  saveWarning.value = null;
  saveDetails.value = {};
  invalidEdges.value = new Map();
  conflict.value = null;
  try {
    const res = await api.put<SaveAllowlistResponse>("/api/dashboard/allowlist", { expectedVersion, edges });
    lastSavedVersion = res.version;
    allowlist.set({ ...server, version: res.version, edges: res.edges, updatedAt: new Date().toISOString() });
    draftEdges.value = null;
    base.value = null;
    if (remoteChange.value && remoteChange.value.version <= res.version) remoteChange.value = null;
    const n = typeof res.appliedTo === "number" ? res.appliedTo : res.appliedTo.length;
    showToast(`Saved version ${res.version} — applied to ${n} ${n === 1 ? "mailbox" : "mailboxes"}`);
    // Who saved and the traffic come with a fresh read.
    void allowlist.load();
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      conflict.value = conflictCurrent(e) ?? {};
    } else if (e instanceof ApiError && e.code === "push_incomplete") {
      // The version is stored; some mailboxes pick it up late. The draft is what was saved.
      discardChanges();
      saveWarning.value = e.message;
      await loadAllowlist();
      return true;
    } else {
      saveError.value = errorMessage(e);
      if (e instanceof ApiError && e.details) {
        saveDetails.value = e.details;
        const bad = new Map<string, string[]>();
        for (const [path, messages] of Object.entries(e.details)) {
          const i = edgeIndexOf(path);
          const edge = i === null ? undefined : edges[i];
          if (edge) bad.set(edgeKey(edge), [...(bad.get(edgeKey(edge)) ?? []), ...messages]);
        }
        invalidEdges.value = bad;
      }
    }
    return false;
  } finally {
    saving.value = false;
  }
}

/** A live `allowlist` event: a newer version than ours, not from our own save, is announced. */
export function applyAllowlistEvent(e: FeedEvent): void {
  if (e.event !== "allowlist" || saving.value) return;
  const server = allowlist.data.value;
  if (e.version <= lastSavedVersion || (server && e.version <= server.version)) return;
  remoteChange.value = { version: e.version, updatedBy: e.updatedBy, at: e.at };
}

// ---- node positions, per tenant, in this browser ----

export type Positions = Record<string, { x: number; y: number }>;
const layoutKey = (tenantId: string) => `aegis:allowlist-layout:${tenantId}`;

export function readPositions(tenantId: string): Positions {
  try {
    const raw = localStorage.getItem(layoutKey(tenantId));
    const v: unknown = raw ? JSON.parse(raw) : null;
    if (!v || typeof v !== "object") return {};
    const out: Positions = {};
    for (const [id, p] of Object.entries(v as Record<string, unknown>)) {
      if (p && typeof p === "object") {
        const { x, y } = p as Record<string, unknown>;
        if (typeof x === "number" && typeof y === "number") out[id] = { x, y };
      }
    }
    return out;
  } catch {
    return {};
  }
}

export function writePositions(tenantId: string, positions: Positions | null): void {
  try {
    if (positions) localStorage.setItem(layoutKey(tenantId), JSON.stringify(positions));
    else localStorage.removeItem(layoutKey(tenantId));
  } catch {
    // Storage full or disabled: the layout just is not remembered.
  }
}

onSessionReset(() => {
  allowlist.reset();
  discardChanges();
  saving.value = false;
  remoteChange.value = null;
  lastSavedVersion = 0;
});
