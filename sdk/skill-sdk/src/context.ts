import { z } from "zod";
import { PermissionDeniedError, type PermissionKind, SkillError } from "./errors";
import type { MessageType, SkillManifest } from "./manifest";
import {
  domainAllowed,
  envAllowed,
  isIpLiteral,
  listingAllowed,
  normalizeWorkspacePath,
  normalizeWorkspacePrefix,
  pathAllowed,
} from "./policy";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A JSON object, as message payloads and task records are. */
export const jsonObjectSchema = z.record(z.string(), z.json());

/** Message payloads are capped by the messaging API. */
export const MAX_MESSAGE_PAYLOAD_BYTES = 64 * 1024;

export const DELIVERY_STATES = [
  "queued",
  "delivered",
  "acknowledged",
  "rejected",
  "expired",
  "failed",
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATES)[number];

export interface OutgoingMessage {
  /** The receiving agent's id or name. */
  to: string;
  type: MessageType;
  payload: JsonObject;
  correlationId?: string;
}

export interface SendResult {
  id: string;
  status: DeliveryStatus;
}

export interface ModelMessage {
  role: "user" | "assistant";
  content: string;
}

export interface ModelRequest {
  /** A model the tenant's plan allows; the gateway picks the agent's configured model when omitted. */
  model?: string;
  system?: string;
  messages: ModelMessage[];
  maxTokens: number;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ModelResponse {
  text: string;
  usage: ModelUsage;
  model?: string;
  stopReason?: string;
}

/** String key-value storage scoped to the agent, as Workers KV or a Durable Object's storage provides. */
export interface SkillKv {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix?: string): Promise<string[]>;
}

export const AGENT_STATES = ["idle", "working", "waiting", "blocked", "done", "error"] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface AgentStatus {
  state: AgentState;
  message?: string;
  /** Percent complete, 0–100. */
  progress?: number;
}

export interface PermissionUseEvent {
  /** Name of the skill that asked. */
  skill: string;
  kind: PermissionKind;
  /** A hostname, workspace path, variable name, message type or model; never a full URL or a value. */
  target: string;
  allowed: boolean;
  /** Why a use was refused. */
  reason?: string;
}

/**
 * What the agent runtime provides. The host is trusted and unrestricted; skills never see it, only the
 * `SkillContext` built over it, which narrows it to the manifest.
 */
export interface SkillHost {
  /**
   * Performs one request without following redirects (it is sent with `redirect: "manual"`): the
   * context follows them itself so that every hop is checked against the manifest.
   */
  fetch(request: Request): Promise<Response>;
  /** The file's text, or null when there is no such file. Paths are workspace-relative. */
  readFile(path: string): Promise<string | null>;
  writeFile(path: string, data: string): Promise<void>;
  /** Workspace-relative paths of the files below `prefix` ("" for all), sorted. */
  listFiles(prefix: string): Promise<string[]>;
  env: Readonly<Record<string, string | undefined>>;
  sendMessage(message: OutgoingMessage): Promise<SendResult>;
  callModel(request: ModelRequest): Promise<ModelResponse>;
  kv: SkillKv;
  reportStatus(status: AgentStatus): Promise<void>;
  now(): Date;
  reportPermissionUse(event: PermissionUseEvent): void;
}

/** What a skill's handler gets: the host's capabilities, narrowed to what the manifest declares. */
export interface SkillContext {
  /** A frozen copy of the manifest the context enforces. */
  readonly manifest: SkillManifest;
  /**
   * `fetch` limited to http(s) on default ports to declared domains. Redirects are followed here, each
   * hop checked against the manifest, and credentials are dropped when a redirect changes origin.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  fs: {
    read(path: string): Promise<string | null>;
    write(path: string, data: string): Promise<void>;
    /** Readable files below the folder `prefix` (default: the whole workspace). */
    list(prefix?: string): Promise<string[]>;
  };
  env: {
    get(name: string): string | undefined;
  };
  messages: {
    send(message: OutgoingMessage): Promise<SendResult>;
  };
  model: {
    complete(request: ModelRequest): Promise<ModelResponse>;
  };
  /** The agent's key-value memory, in a namespace of this skill's own. */
  kv: SkillKv;
  status: {
    report(status: AgentStatus): Promise<void>;
  };
  now(): Date;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/** Builds the capability object a skill runs with. Every use, allowed or refused, is reported. */
