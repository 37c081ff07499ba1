import { describe, expect, it, vi } from "vitest";
import { Emitter } from "./emitter";

type Events = { ping: [n: number]; done: [] };

describe("Emitter", () => {
  it("calls listeners with their arguments until they unsubscribe", () => {
    const e = new Emitter<Events>(() => {});
    const seen: number[] = [];
    const off = e.on("ping", (n) => seen.push(n));
    e.emit("ping", 1);
    off();
    e.emit("ping", 2);
    expect(seen).toEqual([1]);
  });

  it("once fires a single time", () => {
    const e = new Emitter<Events>(() => {});
    const listener = vi.fn();
    e.once("done", listener);
    e.emit("done");
    e.emit("done");
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("reports a throwing listener and still calls the others", () => {
    const errors: unknown[] = [];
    const e = new Emitter<Events>((event, error) => errors.push([event, error]));
    const after = vi.fn();
    e.on("ping", () => {
      throw new Error("boom");
    });
    e.on("ping", after);
    e.emit("ping", 7);
    expect(after).toHaveBeenCalledWith(7);
    expect(errors).toHaveLength(1);
  });
});
