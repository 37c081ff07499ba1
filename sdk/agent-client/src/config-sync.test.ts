import { describe, expect, it, vi } from "vitest";
import type { AgentFrame } from "../../../durable-objects/protocol";
import { ConfigSync, type ConfigSyncOptions } from "./config-sync";

function setup(apply: ConfigSyncOptions["apply"]) {
  const sent: AgentFrame[] = [];
  const onApplied = vi.fn();
  const sync = new ConfigSync({
    apply,
    onApplied,
    log: () => {},
    transmit: (f) => {
      sent.push(f);
      return true;
    },
  });
  const confirmed = () => sent.flatMap((f) => (f.op === "config_applied" ? [f.version] : []));
  return { sync, onApplied, confirmed };
}

describe("ConfigSync", () => {
  it("applies a version, then confirms it and exposes it", async () => {
    const apply = vi.fn();
    const { sync, onApplied, confirmed } = setup(apply);
    await sync.receive({ op: "config", version: 2, config: { a: 1 } });
    expect(apply).toHaveBeenCalledWith(2, { a: 1 });
    expect(onApplied).toHaveBeenCalledWith(2, { a: 1 });
    expect(confirmed()).toEqual([2]);
    expect(sync.version).toBe(2);
    expect(sync.config).toEqual({ a: 1 });
  });

  it("only re-confirms the version it already applied (the push on every connect)", async () => {
    const apply = vi.fn();
    const { sync, confirmed } = setup(apply);
    await sync.receive({ op: "config", version: 2, config: {} });
    await sync.receive({ op: "config", version: 2, config: {} });
    expect(apply).toHaveBeenCalledTimes(1);
    expect(confirmed()).toEqual([2, 2]);
  });

  it("ignores an older version", async () => {
    const apply = vi.fn();
    const { sync, confirmed } = setup(apply);
    await sync.receive({ op: "config", version: 3, config: {} });
    await sync.receive({ op: "config", version: 2, config: {} });
    expect(apply).toHaveBeenCalledTimes(1);
    expect(confirmed()).toEqual([3]);
    expect(sync.version).toBe(3);
  });

  it("does not confirm a version whose handler threw, and offers it again next time", async () => {
    let fail = true;
    const apply = vi.fn(() => {
      if (fail) throw new Error("cannot apply");
    });
    const { sync, confirmed, onApplied } = setup(apply);
    await sync.receive({ op: "config", version: 1, config: { x: 1 } });
    expect(confirmed()).toEqual([]);
    expect(sync.version).toBeNull();
    expect(onApplied).not.toHaveBeenCalled();
    fail = false;
    await sync.receive({ op: "config", version: 1, config: { x: 1 } });
    expect(confirmed()).toEqual([1]);
  });

  it("applies versions one at a time, in the order they arrived", async () => {
    const order: string[] = [];
    let releaseFirst = () => {};
    const apply = vi.fn(
      (version: number) =>
        new Promise<void>((resolve) => {
          order.push(`start ${version}`);
          const done = () => {
            order.push(`end ${version}`);
            resolve();
          };
          if (version === 2) releaseFirst = done;
          else done();
        }),
    );
    const { sync, confirmed } = setup(apply);
    const first = sync.receive({ op: "config", version: 2, config: {} });
    const second = sync.receive({ op: "config", version: 3, config: {} });
    await vi.waitFor(() => expect(order).toEqual(["start 2"]));
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(["start 2", "end 2", "start 3", "end 3"]);
    expect(confirmed()).toEqual([2, 3]);
  });
});
