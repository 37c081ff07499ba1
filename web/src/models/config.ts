import { computed, signal } from "@preact/signals";
import { ApiError, api, conflictCurrent, errorMessage, type FieldErrors, type VersionInfo } from "../api";
import { deepEqual, fromServerDetails, type JsonSchema } from "../json-schema";
import type { FeedEvent } from "../wire";
import { resource } from "./resource";
import { onSessionReset } from "./session";

export interface ConfigVersion {
  version: number;
  config: unknown;
  updatedAt: string;
  updatedBy: string | null;
}

export interface ConfigSaveResponse {
  version: number;
  /** Agents that were connected and got the new version pushed. */
  pushedTo: string[];
  /** Agents that were offline; they get it when they connect. */
  pending: string[];
}

export interface AgentConfigStatus {
  agentId: string;
  name: string;
  connected: boolean;
  appliedVersion: number | null;
  appliedAt: string | null;
}

export interface ConfigStatus {
  version: number;
  agents: AgentConfigStatus[];
}

export const config = resource((signal) =>
  api.get<ConfigVersion>("/api/dashboard/config", undefined, signal),
);
export const configSchema = resource((signal) =>
  api.get<JsonSchema>("/api/dashboard/config/schema", undefined, signal),
);
export const configStatus = resource((signal) =>
  api.get<ConfigStatus>("/api/dashboard/config/status", undefined, signal),
);
export const configVersions = resource((signal) =>
  api.get<{ data: Array<Omit<ConfigVersion, "config">> }>(
    "/api/dashboard/config/versions",
    undefined,
    signal,
  ),
);
export const configVersion = resource((signal, version: number) =>
  api.get<ConfigVersion>(`/api/dashboard/config/versions/${version}`, undefined, signal),
);

export type EditorMode = "form" | "json";
export const editorMode = signal<EditorMode>("form");

/** The edited configuration (null: untouched), and the version it was started from. */
export const draft = signal<unknown>(null);
export const draftBase = signal<number | null>(null);
export const jsonText = signal("");
export const jsonError = signal<string | null>(null);

export const saving = signal(false);
export const saveError = signal<string | null>(null);
/** Field messages from the server's 400, keyed like the form ("messaging.maxHops"). */
export const serverErrors = signal<FieldErrors>({});
export const conflict = signal<VersionInfo | null>(null);
/** The outcome of the last save or rollback, until the next edit. */
export const lastSaved = signal<(ConfigSaveResponse & { rolledBackFrom?: number }) | null>(null);

/** What the editor shows: the draft, or the saved configuration. */
export const working = computed<unknown>(() =>
  draft.value !== null ? draft.value : config.data.value?.config,
);
export const configDirty = computed(() => {
  const saved = config.data.value;
  return draft.value !== null && saved !== undefined && !deepEqual(draft.value, saved.config);
});

export function editConfig(next: unknown): void {
  const saved = config.data.value;
  if (!saved) return;
  if (draft.value === null) draftBase.value = saved.version;
  draft.value = next;
  lastSaved.value = null;
  saveError.value = null;
  serverErrors.value = {};
}

export function setJsonText(text: string): void {
  jsonText.value = text;
  try {
    const parsed: unknown = JSON.parse(text);
    jsonError.value = null;
    editConfig(parsed);
  } catch (e) {
    jsonError.value = describeJsonError(e, text);
  }
}

/** "Unexpected token } in JSON at position 120" → "… (line 7, column 3)" */
function describeJsonError(e: unknown, text: string): string {
  const msg = e instanceof Error ? e.message : "Invalid JSON";
  const m = /position (\d+)/.exec(msg);
  if (!m) return msg;
  const pos = Number(m[1]);
  const before = text.slice(0, pos).split("\n");
  return `${msg.replace(/\s*\(line \d+ column \d+\)/, "")} (line ${before.length}, column ${(before[before.length - 1]?.length ?? 0) + 1})`;
}

/** Switches editor; leaving JSON with a syntax error is refused (returns false). */
export function setMode(mode: EditorMode): boolean {
  if (mode === editorMode.value) return true;
  if (mode === "json") {
    jsonText.value = JSON.stringify(working.value ?? {}, null, 2);
    jsonError.value = null;
  } else if (jsonError.value) {
    return false;
  }
  editorMode.value = mode;
  return true;
}

