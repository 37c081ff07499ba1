export interface BackoffOptions {
  /** Delay before the first reconnect attempt. Default 250 ms. */
  initialMs?: number;
  /** Upper bound of any delay, jitter included. Default 10 000 ms. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random spread as a fraction of the delay, 0–1: 0.2 draws from ±20 %. Default 0.2. */
  jitter?: number;
}

export type BackoffSchedule = Required<BackoffOptions>;

export const DEFAULT_BACKOFF: BackoffSchedule = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.2 };

export function backoffSchedule(options: BackoffOptions = {}): BackoffSchedule {
  const s = { ...DEFAULT_BACKOFF, ...options };
  if (!(s.initialMs > 0)) throw new RangeError("backoff.initialMs must be greater than 0");
  if (!(s.maxMs >= s.initialMs)) throw new RangeError("backoff.maxMs must be at least initialMs");
  if (!(s.factor >= 1)) throw new RangeError("backoff.factor must be at least 1");
  if (!(s.jitter >= 0 && s.jitter <= 1)) throw new RangeError("backoff.jitter must be between 0 and 1");
  return s;
}

/**
 * The delay before reconnect attempt `attempt` (1 for the first): initialMs · factor^(attempt−1),
 * spread by ±jitter so that many agents dropped at once do not reconnect in lockstep, and never
 * above maxMs. `random` returns [0, 1) like Math.random.
 */
export function backoffDelay(
  attempt: number,
  schedule: BackoffSchedule,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const base = Math.min(schedule.maxMs, schedule.initialMs * schedule.factor ** exponent);
  const spread = base * schedule.jitter;
  const delay = base - spread + random() * 2 * spread;
  return Math.round(Math.min(schedule.maxMs, Math.max(0, delay)));
}
