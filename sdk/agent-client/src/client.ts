import { z } from "zod";
import {
  DELIVERY_STATES,
  type ErrorFrame,
  type MessageType,
  sendInputSchema,
} from "../../../durable-objects/protocol";
import { type BackoffOptions, type BackoffSchedule, backoffDelay, backoffSchedule } from "./backoff";
import { type ConfigHandler, ConfigSync } from "./config-sync";
import { Emitter } from "./emitter";
import { AegisClientError } from "./errors";
import { Heartbeat } from "./heartbeat";
import { Inbox, type MessageHandler } from "./inbox";
import { Outbox, type SendResult } from "./outbox";
import { Pacer } from "./pacer";
import { TokenSource } from "./token";
import {
  consoleLog,
  issuesToDetails,
  type LogFn,
  type PayloadInput,
  parseFrame,
  type SendFrame,
  type Transmit,
} from "./wire";

/** The part of the standard WebSocket API the client uses (browsers, Workers, Node 22+, `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `ws`'s constructor, which also takes headers; used when the client loads `ws` itself. */
type NodeWebSocketConstructor = new (
  url: string,
  protocols: string[] | undefined,
  options: { headers: Record<string, string> },
) => WebSocketLike;

export interface AgentClientOptions {
  /** The platform's origin, e.g. `https://aegis.example.com`. */
  baseUrl: string;
  agentId: string;
  /** The agent credential shown once when the agent was created (`agk_…`). */
  credential: string;
  /**
   * The WebSocket implementation. Default: `globalThis.WebSocket` (browsers, Workers, Node 22+), else the
   * `ws` package, loaded on first connect (Node 20). The token goes in `?token=`; with the `ws` the client
   * loads itself it goes in the `Authorization` header instead.
   */
  WebSocket?: WebSocketConstructor;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Reconnect delays. Default `{ initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.2 }`. */
  backoff?: BackoffOptions;
  /**
   * Called with each new configuration version, in order; `config_applied` is sent when it resolves.
   * If it throws, the version stays unconfirmed and `client.config` keeps the previous one.
   */
  onConfig?: ConfigHandler;
  /** Default: warnings and errors to the console. */
  log?: LogFn;
  /** Sends that may wait for a connection. Default 1000; one more rejects with `queue_full`. */
  maxQueue?: number;
  /** How long a send waits for the platform's answer once written to the socket. Default 10 000 ms. */
  sendTimeoutMs?: number;
  /** Ping interval. Default 25 000 ms. */
  heartbeatMs?: number;
  /** A connection with no frame at all for this long is dropped and reopened. Default 60 000 ms. */
  idleTimeoutMs?: number;
  /** Message ids remembered to drop duplicate deliveries. Default 10 000. */
  dedupWindow?: number;
  /** Message handlers running at once. Default 1, which keeps arrival order. */
  concurrency?: number;
}

export interface SendOptions {
  /** Thread the message into an existing conversation. Default: a new thread (the message's own id). */
  correlationId?: string;
  /** Seconds before an undelivered message expires. Default: the tenant's `messaging.defaultTtlSeconds`. */
  ttlSeconds?: number;
}

/**
 * Why the client stopped for good (it does not reconnect by itself after any of these):
 * - `closed`: `close()` was called.
 * - `paused` / `deleted`: the platform closed the socket with 4003, or refuses it because the agent is
 *   paused. Resume the agent, then call `connect()` again.
 * - `replaced`: close code 4000, another connection of the same agent took over. Reconnecting would
 *   evict that one in turn, so two instances would fight over the mailbox.
 * - `invalid_credentials`: the credential was rejected (wrong, rotated, or the agent was deleted).
 */
export type StopReason = "closed" | "paused" | "deleted" | "replaced" | "invalid_credentials";

export interface AgentClientEvents {
  /** The socket is open; queued sends have been written. */
  connected: [];
  /** An open socket closed (4001 restart requested, 4003 paused or deleted, 4000 replaced, 4008 silent, …). */
  disconnected: [code: number, reason: string];
  /** The next attempt starts in `delayMs`; `attempt` counts from 1 since the last open connection. */
  reconnecting: [attempt: number, delayMs: number];
  /** A configuration version was applied (after `onConfig` resolved). */
  config: [version: number, config: unknown];
  /** An `error` frame that answers no pending send (`rate_limited`, `unknown_message`, …). */
  error: [frame: ErrorFrame];
  /** No more reconnects; see `StopReason`. `connect()` starts again. */
  stopped: [reason: StopReason];
}

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed" | "stopped";

