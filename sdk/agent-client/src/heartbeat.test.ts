import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Heartbeat } from "./heartbeat";

describe("Heartbeat", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = () => {
    const ping = vi.fn();
    const onTimeout = vi.fn();
    const hb = new Heartbeat({ intervalMs: 25_000, timeoutMs: 60_000, ping, onTimeout });
    return { hb, ping, onTimeout };
  };

  it("pings every 25 s", () => {
    const { hb, ping } = setup();
    hb.start();
    vi.advanceTimersByTime(24_999);
    expect(ping).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ping).toHaveBeenCalledTimes(1);
    hb.seen();
    vi.advanceTimersByTime(25_000);
    expect(ping).toHaveBeenCalledTimes(2);
  });

  it("declares the connection dead after 60 s without any frame, once", () => {
    const { hb, onTimeout, ping } = setup();
    hb.start();
    vi.advanceTimersByTime(59_999);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(300_000);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    expect(ping).toHaveBeenCalledTimes(2);
  });

  it("counts the 60 s from the last frame", () => {
    const { hb, onTimeout } = setup();
    hb.start();
    vi.advanceTimersByTime(50_000);
    hb.seen();
    vi.advanceTimersByTime(59_999);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it("a steady stream of frames keeps it alive indefinitely", () => {
    const { hb, onTimeout } = setup();
    hb.start();
    for (let i = 0; i < 100; i++) {
      vi.advanceTimersByTime(30_000);
      hb.seen();
    }
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it("stop cancels pings and the watch", () => {
    const { hb, onTimeout, ping } = setup();
    hb.start();
    hb.stop();
    vi.advanceTimersByTime(600_000);
    expect(ping).not.toHaveBeenCalled();
    expect(onTimeout).not.toHaveBeenCalled();
  });
});
