import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodeHost, type NodeSkillHost } from "./node-host";

let sandbox: string;
let outside: string;
let host: NodeSkillHost;

beforeEach(async () => {
  sandbox = await mkdtemp(join(tmpdir(), "aegis-host-"));
  outside = join(sandbox, "outside");
  await mkdir(outside);
  await writeFile(join(outside, "secret.txt"), "top secret");
  host = await createNodeHost({ workspaceRoot: join(sandbox, "workspace"), routes: {} });
});

afterEach(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

describe("createNodeHost workspace", () => {
  it("round-trips files and creates folders as needed", async () => {
    await host.writeFile("workspace/a/b.txt", "hello");
    expect(await host.readFile("workspace/a/b.txt")).toBe("hello");
    expect(await host.readFile("workspace/a/missing.txt")).toBeNull();
    expect(await host.listFiles("workspace/")).toEqual(["workspace/a/b.txt"]);
    expect(await host.listFiles("nothing-here/")).toEqual([]);
  });

  it("refuses paths that climb out of the workspace", async () => {
    await expect(host.readFile("../outside/secret.txt")).rejects.toMatchObject({ code: "invalid_path" });
    await expect(host.writeFile("/tmp/x.txt", "x")).rejects.toMatchObject({ code: "invalid_path" });
    await expect(host.listFiles("../")).rejects.toMatchObject({ code: "invalid_path" });
  });

  it("does not follow a symlinked folder out of the workspace", async () => {
    await symlink(outside, join(host.workspaceRoot, "link"));
    await expect(host.readFile("link/secret.txt")).rejects.toMatchObject({ code: "invalid_path" });
    await expect(host.writeFile("link/new/planted.txt", "x")).rejects.toMatchObject({ code: "invalid_path" });
    await expect(readFile(join(outside, "new", "planted.txt"), "utf8")).rejects.toMatchObject({
      code: "ENOENT",
    });
    expect(await host.listFiles("")).toEqual([]);
  });

  it("does not write through a symlink planted at the file itself", async () => {
    await symlink(join(outside, "secret.txt"), join(host.workspaceRoot, "note.txt"));
    await expect(host.writeFile("note.txt", "overwritten")).rejects.toMatchObject({ code: "ELOOP" });
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe("top secret");
  });
});

describe("createNodeHost network", () => {
  it("refuses hosts without a route when routes are given", async () => {
    await expect(host.fetch(new Request("https://example.com/"))).rejects.toMatchObject({
      code: "unreachable_host",
    });
  });
});
