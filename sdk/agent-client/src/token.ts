import { AegisClientError } from "./errors";

export interface IssuedToken {
  token: string;
  /** Seconds the token is valid for. */
  expiresIn: number;
}

/** A token is renewed once this share of its lifetime has passed. */
export const REFRESH_AT = 0.8;
const RETRY_AFTER_FAILURE_MS = 5_000;

/**
 * The agent token: fetched on demand, shared by concurrent callers, renewed at 80 % of its lifetime
 * (on a timer while `autoRefresh` is on, else on the next use).
 */
export class TokenSource {
  private current: { token: string; renewAt: number } | null = null;
  private inflight: Promise<string> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private auto = false;

  constructor(
    private readonly issue: () => Promise<IssuedToken>,
    private readonly onAutoRefreshError: (error: unknown) => void,
  ) {}

  /** A token that has at least 20 % of its lifetime left. */
  get(): Promise<string> {
    if (this.current && Date.now() < this.current.renewAt) return Promise.resolve(this.current.token);
    return this.refresh();
  }

  /** A newly issued token (concurrent calls share one request). */
  refresh(): Promise<string> {
    if (this.inflight) return this.inflight;
    const request = this.issue()
      .then(({ token, expiresIn }) => {
        this.current = { token, renewAt: Date.now() + expiresIn * 1000 * REFRESH_AT };
        this.schedule(expiresIn * 1000 * REFRESH_AT);
        return token;
      })
      .finally(() => {
        this.inflight = null;
      });
    this.inflight = request;
    return request;
  }

  startAutoRefresh(): void {
    this.auto = true;
    if (this.current && this.timer === undefined) this.schedule(this.current.renewAt - Date.now());
  }

  stopAutoRefresh(): void {
    this.auto = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.auto) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.refresh().catch((error: unknown) => {
          this.onAutoRefreshError(error);
          const fatal = error instanceof AegisClientError && error.code === "invalid_credentials";
          if (!fatal) this.schedule(RETRY_AFTER_FAILURE_MS);
        });
      },
      Math.max(0, delayMs),
    );
  }
}
