import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AgentFrame } from "../../../durable-objects/protocol";
import { AegisClientError } from "./errors";
import { Outbox } from "./outbox";
import type { SendFrame } from "./wire";

const frame = (to: string): SendFrame => ({
  op: "send",
  to,
  type: "notification",
  payload: { title: "hi" },
});

function socket() {
  const frames: AgentFrame[] = [];
  let open = true;
  return {
    frames,
    close: () => {
      open = false;
    },
    transmit: (f: AgentFrame) => {
      if (!open) return false;
      frames.push(f);
      return true;
    },
    clientIds: () => frames.map((f) => (f.op === "send" ? f.clientId : undefined)),
  };
}

const closed = () => false;

describe("Outbox", () => {
  let n = 0;
  const outbox = (maxQueue = 1000) =>
    new Outbox({ maxQueue, timeoutMs: 10_000, newClientId: () => `c${++n}` });

  beforeEach(() => {
    n = 0;
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("resolves a send with the sent frame that carries its clientId", async () => {
    const o = outbox();
    const s = socket();
    const first = o.send(frame("a"), s.transmit);
    const second = o.send(frame("b"), s.transmit);
    expect(s.clientIds()).toEqual(["c1", "c2"]);
    expect(o.settle({ op: "sent", clientId: "c2", id: "msg_2", status: "queued" })).toBe(true);
    expect(
      o.settle({ op: "sent", clientId: "c1", id: "msg_1", status: "rejected", reason: "not_allowed" }),
    ).toBe(true);
    await expect(first).resolves.toEqual({ id: "msg_1", status: "rejected", reason: "not_allowed" });
    await expect(second).resolves.toEqual({ id: "msg_2", status: "queued" });
  });

  it("rejects a send with the error frame's code, message and details", async () => {
    const o = outbox();
    const s = socket();
    const p = o.send(frame("a"), s.transmit);
    o.settle({
      op: "error",
      clientId: "c1",
      code: "invalid_message",
      message: "bad",
      details: { "payload.title": ["Too small"] },
    });
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AegisClientError);
    expect(error).toMatchObject({
      code: "invalid_message",
      message: "bad",
      details: { "payload.title": ["Too small"] },
    });
  });

  it("ignores answers for sends it does not know", () => {
    const o = outbox();
    expect(o.settle({ op: "sent", id: "msg_x", status: "delivered" })).toBe(false);
    expect(o.settle({ op: "sent", clientId: "nope", id: "msg_x", status: "delivered" })).toBe(false);
    expect(o.settle({ op: "error", code: "rate_limited", message: "slow down" })).toBe(false);
  });

  it("times out 10 s after the frame was written, not while it waited for a socket", async () => {
    const o = outbox();
    const p = o.send(frame("a"), closed);
    const result = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(o.queued).toBe(1);
    const s = socket();
    o.flush(s.transmit);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(o.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toMatchObject({ code: "timeout" });
    expect(o.settle({ op: "sent", clientId: "c1", id: "late", status: "delivered" })).toBe(false);
  });

  it("queues while disconnected and flushes in order", async () => {
    const o = outbox();
    const results = ["a", "b", "c"].map((to) => o.send(frame(to), closed));
    expect(o.queued).toBe(3);
    const s = socket();
    o.flush(s.transmit);
    expect(s.frames.map((f) => (f.op === "send" ? f.to : ""))).toEqual(["a", "b", "c"]);
    for (const [i, id] of s.clientIds().entries()) {
      o.settle({ op: "sent", clientId: id, id: `msg_${i}`, status: "delivered" });
    }
    expect((await Promise.all(results)).map((r) => r.id)).toEqual(["msg_0", "msg_1", "msg_2"]);
  });

  it("keeps later sends behind queued ones so order holds", () => {
    const o = outbox();
    o.send(frame("a"), closed);
    const s = socket();
    o.send(frame("b"), s.transmit);
    expect(s.frames).toEqual([]);
    o.flush(s.transmit);
    expect(s.frames.map((f) => (f.op === "send" ? f.to : ""))).toEqual(["a", "b"]);
  });

  it("refuses a send beyond the queue bound with queue_full", async () => {
    const o = outbox(2);
    o.send(frame("a"), closed);
    o.send(frame("b"), closed);
    await expect(o.send(frame("c"), closed)).rejects.toMatchObject({ code: "queue_full" });
    expect(o.queued).toBe(2);
  });

  it("stops flushing when the socket stops taking frames", () => {
    const o = outbox();
    for (const to of ["a", "b"]) o.send(frame(to), closed);
    let budget = 1;
    const frames: AgentFrame[] = [];
    o.flush((f) => budget-- > 0 && frames.push(f) > 0);
    expect(frames).toHaveLength(1);
    expect(o.queued).toBe(1);
  });

  it("fails in-flight sends when the connection is lost and keeps queued ones", async () => {
    const o = outbox();
    const s = socket();
    const inFlight = o.send(frame("a"), s.transmit).catch((e: unknown) => e);
    s.close();
    o.send(frame("b"), s.transmit);
    o.connectionLost();
    expect(await inFlight).toMatchObject({ code: "connection_lost" });
    expect(o.queued).toBe(1);
    expect(o.pending).toBe(0);
  });

  it("fails everything on failAll", async () => {
    const o = outbox();
    const s = socket();
    const a = o.send(frame("a"), s.transmit).catch((e: unknown) => e);
    const b = o.send(frame("b"), closed).catch((e: unknown) => e);
    o.failAll(() => new AegisClientError("closed", "closed"));
    expect(await a).toMatchObject({ code: "closed" });
    expect(await b).toMatchObject({ code: "closed" });
  });
});
