export interface PacerOptions {
  /** Frames per second once the burst is spent. */
  ratePerSecond: number;
  /** Frames that may go out at once on a fresh socket. */
  burst: number;
  /** Writes one frame to the socket; false when it refused (closing). */
  write: (data: string) => boolean;
  /** Budget is back after `trySend` was refused: the caller may offer its held-back sends again. */
  onDrain: () => void;
}

/**
 * Keeps one socket under the platform's per-socket frame limit (a token bucket of 600 frames refilled
 * at 300/s; a frame over it is answered with `rate_limited` and dropped, and that answer names no frame).
 * Control frames (ack, config_applied, ping) are never refused: they wait here, in order, ahead of sends.
 * Sends are refused while there is no budget, so they wait in the outbox, where the queue bound and
 * the send timeout apply, and are offered again on `onDrain`.
 */
export class Pacer {
  private tokens: number;
  private refilledAt = Date.now();
  private readonly backlog: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sendsWaiting = false;
  private closed = false;

  constructor(private readonly options: PacerOptions) {
    this.tokens = options.burst;
  }

  /** A control frame: written now or after the frames ahead of it. False once the socket is gone. */
  send(data: string): boolean {
    if (this.closed) return false;
    if (this.backlog.length === 0 && this.take()) return this.write(data);
    this.backlog.push(data);
    this.arm();
    return true;
  }

  /** A send: written now if the budget allows and no control frame waits, else refused. */
  trySend(data: string): boolean {
    if (this.closed) return false;
    if (this.backlog.length === 0 && this.take()) return this.write(data);
    this.sendsWaiting = true;
    this.arm();
    return false;
  }

  get waiting(): number {
    return this.backlog.length;
  }

  close(): void {
    this.closed = true;
    this.backlog.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private write(data: string): boolean {
    if (this.options.write(data)) return true;
    this.close();
    return false;
  }

  private take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(
      this.options.burst,
      this.tokens + ((now - this.refilledAt) / 1000) * this.options.ratePerSecond,
    );
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private arm(): void {
    if (this.timer !== undefined || this.closed) return;
    const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.options.ratePerSecond));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, waitMs);
  }

  private drain(): void {
    while (this.backlog.length > 0 && !this.closed) {
      if (!this.take()) {
        this.arm();
        return;
      }
      const next = this.backlog.shift();
      if (next !== undefined && !this.write(next)) return;
    }
    if (this.closed || !this.sendsWaiting) return;
    this.sendsWaiting = false;
    this.options.onDrain();
  }
}
