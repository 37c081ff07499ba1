import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AegisClientError } from "./errors";
import { type IssuedToken, TokenSource } from "./token";

describe("TokenSource", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const issuer = (expiresIn = 900) => {
    let n = 0;
    return vi.fn(async (): Promise<IssuedToken> => ({ token: `t${++n}`, expiresIn }));
  };

  it("reuses a token until 80 % of its lifetime has passed", async () => {
    const issue = issuer();
    const tokens = new TokenSource(issue, () => {});
    expect(await tokens.get()).toBe("t1");
    vi.advanceTimersByTime(719_999);
    expect(await tokens.get()).toBe("t1");
    vi.advanceTimersByTime(1);
    expect(await tokens.get()).toBe("t2");
    expect(issue).toHaveBeenCalledTimes(2);
  });

  it("shares one request between concurrent callers", async () => {
    const issue = issuer();
    const tokens = new TokenSource(issue, () => {});
    const all = await Promise.all([tokens.get(), tokens.refresh(), tokens.get()]);
    expect(all).toEqual(["t1", "t1", "t1"]);
    expect(issue).toHaveBeenCalledTimes(1);
  });

  it("refresh always asks for a new token", async () => {
    const issue = issuer();
    const tokens = new TokenSource(issue, () => {});
    await tokens.get();
    expect(await tokens.refresh()).toBe("t2");
  });

  it("renews on a timer at 80 % of expiresIn while auto-refresh is on", async () => {
    const issue = issuer(100);
    const tokens = new TokenSource(issue, () => {});
    tokens.startAutoRefresh();
    await tokens.refresh();
    await vi.advanceTimersByTimeAsync(79_999);
    expect(issue).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(issue).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(80_000);
    expect(issue).toHaveBeenCalledTimes(3);
    tokens.stopAutoRefresh();
    await vi.advanceTimersByTimeAsync(1_000_000);
    expect(issue).toHaveBeenCalledTimes(3);
  });

  it("retries a failed renewal, but not rejected credentials", async () => {
    const failures: unknown[] = [];
    let error: Error = new Error("network down");
    let calls = 0;
    const tokens = new TokenSource(
      async () => {
        calls++;
        if (calls === 1) return { token: "t1", expiresIn: 10 };
        throw error;
      },
      (e) => failures.push(e),
    );
    tokens.startAutoRefresh();
    await tokens.refresh();
    await vi.advanceTimersByTimeAsync(8_000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toBe(3);
    error = new AegisClientError("invalid_credentials", "no");
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toBe(4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(4);
    expect(failures).toHaveLength(3);
  });
});