export function createSkillContext(manifest: SkillManifest, host: SkillHost): SkillContext {
  // A private frozen copy: a handler that mutates what it was given cannot widen its own permissions.
  const granted = deepFreeze(structuredClone(manifest));
  const { permissions } = granted;
  const skill = granted.name;

  const allow = (kind: PermissionKind, target: string) =>
    host.reportPermissionUse({ skill, kind, target, allowed: true });
  const deny = (kind: PermissionKind, target: string, reason: string): never => {
    host.reportPermissionUse({ skill, kind, target, allowed: false, reason });
    throw new PermissionDeniedError(kind, target, reason);
  };

  const checkUrl = (url: URL) => {
    if (url.protocol !== "http:" && url.protocol !== "https:")
      deny("network", url.protocol, "only http and https are allowed");
    const { hostname } = url;
    if (isIpLiteral(hostname))
      deny("network", hostname, "IP addresses are never allowed; use a declared hostname");
    if (url.port !== "") deny("network", url.host, "only the default http and https ports are allowed");
    if (!domainAllowed(granted, hostname))
      deny("network", hostname, "the host is not in the manifest's permissions.network.allowedDomains");
    allow("network", hostname);
  };

  const workspacePath = (kind: "file_read" | "file_write", path: string, patterns: readonly string[]) => {
    const normalized = normalizeWorkspacePath(path);
    if (normalized === null || normalized.endsWith("/"))
      return deny(kind, path, "not a file path inside the workspace");
    if (!pathAllowed(patterns, normalized))
      return deny(
        kind,
        normalized,
        `not covered by the manifest's ${kind === "file_read" ? "readPaths" : "writePaths"}`,
      );
    allow(kind, normalized);
    return normalized;
  };

  const kvNamespace = `${skill}:`;

  return {
    manifest: granted,

    async fetch(input, init) {
      const original = new Request(input, init);
      let url = new URL(original.url);
      let method = original.method;
      let headers = new Headers(original.headers);
      let body: ArrayBuffer | null =
        method === "GET" || method === "HEAD" || original.body === null ? null : await original.arrayBuffer();

      for (let hop = 0; ; hop++) {
        checkUrl(url);
        const response = await host.fetch(
          new Request(url, { method, headers, body, redirect: "manual", signal: original.signal }),
        );
        const location = response.headers.get("location");
        if (!REDIRECT_STATUSES.has(response.status) || location === null || original.redirect === "manual")
          return response;
        await response.body?.cancel();
        if (original.redirect === "error")
          throw new TypeError(`Redirected from ${url.host} with redirect: "error"`);
        if (hop >= MAX_REDIRECTS)
          throw new SkillError("too_many_redirects", `More than ${MAX_REDIRECTS} redirects`);

        const next = new URL(location, url);
        // Method rewriting as the Fetch standard does it.
        if ((response.status === 303 && method !== "HEAD") || (response.status <= 302 && method === "POST")) {
          method = "GET";
          body = null;
          headers.delete("content-type");
          headers.delete("content-length");
        }
        if (next.origin !== url.origin) {
          headers = new Headers(headers);
          for (const name of CREDENTIAL_HEADERS) headers.delete(name);
        }
        url = next;
      }
    },

    fs: {
      async read(path) {
        return host.readFile(workspacePath("file_read", path, permissions.files.readPaths));
      },
      async write(path, data) {
        await host.writeFile(workspacePath("file_write", path, permissions.files.writePaths), data);
      },
      async list(prefix = "") {
        const folder = normalizeWorkspacePrefix(prefix);
        if (folder === null) return deny("file_read", prefix, "not a folder inside the workspace");
        if (!listingAllowed(permissions.files.readPaths, folder))
          return deny("file_read", folder || "./", "no readPaths pattern covers this folder");
        allow("file_read", folder || "./");
        const files = await host.listFiles(folder);
        return files.filter(
          (file) => file.startsWith(folder) && pathAllowed(permissions.files.readPaths, file),
        );
      },
    },

    env: {
      get(name) {
        if (!envAllowed(granted, name)) deny("env", name, "not declared in the manifest's permissions.env");
        allow("env", name);
        return host.env[name];
      },
    },

    messages: {
      async send(message) {
        if (!permissions.messages.send.includes(message.type))
          deny("message", message.type, "not declared in the manifest's permissions.messages.send");
        const size = new TextEncoder().encode(JSON.stringify(message.payload)).byteLength;
        if (size > MAX_MESSAGE_PAYLOAD_BYTES)
          throw new SkillError("payload_too_large", `Message payload is ${size} bytes; the limit is 64 KiB`);
        allow("message", message.type);
        return host.sendMessage(message);
      },
    },

    model: {
      async complete(request) {
        const target = request.model ?? "default";
        if (!permissions.models.gateway)
          deny("model", target, "the manifest does not set permissions.models.gateway");
        allow("model", target);
        return host.callModel(request);
      },
    },

    kv: {
      get: (key) => host.kv.get(kvNamespace + key),
      put: (key, value) => host.kv.put(kvNamespace + key, value),
      delete: (key) => host.kv.delete(kvNamespace + key),
      async list(prefix = "") {
        const keys = await host.kv.list(kvNamespace + prefix);
        return keys.filter((key) => key.startsWith(kvNamespace)).map((key) => key.slice(kvNamespace.length));
      },
    },

    status: {
      report: (status) => host.reportStatus(status),
    },

    now: () => host.now(),
  };
}

/** Freezes an object graph in place; used on manifests so nothing can widen them after validation. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
