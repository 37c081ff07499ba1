import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Pacer } from "./pacer";

describe("Pacer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(options: { burst?: number; rate?: number; accept?: () => boolean } = {}) {
    const written: string[] = [];
    const onDrain = vi.fn();
    const pacer = new Pacer({
      burst: options.burst ?? 3,
      ratePerSecond: options.rate ?? 10,
      write: (d) => {
        if (options.accept && !options.accept()) return false;
        written.push(d);
        return true;
      },
      onDrain,
    });
    return { pacer, written, onDrain };
  }

  it("lets a burst through at once, then holds control frames back in order", () => {
    const { pacer, written } = setup();
    for (const f of ["a1", "a2", "a3", "a4", "a5"]) expect(pacer.send(f)).toBe(true);
    expect(written).toEqual(["a1", "a2", "a3"]);
    vi.advanceTimersByTime(100);
    expect(written).toEqual(["a1", "a2", "a3", "a4"]);
    vi.advanceTimersByTime(100);
    expect(written).toEqual(["a1", "a2", "a3", "a4", "a5"]);
  });

  it("never exceeds the rate over a long run", () => {
    const { pacer, written } = setup({ burst: 5, rate: 20 });
    for (let i = 0; i < 200; i++) pacer.send(`f${i}`);
    vi.advanceTimersByTime(5_000);
    expect(written.length).toBeLessThanOrEqual(5 + 20 * 5);
    expect(written.length).toBeGreaterThanOrEqual(20 * 5);
    vi.advanceTimersByTime(10_000);
    expect(written).toHaveLength(200);
  });

  it("refuses sends without budget and calls onDrain once budget is back", () => {
    const { pacer, written, onDrain } = setup({ burst: 1 });
    expect(pacer.trySend("s1")).toBe(true);
    expect(pacer.trySend("s2")).toBe(false);
    expect(onDrain).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(onDrain).toHaveBeenCalledTimes(1);
    expect(pacer.trySend("s2")).toBe(true);
    expect(written).toEqual(["s1", "s2"]);
  });

  it("puts waiting control frames ahead of sends", () => {
    const { pacer, written } = setup({ burst: 1 });
    pacer.send("ack1");
    pacer.send("ack2");
    expect(pacer.trySend("send1")).toBe(false);
    vi.advanceTimersByTime(100);
    expect(written).toEqual(["ack1", "ack2"]);
    expect(pacer.trySend("send1")).toBe(false);
    vi.advanceTimersByTime(100);
    expect(pacer.trySend("send1")).toBe(true);
  });

  it("stops for good when the socket refuses a frame or it is closed", () => {
    let open = true;
    const { pacer, written } = setup({ burst: 1, accept: () => open });
    pacer.send("a");
    pacer.send("b");
    open = false;
    vi.advanceTimersByTime(1000);
    expect(written).toEqual(["a"]);
    expect(pacer.send("c")).toBe(false);
    expect(pacer.trySend("d")).toBe(false);

    const second = setup({ burst: 1 });
    second.pacer.send("x");
    second.pacer.send("y");
    second.pacer.close();
    vi.advanceTimersByTime(1000);
    expect(second.written).toEqual(["x"]);
    expect(second.pacer.waiting).toBe(0);
  });
});