export function discardConfig(): void {
  draft.value = null;
  draftBase.value = null;
  jsonError.value = null;
  saveError.value = null;
  serverErrors.value = {};
  conflict.value = null;
  if (editorMode.value === "json") jsonText.value = JSON.stringify(config.data.value?.config ?? {}, null, 2);
}

export async function loadConfig(opts: { discard?: boolean } = {}): Promise<void> {
  await config.load();
  if (opts.discard) discardConfig();
}

function afterSave(res: ConfigSaveResponse, value: unknown, updatedBy: string | null): void {
  config.set({ version: res.version, config: value, updatedAt: new Date().toISOString(), updatedBy });
  draft.value = null;
  draftBase.value = null;
  if (editorMode.value === "json") jsonText.value = JSON.stringify(value, null, 2);
  // The saved version as the server normalised it (defaults filled in), the live list and the history.
  void config.load().then(() => {
    if (editorMode.value === "json" && draft.value === null)
      jsonText.value = JSON.stringify(config.data.value?.config ?? {}, null, 2);
  });
  void followApplied(res.version);
  void configVersions.load();
}

/**
 * Re-reads the per-agent status until every connected agent has applied `version` (or 20 s pass).
 * The feed's config_applied events usually get there first; this covers an event that arrived
 * while a status read was in flight, which would otherwise leave an agent shown as "applying".
 */
async function followApplied(version: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (let delay = 500; Date.now() < deadline; delay = Math.min(delay * 2, 4000)) {
    await configStatus.load();
    const s = configStatus.data.value;
    if (!s || s.version > version) return;
    if (s.agents.every((a) => !a.connected || (a.appliedVersion ?? 0) >= version)) return;
    await new Promise((r) => setTimeout(r, delay));
  }
}

function fail(e: unknown): void {
  const current = conflictCurrent(e);
  if (current) {
    conflict.value = current;
    return;
  }
  saveError.value = errorMessage(e);
  if (e instanceof ApiError && e.details) serverErrors.value = fromServerDetails(e.details);
}

export async function saveConfig(updatedBy: string | null): Promise<boolean> {
  const saved = config.data.value;
  const value = working.value;
  if (!saved || saving.value) return false;
  saving.value = true;
  saveError.value = null;
  serverErrors.value = {};
  conflict.value = null;
  try {
    const res = await api.put<ConfigSaveResponse>("/api/dashboard/config", {
      config: value,
      expectedVersion: draftBase.value ?? saved.version,
    });
    lastSaved.value = res;
    afterSave(res, value, updatedBy);
    return true;
  } catch (e) {
    fail(e);
    return false;
  } finally {
    saving.value = false;
  }
}

export async function rollbackConfig(version: number, updatedBy: string | null): Promise<boolean> {
  if (saving.value) return false;
  saving.value = true;
  saveError.value = null;
  conflict.value = null;
  try {
    const res = await api.post<ConfigSaveResponse>("/api/dashboard/config/rollback", { version });
    const old = configVersion.data.value?.version === version ? configVersion.data.value.config : undefined;
    lastSaved.value = { ...res, rolledBackFrom: version };
    jsonError.value = null;
    serverErrors.value = {};
    afterSave(res, old ?? config.data.value?.config, updatedBy);
    return true;
  } catch (e) {
    fail(e);
    return false;
  } finally {
    saving.value = false;
  }
}

/** A `config_applied` event turns that agent's row green; `presence` moves its connection dot. */
export function applyConfigEvent(e: FeedEvent): void {
  const s = configStatus.data.value;
  if (!s) return;
  if (e.event === "presence") {
    configStatus.set({
      ...s,
      agents: s.agents.map((a) => (a.agentId === e.agentId ? { ...a, connected: e.connected } : a)),
    });
    return;
  }
  if (e.event !== "config_applied") return;
  if (!s.agents.some((a) => a.agentId === e.agentId)) {
    void configStatus.load();
    return;
  }
  configStatus.set({
    ...s,
    agents: s.agents.map((a) =>
      a.agentId === e.agentId && (a.appliedVersion ?? 0) <= e.version
        ? { ...a, appliedVersion: e.version, appliedAt: e.at, connected: true }
        : a,
    ),
  });
}

onSessionReset(() => {
  config.reset();
  configSchema.reset();
  configStatus.reset();
  configVersions.reset();
  configVersion.reset();
  discardConfig();
  editorMode.value = "form";
  jsonText.value = "";
  lastSaved.value = null;
});
