import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../test-harness";
import { scratchpadMemory } from "./scratchpad-memory";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("scratchpad-memory", () => {
  it("puts, gets, lists and deletes keys", async () => {
    const run = (input: unknown) => scratchpadMemory.run(input, h.host);
    expect(await run({ action: "put", key: "plan/step", value: "call the bank" })).toEqual({
      action: "put",
      key: "plan/step",
      bytes: 13,
    });
    await run({ action: "put", key: "plan/owner", value: "Dana" });
    await run({ action: "put", key: "other", value: "x" });
    expect(await run({ action: "get", key: "plan/step" })).toEqual({
      action: "get",
      key: "plan/step",
      value: "call the bank",
    });
    expect(await run({ action: "list", prefix: "plan/" })).toEqual({
      action: "list",
      keys: ["plan/owner", "plan/step"],
    });
    expect(await run({ action: "delete", key: "plan/step" })).toEqual({
      action: "delete",
      key: "plan/step",
      deleted: true,
    });
    expect(await run({ action: "delete", key: "plan/step" })).toMatchObject({ deleted: false });
    expect(await run({ action: "get", key: "plan/step" })).toMatchObject({ value: null });
  });

  it("refuses values over 16 KiB, counted in bytes rather than characters", async () => {
    // 8,193 characters but 16,386 UTF-8 bytes.
    const attempt = scratchpadMemory.run({ action: "put", key: "big", value: "é".repeat(8193) }, h.host);
    await expect(attempt).rejects.toMatchObject({
      code: "invalid_input",
      issues: { value: [expect.any(String)] },
    });
    expect(await scratchpadMemory.run({ action: "get", key: "big" }, h.host)).toMatchObject({ value: null });
  });
});
