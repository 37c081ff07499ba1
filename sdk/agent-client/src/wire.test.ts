import { describe, expect, it } from "vitest";
import { parseFrame } from "./wire";

const message = {
  op: "message",
  id: "msg_1",
  from: "agt_a",
  type: "task_handoff",
  payload: { title: "Review Q3" },
  correlationId: "msg_1",
  sentAt: "2025-01-01T00:00:00.000Z",
  hop: 1,
};

describe("parseFrame", () => {
  it("parses a message with its payload schema, filling in defaults", () => {
    const parsed = parseFrame(JSON.stringify(message));
    expect(parsed.ok && parsed.frame.op === "message" && parsed.frame.type === "task_handoff").toBe(true);
    if (parsed.ok && parsed.frame.op === "message" && parsed.frame.type === "task_handoff") {
      expect(parsed.frame.payload.priority).toBe("normal");
      expect(parsed.frame.payload.title).toBe("Review Q3");
    }
  });

  it("reads binary frames as UTF-8", () => {
    const parsed = parseFrame(new TextEncoder().encode(JSON.stringify({ op: "pong", t: 5 })));
    expect(parsed).toEqual({ ok: true, frame: { op: "pong", t: 5 } });
  });

  it("reports frames it does not understand instead of throwing", () => {
    expect(parseFrame("not json").ok).toBe(false);
    expect(parseFrame(JSON.stringify({ op: "teleport" })).ok).toBe(false);
    expect(parseFrame(JSON.stringify({ ...message, payload: { title: "" } })).ok).toBe(false);
  });
});
