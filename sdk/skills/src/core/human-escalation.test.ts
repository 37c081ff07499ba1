import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, START_TIME } from "../test-harness";
import { HUMAN_ESCALATION_TARGET, humanEscalation } from "./human-escalation";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("human-escalation", () => {
  it("sends an escalation with its severity and reason to the humans", async () => {
    const result = await humanEscalation.run(
      {
        severity: "high",
        title: "Refund above my limit",
        reason: "Customer asks for a $4,000 refund; my limit is $500.",
        context: { ticket: "T-981" },
      },
      h.host,
    );
    expect(result).toEqual({ id: "msg_1", status: "queued", to: HUMAN_ESCALATION_TARGET });
    expect(h.sent).toEqual([
      {
        to: "humans",
        type: "escalation",
        payload: {
          severity: "high",
          title: "Refund above my limit",
          reason: "Customer asks for a $4,000 refund; my limit is $500.",
          context: { ticket: "T-981" },
          raisedAt: START_TIME.toISOString(),
        },
      },
    ]);
  });

  it("refuses an escalation without a real reason or a known severity, and sends nothing", async () => {
    await expect(
      humanEscalation.run({ severity: "urgent", title: "Help", reason: "help" }, h.host),
    ).rejects.toMatchObject({
      code: "invalid_input",
      issues: { severity: [expect.any(String)], reason: ["explain the reason in at least 10 characters"] },
    });
    expect(h.sent).toEqual([]);
  });
});
