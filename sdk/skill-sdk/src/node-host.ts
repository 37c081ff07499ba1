// The Node.js host, for local runs and tests. It is the only file of the SDK that uses Node APIs and is
// exported separately (`@aegis/skill-sdk/node`) so the main entry stays workerd-safe.
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, realpath } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type {
  AgentStatus,
  ModelRequest,
  ModelResponse,
  OutgoingMessage,
  PermissionUseEvent,
  SendResult,
  SkillHost,
  SkillKv,
} from "./context";
import { SkillError } from "./errors";
import { createMemoryKv } from "./memory-kv";
import { normalizeWorkspacePath, normalizeWorkspacePrefix } from "./policy";

export interface NodeHostOptions {
  /** Folder that is the agent workspace; created if missing. Nothing outside it is read or written. */
  workspaceRoot: string;
  /** Environment visible to skills (still filtered by each manifest). Default: none. */
  env?: Record<string, string | undefined>;
  /** Delivers agent messages. Default: refuses, since there is no mailbox to deliver to. */
  sendMessage?: (message: OutgoingMessage) => Promise<SendResult>;
  /** Calls a model, e.g. `createMessagesApiModel(...)`. Default: refuses. */
  callModel?: (request: ModelRequest) => Promise<ModelResponse>;
  /** Default: an in-memory store. */
  kv?: SkillKv;
  /**
   * Hostname → origin to send its requests to instead, e.g. `{ "api.github.com": "http://127.0.0.1:4123" }`.
   * When given, hosts without a route are unreachable, so a test cannot touch the internet by accident.
   */
  routes?: Record<string, string>;
  /** Default: the global `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Default: the wall clock. */
  now?: () => Date;
}

export interface NodeSkillHost extends SkillHost {
  readonly workspaceRoot: string;
  /** Every permission use reported, in order. */
  readonly permissionLog: PermissionUseEvent[];
  /** Every status reported, in order. */
  readonly statusLog: AgentStatus[];
}

/** A `SkillHost` over the local file system and network, with the workspace confined to one folder. */
export async function createNodeHost(options: NodeHostOptions): Promise<NodeSkillHost> {
  await mkdir(options.workspaceRoot, { recursive: true });
  // Compare against the real path so a workspace reached through a symlink still confines correctly.
  const root = await realpath(options.workspaceRoot);
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const permissionLog: PermissionUseEvent[] = [];
  const statusLog: AgentStatus[] = [];

  const inside = (absolute: string) => {
    const rel = relative(root, absolute);
    return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
  };

  const locate = (path: string): string => {
    const normalized = normalizeWorkspacePath(path);
    if (normalized === null || normalized.endsWith("/"))
      throw new SkillError("invalid_path", `${path} is not a file path inside the workspace`);
    const absolute = resolve(root, normalized);
    if (!inside(absolute)) throw new SkillError("invalid_path", `${path} is outside the workspace`);
    return absolute;
  };

  // Resolves the nearest existing ancestor through symlinks; refuses when that leads outside the root.
  const confine = async (absolute: string): Promise<void> => {
    let current = absolute;
    for (;;) {
      try {
        const real = await realpath(current);
        if (!inside(real)) throw new SkillError("invalid_path", "the path leads outside the workspace");
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        const parent = resolve(current, "..");
        if (parent === current) return;
        current = parent;
      }
    }
  };

  return {
    workspaceRoot: root,
    permissionLog,
    statusLog,
    env: { ...options.env },
    kv: options.kv ?? createMemoryKv(),

    async fetch(request) {
      if (options.routes === undefined) return send(request);
      const url = new URL(request.url);
      const target = options.routes[url.hostname.toLowerCase()];
      if (target === undefined)
        throw new SkillError("unreachable_host", `No route to ${url.hostname} in this host`);
      const routed = new URL(url.pathname + url.search, target);
      const body = request.method === "GET" || request.method === "HEAD" ? null : await request.arrayBuffer();
      const headers = new Headers(request.headers);
      headers.set("x-forwarded-host", url.host);
      return send(
        new Request(routed, {
          method: request.method,
          headers,
          body,
          redirect: request.redirect,
          signal: request.signal,
        }),
      );
    },

    async readFile(path) {
      const absolute = locate(path);
      await confine(absolute);
      try {
        const file = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          return await file.readFile("utf8");
        } finally {
          await file.close();
        }
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },

    async writeFile(path, data) {
      const absolute = locate(path);
      const folder = resolve(absolute, "..");
      // Check before mkdir so a symlinked folder cannot make us create directories outside the root.
      await confine(folder);
      await mkdir(folder, { recursive: true });
      await confine(folder);
      // O_NOFOLLOW: a symlink planted at the final component is refused rather than written through.
      const file = await open(
        absolute,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
        0o644,
      );
      try {
        await file.writeFile(data, "utf8");
      } finally {
        await file.close();
      }
    },

    async listFiles(prefix) {
      const folder = normalizeWorkspacePrefix(prefix);
      if (folder === null)
        throw new SkillError("invalid_path", `${prefix} is not a folder inside the workspace`);
      const start = resolve(root, folder);
      if (!inside(start)) throw new SkillError("invalid_path", `${prefix} is outside the workspace`);
      try {
        const stat = await lstat(start);
        if (!stat.isDirectory()) return [];
      } catch (error) {
        if (isNotFound(error)) return [];
        throw error;
      }
      const files: string[] = [];
      // Symlinks are skipped entirely, so listing never wanders outside the root.
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const full = join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (entry.isFile()) files.push(relative(root, full).split(sep).join("/"));
        }
      };
      await walk(start);
      return files.sort();
    },

    async sendMessage(message) {
      if (options.sendMessage === undefined)
        throw new SkillError("messaging_unavailable", "This host has no mailbox to send messages through");
      return options.sendMessage(message);
    },

    async callModel(request) {
      if (options.callModel === undefined)
        throw new SkillError("model_unavailable", "This host has no model gateway configured");
      return options.callModel(request);
    },

    async reportStatus(status) {
      statusLog.push(status);
    },

    now: options.now ?? (() => new Date()),

    reportPermissionUse(event) {
      permissionLog.push(event);
    },
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR");
}
