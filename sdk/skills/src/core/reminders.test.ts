import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../test-harness";
import { reminders } from "./reminders";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("reminders", () => {
  it("returns reminders once they are due, and only once", async () => {
    const run = (input: unknown) => reminders.run(input, h.host);
    const soon = await run({ action: "schedule", text: "Check the deploy", inSeconds: 60 });
    await run({ action: "schedule", text: "Send the weekly report", dueAt: "2030-01-15T12:00:00Z" });

    expect(await run({ action: "due" })).toEqual({ action: "due", reminders: [] });

    h.clock.advance(61);
    const due = await run({ action: "due" });
    expect(due).toMatchObject({
      reminders: [
        {
          text: "Check the deploy",
          dueAt: "2030-01-15T09:01:00.000Z",
          deliveredAt: "2030-01-15T09:01:01.000Z",
        },
      ],
    });
    expect(await run({ action: "due" })).toEqual({ action: "due", reminders: [] });

    expect(await run({ action: "list" })).toMatchObject({ reminders: [{ text: "Send the weekly report" }] });
    expect(await run({ action: "list", includeDelivered: true })).toMatchObject({
      reminders: [{ text: "Check the deploy" }, { text: "Send the weekly report" }],
    });

    if (soon.action !== "schedule") throw new Error("expected a scheduled reminder");
    expect(await run({ action: "cancel", id: soon.reminder.id })).toMatchObject({ cancelled: true });
    expect(await run({ action: "cancel", id: soon.reminder.id })).toMatchObject({ cancelled: false });
  });

  it("needs exactly one of dueAt and inSeconds", async () => {
    await expect(
      reminders.run({ action: "schedule", text: "x", dueAt: "2030-01-16T00:00:00Z", inSeconds: 5 }, h.host),
    ).rejects.toMatchObject({
      code: "invalid_input",
      issues: { dueAt: ["give exactly one of dueAt and inSeconds"] },
    });
  });

  it("refuses a due time in the past", async () => {
    await expect(
      reminders.run({ action: "schedule", text: "too late", dueAt: "2030-01-15T08:00:00Z" }, h.host),
    ).rejects.toMatchObject({ code: "invalid_due_time" });
    expect(await reminders.run({ action: "list" }, h.host)).toEqual({ action: "list", reminders: [] });
  });
});
