import { describe, expect, it, vi } from "vitest";
import type { AgentFrame } from "../../../durable-objects/protocol";
import { Inbox, type InboxOptions, type MessageHandler } from "./inbox";
import type { IncomingMessage } from "./wire";

function msg(id: string, correlationId = id): IncomingMessage {
  return {
    op: "message",
    id,
    from: "agt_sender",
    type: "notification",
    payload: { title: `hello ${id}`, level: "info" },
    correlationId,
    sentAt: "2025-01-01T00:00:00.000Z",
    hop: 1,
  };
}

function setup(overrides: Partial<InboxOptions> = {}) {
  const sent: AgentFrame[] = [];
  const log = vi.fn();
  const reply = vi.fn(async () => ({ id: "msg_reply", status: "delivered" as const }));
  const inbox = new Inbox({
    windowSize: 100,
    concurrency: 1,
    transmit: (frame) => {
      sent.push(frame);
      return true;
    },
    reply,
    log,
    ...overrides,
  });
  const acks = () => sent.filter((f) => f.op === "ack").map((f) => (f.op === "ack" ? f.id : ""));
  return { inbox, sent, acks, log, reply };
}

/** A handler whose calls finish only when the test says so. */
function gatedHandler() {
  const calls: string[] = [];
  const gates = new Map<string, () => void>();
  const handler: MessageHandler = (m) =>
    new Promise<void>((resolve) => {
      calls.push(m.id);
      gates.set(m.id, resolve);
    });
  const release = (id: string) => gates.get(id)?.();
  return { calls, handler, release };
}

describe("Inbox", () => {
  it("acknowledges a message once its handler resolves", async () => {
    const { inbox, acks } = setup();
    const { calls, handler, release } = gatedHandler();
    inbox.setHandler(handler);
    inbox.receive(msg("m1"));
    expect(calls).toEqual(["m1"]);
    expect(acks()).toEqual([]);
    release("m1");
    await inbox.idle();
    expect(acks()).toEqual(["m1"]);
  });

  it("does not run the handler again for a redelivered, acknowledged message, but acks it again", async () => {
    const { inbox, acks } = setup();
    const handler = vi.fn();
    inbox.setHandler(handler);
    inbox.receive(msg("m1"));
    await inbox.idle();
    inbox.receive(msg("m1"));
    await inbox.idle();
    expect(handler).toHaveBeenCalledTimes(1);
    expect(acks()).toEqual(["m1", "m1"]);
  });

  it("drops a duplicate that arrives while the first delivery is still being handled", async () => {
    const { inbox, acks } = setup();
    const { calls, handler, release } = gatedHandler();
    inbox.setHandler(handler);
    inbox.receive(msg("m1"));
    inbox.receive(msg("m1"));
    release("m1");
    await inbox.idle();
    expect(calls).toEqual(["m1"]);
    expect(acks()).toEqual(["m1"]);
  });

  it("leaves a message unacknowledged when its handler throws, and handles its redelivery", async () => {
    const { inbox, acks, log } = setup();
    let first = true;
    const handler = vi.fn(() => {
      if (first) {
        first = false;
        throw new Error("not yet");
      }
    });
    inbox.setHandler(handler);
    inbox.receive(msg("m1"));
    await inbox.idle();
    expect(acks()).toEqual([]);
    expect(log).toHaveBeenCalledWith("error", expect.stringContaining("not acknowledged"), expect.anything());
    inbox.receive(msg("m1"));
    await inbox.idle();
    expect(handler).toHaveBeenCalledTimes(2);
    expect(acks()).toEqual(["m1"]);
  });

  it("keeps an explicit ack even if the handler throws afterwards, and never acks twice", async () => {
    const { inbox, acks } = setup();
    const handler = vi.fn<MessageHandler>((_m, ctx) => {
      ctx.ack();
      ctx.ack();
      throw new Error("after ack");
    });
    inbox.setHandler(handler);
    inbox.receive(msg("m1"));
    await inbox.idle();
    inbox.receive(msg("m1"));
    await inbox.idle();
    expect(handler).toHaveBeenCalledTimes(1);
    expect(acks()).toEqual(["m1", "m1"]);
  });

  it("runs handlers one at a time in arrival order", async () => {
    const { inbox, acks } = setup();
    const { calls, handler, release } = gatedHandler();
    inbox.setHandler(handler);
    for (const id of ["m1", "m2", "m3"]) inbox.receive(msg(id));
    expect(calls).toEqual(["m1"]);
    release("m1");
    await vi.waitFor(() => expect(calls).toEqual(["m1", "m2"]));
    release("m2");
    await vi.waitFor(() => expect(calls).toEqual(["m1", "m2", "m3"]));
    release("m3");
    await inbox.idle();
    expect(acks()).toEqual(["m1", "m2", "m3"]);
  });

  it("runs up to `concurrency` handlers at once", () => {
    const { inbox } = setup({ concurrency: 2 });
    const { calls, handler } = gatedHandler();
    inbox.setHandler(handler);
    for (const id of ["m1", "m2", "m3"]) inbox.receive(msg(id));
    expect(calls).toEqual(["m1", "m2"]);
  });

  it("holds messages until a handler is set", async () => {
    const { inbox, acks } = setup();
    inbox.receive(msg("m1"));
    await inbox.idle();
    expect(acks()).toEqual([]);
    const handler = vi.fn();
    inbox.setHandler(handler);
    await inbox.idle();
    expect(handler).toHaveBeenCalledTimes(1);
    expect(acks()).toEqual(["m1"]);
  });

  it("forgets messages dropped before reaching a handler, so their redelivery is handled", async () => {
    const { inbox } = setup();
    const { calls, handler, release } = gatedHandler();
    inbox.setHandler(handler);
    inbox.receive(msg("m1"));
    inbox.receive(msg("m2"));
    inbox.dropWaiting();
    release("m1");
    await inbox.idle();
    inbox.receive(msg("m2"));
    await vi.waitFor(() => expect(calls).toEqual(["m1", "m2"]));
  });

  it("forgets the oldest acknowledged ids beyond the window", async () => {
    const { inbox } = setup({ windowSize: 2 });
    const handler = vi.fn();
    inbox.setHandler(handler);
    for (const id of ["m1", "m2", "m3"]) inbox.receive(msg(id));
    await inbox.idle();
    inbox.receive(msg("m3"));
    inbox.receive(msg("m1"));
    await inbox.idle();
    expect(handler.mock.calls.map(([m]) => m.id)).toEqual(["m1", "m2", "m3", "m1"]);
  });

  it("replies through the client with the message it answers", async () => {
    const { inbox, reply } = setup();
    inbox.setHandler(async (_m, ctx) => {
      await ctx.reply("status_update", { status: "done" }, { ttlSeconds: 60 });
    });
    const m = msg("m1", "thread-1");
    inbox.receive(m);
    await inbox.idle();
    expect(reply).toHaveBeenCalledWith(m, "status_update", { status: "done" }, { ttlSeconds: 60 });
  });
});
