import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SkillInputError } from "../sdk";
import { createHarness, type Harness } from "../test-harness";
import { agentMessaging } from "./agent-messaging";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("agent-messaging", () => {
  it("sends the message to the other agent and returns its delivery state", async () => {
    const result = await agentMessaging.run(
      {
        to: "billing-agent",
        type: "task_handoff",
        payload: { invoice: "INV-7", amount: 120 },
        correlationId: "c-1",
      },
      h.host,
    );
    expect(result).toEqual({ id: "msg_1", status: "queued" });
    expect(h.sent).toEqual([
      {
        to: "billing-agent",
        type: "task_handoff",
        payload: { invoice: "INV-7", amount: 120 },
        correlationId: "c-1",
      },
    ]);
  });

  it("refuses escalations, which go through human-escalation, and sends nothing", async () => {
    const attempt = agentMessaging.run({ to: "humans", type: "escalation", payload: {} }, h.host);
    await expect(attempt).rejects.toBeInstanceOf(SkillInputError);
    await expect(attempt).rejects.toMatchObject({ issues: { type: [expect.any(String)] } });
    expect(h.sent).toEqual([]);
  });

  it("names every missing field", async () => {
    await expect(agentMessaging.run({ payload: "text" }, h.host)).rejects.toMatchObject({
      issues: { to: [expect.any(String)], type: [expect.any(String)], payload: [expect.any(String)] },
    });
  });
});
