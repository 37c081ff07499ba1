import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, START_TIME } from "../test-harness";
import { taskTracking } from "./task-tracking";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("task-tracking", () => {
  it("creates, updates, lists and completes tasks", async () => {
    const run = (input: unknown) => taskTracking.run(input, h.host);
    const created = await run({ action: "create", title: "Draft Q3 plan", assignee: "planner" });
    if (created.action === "list") throw new Error("expected a task");
    expect(created.task).toMatchObject({
      title: "Draft Q3 plan",
      status: "open",
      createdAt: START_TIME.toISOString(),
    });

    h.clock.advance(60);
    const second = await run({ action: "create", title: "Book venue", dueAt: "2030-02-01T10:00:00+01:00" });
    if (second.action === "list") throw new Error("expected a task");
    expect(second.task.dueAt).toBe("2030-02-01T09:00:00.000Z");

    h.clock.advance(60);
    const updated = await run({
      action: "update",
      id: created.task.id,
      status: "in_progress",
      description: "v1",
    });
    expect(updated).toMatchObject({
      task: { status: "in_progress", description: "v1", title: "Draft Q3 plan" },
    });

    expect(await run({ action: "list", status: "in_progress" })).toMatchObject({
      tasks: [{ id: created.task.id }],
    });

    h.clock.advance(60);
    const done = await run({ action: "complete", id: second.task.id });
    expect(done).toMatchObject({ task: { status: "done", completedAt: "2030-01-15T09:03:00.000Z" } });

    const all = await run({ action: "list" });
    expect(all.action === "list" && all.tasks.map((task) => task.title)).toEqual([
      "Draft Q3 plan",
      "Book venue",
    ]);
  });

  it("answers not_found for an unknown task", async () => {
    await expect(
      taskTracking.run({ action: "complete", id: "8f14e45f-ceea-4e7a-9c6b-3a1f2d1e0b7c" }, h.host),
    ).rejects.toMatchObject({ code: "not_found" });
  });

  it("refuses a task without a title", async () => {
    await expect(taskTracking.run({ action: "create", title: "  " }, h.host)).rejects.toMatchObject({
      code: "invalid_input",
      issues: { title: [expect.any(String)] },
    });
    expect(await taskTracking.run({ action: "list" }, h.host)).toEqual({ action: "list", tasks: [] });
  });
});
