import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PermissionDeniedError, SkillInputError } from "../sdk";
import { createHarness, type Harness } from "../test-harness";
import { workspaceFiles } from "./workspace-files";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("workspace-files", () => {
  it("writes, reads and lists files under workspace/", async () => {
    const run = (input: unknown) => workspaceFiles.run(input, h.host);
    expect(await run({ action: "write", path: "workspace/drafts/letter.md", content: "Dear Sam," })).toEqual({
      action: "write",
      path: "workspace/drafts/letter.md",
      bytes: 9,
    });
    expect(await readFile(join(h.host.workspaceRoot, "workspace", "drafts", "letter.md"), "utf8")).toBe(
      "Dear Sam,",
    );
    expect(await run({ action: "read", path: "workspace/drafts/letter.md" })).toEqual({
      action: "read",
      path: "workspace/drafts/letter.md",
      exists: true,
      content: "Dear Sam,",
    });
    expect(await run({ action: "read", path: "workspace/none.md" })).toMatchObject({
      exists: false,
      content: null,
    });
    expect(await run({ action: "list" })).toEqual({ action: "list", files: ["workspace/drafts/letter.md"] });
  });

  it("refuses traversal as bad input", async () => {
    const attempt = workspaceFiles.run({ action: "read", path: "workspace/../../etc/passwd" }, h.host);
    await expect(attempt).rejects.toBeInstanceOf(SkillInputError);
    await expect(attempt).rejects.toMatchObject({ issues: { path: [expect.stringContaining("..")] } });
  });

  it("refuses files outside workspace/ and says so in the permission log", async () => {
    await writeFile(join(h.host.workspaceRoot, "credentials.json"), "{}");
    await expect(
      workspaceFiles.run({ action: "read", path: "credentials.json" }, h.host),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(
      workspaceFiles.run({ action: "write", path: "reports/x.md", content: "x" }, h.host),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(h.host.permissionLog).toMatchObject([
      { kind: "file_read", target: "credentials.json", allowed: false },
      { kind: "file_write", target: "reports/x.md", allowed: false },
    ]);
  });
});
