export interface HeartbeatOptions {
  /** How often to ping. */
  intervalMs: number;
  /** Silence (no frame of any kind) after which the connection counts as dead. */
  timeoutMs: number;
  ping: () => void;
  onTimeout: () => void;
}

/**
 * Keeps a connection honest: pings on a fixed interval (the platform answers with `pong`) and calls
 * `onTimeout` once when nothing at all arrived for `timeoutMs`, which a half-open TCP connection
 * would otherwise hide for minutes.
 */
export class Heartbeat {
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private watchTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSeen = 0;

  constructor(private readonly options: HeartbeatOptions) {}

  start(): void {
    this.stop();
    this.lastSeen = Date.now();
    this.pingTimer = setInterval(() => this.options.ping(), this.options.intervalMs);
    this.watch(this.options.timeoutMs);
  }

  /** Any frame proves the connection alive; the watch timer re-arms lazily rather than per frame. */
  seen(): void {
    this.lastSeen = Date.now();
  }

  stop(): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    if (this.watchTimer !== undefined) clearTimeout(this.watchTimer);
    this.pingTimer = undefined;
    this.watchTimer = undefined;
  }

  private watch(delayMs: number): void {
    this.watchTimer = setTimeout(() => {
      const silentFor = Date.now() - this.lastSeen;
      if (silentFor < this.options.timeoutMs) {
        this.watch(this.options.timeoutMs - silentFor);
        return;
      }
      this.stop();
      this.options.onTimeout();
    }, delayMs);
  }
}