const WS_OPEN = 1;
const CONNECT_TIMEOUT_MS = 15_000;
/** Below the platform's per-socket limit (burst 600, 300 frames/s), which counts acks and pings too. */
const FRAME_BURST = 500;
const FRAMES_PER_SECOND = 250;
export const CLOSE_REPLACED = 4000;
export const CLOSE_RESTART = 4001;
export const CLOSE_PAUSED = 4003;
/** Sent by this client when the heartbeat finds the connection silent. */
export const CLOSE_IDLE = 4008;

const tokenResponseSchema = z.object({ token: z.string().min(1), expiresIn: z.number().positive() });
const acceptedSchema = z.object({ id: z.string(), status: z.enum(DELIVERY_STATES) });
const errorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

type SocketEnd = { opened: boolean; code: number; reason: string };
type AttemptEnd = { stop: StopReason } | { opened: boolean };

/**
 * An agent's connection to its Aegis mailbox. Sends wait for the connection, received messages are
 * acknowledged when their handler returns, configuration pushes are applied and confirmed, and the
 * connection reopens with exponential backoff until `close()` or a stop (see `StopReason`).
 */
export class AgentClient {
  private readonly events: Emitter<AgentClientEvents>;
  private readonly tokens: TokenSource;
  private readonly outbox: Outbox;
  private readonly inbox: Inbox;
  private readonly configSync: ConfigSync;
  private readonly heartbeat: Heartbeat;
  private readonly schedule: BackoffSchedule;
  private readonly fetchImpl: typeof fetch;
  private readonly log: LogFn;
  private readonly baseUrl: URL;

  private connectionState: ConnectionState = "idle";
  /** Bumped by every start, close and stop; a loop or socket of an older generation goes quiet. */
  private generation = 0;
  private socket: { ws: WebSocketLike; drop(code: number, reason: string): void } | null = null;
  private pacer: Pacer | null = null;
  private waiters: Array<{ resolve: () => void; reject: (error: AegisClientError) => void }> = [];
  private cancelSleep: (() => void) | null = null;
  private webSocketImpl: Promise<WebSocketImpl> | null = null;

