import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SkillInputError } from "../sdk";
import { createHarness, type Harness, START_TIME } from "../test-harness";
import { statusReporting } from "./status-reporting";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("status-reporting", () => {
  it("reports the status to the platform and tells the agents that asked", async () => {
    const result = await statusReporting.run(
      {
        state: "working",
        message: "Reconciling March invoices",
        progress: 40,
        notify: ["lead-agent", "lead-agent"],
      },
      h.host,
    );
    expect(h.host.statusLog).toEqual([
      { state: "working", message: "Reconciling March invoices", progress: 40 },
    ]);
    expect(h.sent).toEqual([
      {
        to: "lead-agent",
        type: "status_update",
        payload: {
          state: "working",
          message: "Reconciling March invoices",
          progress: 40,
          at: START_TIME.toISOString(),
        },
      },
    ]);
    expect(result).toEqual({
      reported: true,
      notified: [{ to: "lead-agent", id: "msg_1", status: "queued" }],
    });
  });

  it("refuses progress outside 0–100 and reports nothing", async () => {
    await expect(statusReporting.run({ state: "working", progress: 140 }, h.host)).rejects.toBeInstanceOf(
      SkillInputError,
    );
    expect(h.host.statusLog).toEqual([]);
  });
});
