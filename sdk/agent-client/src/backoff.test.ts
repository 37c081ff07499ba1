import { describe, expect, it } from "vitest";
import { backoffDelay, backoffSchedule, DEFAULT_BACKOFF } from "./backoff";

describe("backoffDelay", () => {
  const noJitter = backoffSchedule({ jitter: 0 });

  it("doubles from 250 ms and stops growing at 10 s", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((attempt) => backoffDelay(attempt, noJitter));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it("spreads each delay by ±20 % by default", () => {
    const s = backoffSchedule();
    expect(backoffDelay(1, s, () => 0)).toBe(200);
    expect(backoffDelay(1, s, () => 0.5)).toBe(250);
    expect(backoffDelay(1, s, () => 0.999_999)).toBe(300);
    expect(backoffDelay(4, s, () => 0)).toBe(1600);
  });

  it("never exceeds maxMs, jitter included", () => {
    const s = backoffSchedule();
    for (let attempt = 1; attempt < 40; attempt++) {
      expect(backoffDelay(attempt, s, () => 0.999_999)).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
    }
    expect(backoffDelay(30, s, () => 0)).toBe(8000);
  });

  it("follows custom schedules", () => {
    const s = backoffSchedule({ initialMs: 100, factor: 3, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, s))).toEqual([100, 300, 900, 1000]);
  });

  it("refuses schedules that make no sense", () => {
    expect(() => backoffSchedule({ initialMs: 0 })).toThrow(RangeError);
    expect(() => backoffSchedule({ initialMs: 500, maxMs: 100 })).toThrow(RangeError);
    expect(() => backoffSchedule({ factor: 0.5 })).toThrow(RangeError);
    expect(() => backoffSchedule({ jitter: 1.5 })).toThrow(RangeError);
  });
});