  constructor(private readonly options: AgentClientOptions) {
    this.log = options.log ?? consoleLog;
    this.baseUrl = new URL(options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`);
    this.schedule = backoffSchedule(options.backoff);
    // Bound to the global on each call: Workers reject `fetch` invoked with another `this`.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.events = new Emitter<AgentClientEvents>((event, error) =>
      this.log("error", `a "${String(event)}" listener threw`, { error: describe(error) }),
    );
    this.tokens = new TokenSource(
      () => this.issueToken(),
      (error) => this.log("warn", "token refresh failed", { error: describe(error) }),
    );
    this.outbox = new Outbox({
      maxQueue: options.maxQueue ?? 1000,
      timeoutMs: options.sendTimeoutMs ?? 10_000,
      newClientId: () => crypto.randomUUID(),
    });
    this.inbox = new Inbox({
      windowSize: options.dedupWindow ?? 10_000,
      concurrency: options.concurrency ?? 1,
      transmit: this.transmit,
      reply: (message, type, payload, replyOptions) =>
        this.send(message.from, type, payload, {
          ...(message.correlationId ? { correlationId: message.correlationId } : {}),
          ...replyOptions,
        }),
      log: this.log,
    });
    this.configSync = new ConfigSync({
      apply: options.onConfig,
      transmit: this.transmit,
      onApplied: (version, config) => this.events.emit("config", version, config),
      log: this.log,
    });
    this.heartbeat = new Heartbeat({
      intervalMs: options.heartbeatMs ?? 25_000,
      timeoutMs: options.idleTimeoutMs ?? 60_000,
      ping: () => this.transmit({ op: "ping", t: Date.now() }),
      onTimeout: () => {
        this.log("warn", "no frame from the platform for too long; reconnecting");
        this.socket?.drop(CLOSE_IDLE, "heartbeat timeout");
      },
    });
  }

  get agentId(): string {
    return this.options.agentId;
  }

  get state(): ConnectionState {
    return this.connectionState;
  }

  /** The configuration last applied (after `onConfig` resolved), or undefined before the first push. */
  get config(): unknown {
    return this.configSync.config;
  }

  /** The version of `config`, or null before the first push. */
  get configVersion(): number | null {
    return this.configSync.version;
  }

  on<K extends keyof AgentClientEvents>(
    event: K,
    listener: (...args: AgentClientEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  once<K extends keyof AgentClientEvents>(
    event: K,
    listener: (...args: AgentClientEvents[K]) => void,
  ): () => void {
    return this.events.once(event, listener);
  }

  off<K extends keyof AgentClientEvents>(event: K, listener: (...args: AgentClientEvents[K]) => void): void {
    this.events.off(event, listener);
  }

  /**
   * Sets the message handler (replacing any earlier one). Messages that arrive before a handler is set
   * wait for it. After the handler resolves the message is acknowledged, unless it called `ctx.ack()`
   * itself; if it throws, the message stays unacknowledged and the platform redelivers it on the next
   * connection.
   */
  onMessage(handler: MessageHandler): () => void {
    this.inbox.setHandler(handler);
    return () => this.inbox.setHandler(null);
  }

  /**
   * Opens the mailbox; resolves once the socket is open. Failed attempts are retried with backoff, so
   * this waits through outages; it rejects when the client stops (`close()`, paused, replaced, or bad
   * credentials).
   */
  connect(): Promise<void> {
    if (this.connectionState === "open") return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running()) this.start();
    return opened;
  }

  /** Closes the connection for good (no reconnect); pending and queued sends reject with `closed`. */
  close(): void {
    const wasRunning = this.running();
    this.connectionState = "closed";
    this.halt();
    this.socket?.drop(1000, "closed by client");
    this.finish(new AegisClientError("closed", "The client was closed"));
    if (wasRunning) this.events.emit("stopped", "closed");
  }

  /**
   * Sends over the socket and resolves with the platform's verdict: `{ id, status }`, with `reason`
   * when the status is `rejected` (allowlist, loop guard). Validates locally first (`invalid_message`,
   * no network). While disconnected the send waits for the connection, in order.
   */
  async send<T extends MessageType>(
    to: string,
    type: T,
    payload: PayloadInput<T>,
    options: SendOptions = {},
  ): Promise<SendResult> {
    const frame = validate(to, type, payload, options);
    if (this.connectionState === "closed" || this.connectionState === "stopped") {
      throw new AegisClientError(this.connectionState, `The client is ${this.connectionState}`);
    }
    return this.outbox.send(frame, this.transmitSend);
  }

  /**
   * Sends through `POST /v1/messages`, without the socket. A rejected message rejects with the reason
   * as its code (`not_allowed`, `loop_detected`) and the message id in `details.id`.
   */
  async sendHttp<T extends MessageType>(
    to: string,
    type: T,
    payload: PayloadInput<T>,
    options: SendOptions = {},
  ): Promise<SendResult> {
    const { op: _op, ...body } = validate(to, type, payload, options);
    const post = async (token: string) =>
      this.request("v1/messages", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    let response = await post(await this.tokens.get());
    if (response.status === 401) response = await post(await this.tokens.refresh());
    const json: unknown = await response.json().catch(() => null);
    if (response.status === 202) {
      const accepted = acceptedSchema.safeParse(json);
      if (accepted.success) return accepted.data;
    }
    throw httpError(response.status, json);
  }

  private running(): boolean {
    const s = this.connectionState;
    return s === "connecting" || s === "open" || s === "reconnecting";
  }

  /** Acks, config confirmations and pings: paced, never refused while a socket is open. */
  private readonly transmit: Transmit = (frame) => this.pacer?.send(JSON.stringify(frame)) ?? false;

  /** Sends: refused when the socket is closed or the frame budget is spent; the outbox holds them. */
  private readonly transmitSend: Transmit = (frame) => this.pacer?.trySend(JSON.stringify(frame)) ?? false;

  private start(): void {
    this.generation++;
    this.connectionState = "connecting";
    this.tokens.startAutoRefresh();
    void this.loop(this.generation);
  }

  /** Ends the current generation: no more reconnects, timers off. */
  private halt(): void {
    this.generation++;
    this.cancelSleep?.();
    this.tokens.stopAutoRefresh();
    this.heartbeat.stop();
  }

  /** Rejects whoever waits on this generation and drops messages no handler has started. */
  private finish(error: AegisClientError): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.outbox.failAll(() => error);
    this.inbox.dropWaiting();
  }

  private stop(reason: StopReason): void {
    this.connectionState = "stopped";
    this.halt();
    this.socket?.drop(1000, "client stopped");
    const code = reason === "invalid_credentials" ? "invalid_credentials" : "stopped";
    this.finish(new AegisClientError(code, `The client stopped: ${reason}`, { details: { reason } }));
    this.log(reason === "replaced" ? "warn" : "info", "stopped; not reconnecting", { reason });
    this.events.emit("stopped", reason);
  }

  private async loop(generation: number): Promise<void> {
    let attempt = 0;
    while (generation === this.generation) {
      const end = await this.attempt(generation);
      if (generation !== this.generation) return;
      if ("stop" in end) {
        this.stop(end.stop);
        return;
      }
      attempt = end.opened ? 1 : attempt + 1;
      const delayMs = backoffDelay(attempt, this.schedule);
      this.connectionState = "reconnecting";
      this.events.emit("reconnecting", attempt, delayMs);
      await this.sleep(delayMs);
      if (generation !== this.generation) return;
      this.connectionState = "connecting";
    }
  }

  /** One connection: a fresh token, the socket until it closes, and whether to go on. */
  private async attempt(generation: number): Promise<AttemptEnd> {
    let token: string;
    try {
      token = await this.tokens.refresh();
    } catch (error) {
      if (error instanceof AegisClientError && error.code === "invalid_credentials") {
        return { stop: "invalid_credentials" };
      }
      this.log("warn", "could not get an agent token", { error: describe(error) });
      return { opened: false };
    }
    if (generation !== this.generation) return { opened: false };
    const end = await this.runSocket(token, generation);
    if (end.opened) {
      if (end.code === CLOSE_PAUSED) return { stop: /deleted/i.test(end.reason) ? "deleted" : "paused" };
      if (end.code === CLOSE_REPLACED) return { stop: "replaced" };
      return { opened: true };
    }
    // A refused upgrade looks like any network failure to the WebSocket API; the same request
    // without the upgrade tells a paused agent (403) from a transient failure.
    if (generation === this.generation && (await this.refusedAsPaused(token))) return { stop: "paused" };
    return { opened: false };
  }

  private async runSocket(token: string, generation: number): Promise<SocketEnd> {
    this.webSocketImpl ??= resolveWebSocket(this.options.WebSocket);
    const impl = await this.webSocketImpl;
    if (generation !== this.generation) return { opened: false, code: 1000, reason: "superseded" };
    const url = new URL("v1/mailbox", this.baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    let ws: WebSocketLike;
    try {
      if (impl.kind === "ws") {
        ws = new impl.ctor(url.href, undefined, { headers: { authorization: `Bearer ${token}` } });
      } else if (impl.kind === "standard") {
        url.searchParams.set("token", token);
        ws = new impl.ctor(url.href);
      } else {
        throw new Error(
          "No WebSocket implementation: pass the `WebSocket` option, or install `ws` (Node < 22)",
        );
      }
    } catch (error) {
      this.log("error", "could not open a WebSocket", { error: describe(error) });
      return { opened: false, code: 1006, reason: describe(error) };
    }

    return new Promise<SocketEnd>((resolve) => {
      let opened = false;
      let done = false;
      const connectTimer = setTimeout(() => drop(1006, "connect timeout"), CONNECT_TIMEOUT_MS);
      const end = (code: number, reason: string) => {
        if (done) return;
        done = true;
        clearTimeout(connectTimer);
        if (this.socket?.ws === ws) this.socket = null;
        if (opened) this.socketClosed(generation, code, reason);
        resolve({ opened, code, reason });
      };
      // Ends this socket's life for the client at once: a dead connection may take long to report its close.
      const drop = (code: number, reason: string) => {
        try {
          ws.close(code, reason);
        } catch (error) {
          this.log("debug", "close failed", { error: describe(error) });
        }
        end(code, reason);
      };
      this.socket = { ws, drop };
      ws.addEventListener("open", () => {
        if (done) return;
        opened = true;
        clearTimeout(connectTimer);
        this.socketOpened(ws);
      });
      ws.addEventListener("message", (event) => {
        if (!done) this.frame(event.data);
      });
      ws.addEventListener("close", (event) => end(event.code, event.reason));
      ws.addEventListener("error", () => this.log("debug", "socket error (a close follows)"));
    });
  }

  private socketOpened(ws: WebSocketLike): void {
    this.pacer?.close();
    this.pacer = new Pacer({
      burst: FRAME_BURST,
      ratePerSecond: FRAMES_PER_SECOND,
      write: (data) => {
        if (ws.readyState !== WS_OPEN) return false;
        try {
          ws.send(data);
          return true;
        } catch (error) {
          this.log("debug", "send on a closing socket", { error: describe(error) });
          return false;
        }
      },
      onDrain: () => this.outbox.flush(this.transmitSend),
    });
    this.connectionState = "open";
    this.heartbeat.start();
    this.outbox.flush(this.transmitSend);
    this.events.emit("connected");
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  private socketClosed(generation: number, code: number, reason: string): void {
    this.pacer?.close();
    this.pacer = null;
    this.heartbeat.stop();
    this.outbox.connectionLost();
    if (generation === this.generation) this.connectionState = "reconnecting";
    this.events.emit("disconnected", code, reason);
  }

  private frame(data: unknown): void {
    this.heartbeat.seen();
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.log("warn", "ignoring a frame the client does not understand", {
        reason: parsed.reason,
        frame: parsed.raw.slice(0, 200),
      });
      return;
    }
    const frame = parsed.frame;
    switch (frame.op) {
      case "message":
        this.inbox.receive(frame);
        return;
      case "sent":
        if (!this.outbox.settle(frame))
          this.log("debug", "a sent frame for no pending send", { id: frame.id });
        return;
      case "error":
        if (this.outbox.settle(frame)) return;
        this.log("warn", "error frame from the platform", { code: frame.code, message: frame.message });
        this.events.emit("error", frame);
        return;
      case "config":
        void this.configSync.receive(frame);
        return;
      case "acked":
      case "pong":
        return;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.cancelSleep = done;
    });
  }

  private async issueToken(): Promise<{ token: string; expiresIn: number }> {
    const response = await this.request("v1/auth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ agentId: this.options.agentId, credential: this.options.credential }),
    });
    const json: unknown = await response.json().catch(() => null);
    if (response.status === 401 || response.status === 400) {
      const body = errorBodySchema.safeParse(json);
      throw new AegisClientError(
        "invalid_credentials",
        body.success ? body.data.message : "The agent id or credential was rejected",
        { status: response.status },
      );
    }
    const parsed = tokenResponseSchema.safeParse(json);
    if (!response.ok || !parsed.success) throw httpError(response.status, json);
    return parsed.data;
  }

  /** Asks the mailbox route without the upgrade: 403 `agent_paused` is a refusal worth stopping for. */
  private async refusedAsPaused(token: string): Promise<boolean> {
    try {
      const response = await this.request("v1/mailbox", { headers: { authorization: `Bearer ${token}` } });
      const body = errorBodySchema.safeParse(await response.json().catch(() => null));
      return response.status === 403 && body.success && body.data.code === "agent_paused";
    } catch {
      return false;
    }
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(new URL(path, this.baseUrl).href, init);
    } catch (error) {
      throw new AegisClientError("network_error", `Could not reach ${this.baseUrl.origin}`, { cause: error });
    }
  }
}

function validate(to: string, type: MessageType, payload: unknown, options: SendOptions): SendFrame {
  const parsed = sendInputSchema.safeParse({ to, type, payload, ...options });
  if (!parsed.success) {
    throw new AegisClientError("invalid_message", "The message does not match its schema", {
      details: issuesToDetails(parsed.error.issues),
    });
  }
  const { correlationId, ttlSeconds } = parsed.data;
  return {
    op: "send",
    to,
    type,
    payload,
    ...(correlationId === undefined ? {} : { correlationId }),
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
  };
}

function httpError(status: number, json: unknown): AegisClientError {
  const body = errorBodySchema.safeParse(json);
  if (!body.success) return new AegisClientError("http_error", `Unexpected HTTP ${status}`, { status });
  return new AegisClientError(body.data.code, body.data.message, {
    status,
    ...(body.data.details ? { details: body.data.details } : {}),
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type WebSocketImpl =
  | { kind: "standard"; ctor: WebSocketConstructor }
  | { kind: "ws"; ctor: NodeWebSocketConstructor }
  | { kind: "missing" };

/** The given constructor, else the global one, else `ws` (Node 20), imported only then and only by name. */
async function resolveWebSocket(given: WebSocketConstructor | undefined): Promise<WebSocketImpl> {
  if (given) return { kind: "standard", ctor: given };
  const global: unknown = Reflect.get(globalThis, "WebSocket");
  if (isConstructor(global)) return { kind: "standard", ctor: global };
  // A computed specifier keeps Worker and browser bundlers from pulling `ws` in.
  const specifier = "ws";
  try {
    const mod: unknown = await import(/* @vite-ignore */ specifier);
    const ctor = isObject(mod) ? (Reflect.get(mod, "WebSocket") ?? Reflect.get(mod, "default")) : undefined;
    if (isConstructor(ctor)) return { kind: "ws", ctor };
  } catch {
    // reported when a connection is attempted
  }
  return { kind: "missing" };
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/** Only a function check is possible on a module export; the standard API is assumed from there. */
function isConstructor(value: unknown): value is WebSocketConstructor & NodeWebSocketConstructor {
  return typeof value === "function";
}
