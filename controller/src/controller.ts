// The controller: dials out to the platform (nothing listens in the cluster), holds
// /controller/v1/connect with backoff, and is level-triggered: whatever it missed, the platform sends
// the latest desired state on every (re)connect and the driver makes the world equal to it, pruning
// what is no longer desired. Invalid desired state is refused and reported, and nothing is applied.
import WebSocket from "ws";
import { backoffDelay } from "../../sdk/agent-client/src/backoff";
import {
  type ControllerFrameInput,
  type DesiredState,
  desiredStateFrameSchema,
} from "../../worker/features/clusters/protocol";
import type { CredentialStore } from "./credentials";
import type { Driver, DriverContext } from "./driver";

export type Log = (level: "info" | "warn" | "error", message: string, data?: Record<string, unknown>) => void;

export interface ControllerOptions {
  /** The platform's origin, e.g. https://aegis.example.com */
  url: string;
  clusterId: string;
  credential: string;
  driver: Driver;
  credentials: CredentialStore;
  log?: Log;
  /** How often per-agent status is reported. Default 5000 ms. */
  statusIntervalMs?: number;
  pingIntervalMs?: number;
}

const RECONNECT = { initialMs: 250, maxMs: 15_000, factor: 2, jitter: 0.2 };
const RETRY = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };
const MAX_BUFFERED_FRAMES = 1000;

export class Controller {
  private socket: WebSocket | null = null;
  private stopped = false;
  private attempt = 0;
  private latest: DesiredState | null = null;
  private appliedGeneration = 0;
  private applying: Promise<void> | null = null;
  private retryAttempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private buffered: ControllerFrameInput[] = [];
  private readonly log: Log;
  /** Resolves once the first desired state has been applied without errors (for tools and tests). */
  readonly firstApplied: Promise<number>;
  private resolveFirst!: (generation: number) => void;

  constructor(private readonly options: ControllerOptions) {
    this.log =
      options.log ?? ((level, message, data) => console[level](`[controller] ${message}`, data ?? ""));
    this.firstApplied = new Promise((ok) => {
      this.resolveFirst = ok;
    });
  }

  start(): void {
    this.stopped = false;
    this.open();
    this.statusTimer = setInterval(() => void this.reportStatus(), this.options.statusIntervalMs ?? 5000);
    this.statusTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.retryTimer, this.reconnectTimer, this.statusTimer, this.pingTimer])
      if (t) clearTimeout(t);
    this.socket?.close(1000, "controller stopping");
    await this.applying;
    await this.options.driver.close();
  }

  get generation(): number {
    return this.appliedGeneration;
  }

  private open(): void {
    if (this.stopped) return;
    const url = `${this.options.url.replace(/^http/, "ws").replace(/\/$/, "")}/controller/v1/connect`;
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${this.options.credential}` } });
    this.socket = socket;
    socket.on("open", () => {
      this.attempt = 0;
      this.log("info", "connected", { url: this.options.url });
      for (const frame of this.buffered.splice(0)) this.send(frame);
      this.pingTimer = setInterval(() => this.send({ op: "ping" }), this.options.pingIntervalMs ?? 25_000);
      this.pingTimer.unref();
      void this.reportStatus();
    });
    socket.on("message", (data) => this.onFrame(String(data)));
    socket.on("unexpected-response", (_req, res) => {
      this.log("error", "the platform refused the connection", { status: res.statusCode });
      if (res.statusCode === 401) {
        // A credential the platform no longer knows does not get better by retrying quickly.
        this.attempt = Math.max(this.attempt, 6);
      }
    });
    socket.on("error", (err) => this.log("warn", "connection error", { error: String(err) }));
    socket.on("close", (code, reason) => {
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (this.socket === socket) this.socket = null;
      if (this.stopped) return;
      if (code === 4000) {
        // Another controller with this cluster's credential connected: two would fight over the
        // cluster, so this one steps aside.
        this.log("error", "replaced by another controller of this cluster; not reconnecting");
        this.stopped = true;
        return;
      }
      this.attempt++;
      const delay = backoffDelay(this.attempt, RECONNECT);
      this.log("warn", "disconnected; reconnecting", { code, reason: String(reason), delayMs: delay });
      this.reconnectTimer = setTimeout(() => this.open(), delay);
    });
  }

  private send(frame: ControllerFrameInput): void {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return;
    }
    // Egress reports are kept for the next connection (a short gap must not lose them); status and
    // applied are sent afresh once the platform has sent the desired state again.
    if (frame.op === "egress_blocked" && this.buffered.length < MAX_BUFFERED_FRAMES)
      this.buffered.push(frame);
  }

  private onFrame(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.log("warn", "the platform sent a frame that is not JSON");
      return;
    }
    const op = (raw as { op?: unknown })?.op;
    if (op === "pong") return;
    if (op === "error") {
      this.log("warn", "the platform refused a frame", raw as Record<string, unknown>);
      return;
    }
    if (op !== "desired_state") return;
    const parsed = desiredStateFrameSchema.safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ");
      const generation = Number((raw as { generation?: unknown }).generation);
      this.log("error", "refused an invalid desired state; nothing applied", { reason });
      this.send({
        op: "rejected",
        generation: Number.isInteger(generation) && generation >= 0 ? generation : 0,
        reason,
      });
      return;
    }
    const frame = parsed.data;
    if (this.latest && frame.generation < this.latest.generation) return;
    this.latest = {
      clusterId: this.options.clusterId,
      generation: frame.generation,
      resources: frame.resources,
    };
    this.retryAttempt = 0;
    this.kick();
  }

  /** Runs the apply loop if it is not running; it works through to the latest generation. */
  private kick(): void {
    if (this.applying) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.applying = this.applyLatest().finally(() => {
      this.applying = null;
    });
  }

  private async applyLatest(): Promise<void> {
    const ctx: DriverContext = {
      credentialFor: (agentId, version) => this.options.credentials.ensure(agentId, version),
      onEgress: (e) =>
        this.send({
          op: "egress_blocked",
          agentId: e.agentId,
          domain: e.domain,
          at: e.at,
          wouldBlock: e.wouldBlock,
        }),
    };
    for (;;) {
      const state = this.latest;
      if (!state || this.stopped) return;
      let errors: Array<{ resource: string; message: string }>;
      try {
        ({ errors } = await this.options.driver.apply(state, ctx));
      } catch (err) {
        errors = [{ resource: "driver", message: String(err) }];
      }
      if (this.latest !== state) continue; // a newer generation arrived meanwhile: apply that one
      if (errors.length === 0) {
        this.appliedGeneration = state.generation;
        this.send({ op: "applied", generation: state.generation });
        this.resolveFirst(state.generation);
        await this.reportStatus();
        return;
      }
      this.log("warn", "some objects were not applied; retrying", { generation: state.generation, errors });
      await this.reportStatus(errors);
      this.retryAttempt++;
      const delay = backoffDelay(this.retryAttempt, RETRY);
      this.retryTimer = setTimeout(() => this.kick(), delay);
      return;
    }
  }

  private async reportStatus(errors?: Array<{ resource: string; message: string }>): Promise<void> {
    try {
      const agents = await this.options.driver.status();
      this.send({ op: "status", agents, ...(errors ? { errors } : {}) });
    } catch (err) {
      this.log("warn", "status failed", { error: String(err) });
    }
  }
}
