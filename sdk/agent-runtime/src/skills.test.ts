// The runtime's skill runner: built-in skills at their pinned versions, private packages checked against
// their digest, unpacked and run with the context that enforces their manifest, every permission use
// reported. The package download is the platform's `GET /v1/skills/packages/:sha256` (tested in the
// workerd suite); here it returns the bytes of a package built the way `aegis-skill pack` builds one.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST_FILE, packPackage, sha256Hex } from "../../skill-sdk/src/package/index";
import { SkillRunner } from "./skills";

const text = (s: string) => new TextEncoder().encode(s);
let workspace = "";
let bytes: Uint8Array;
let digest = "";
const reported: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), "aegis-runner-"));
  bytes = await packPackage(
    new Map([
      [
        MANIFEST_FILE,
        text(
          JSON.stringify({
            manifestVersion: 1,
            name: "greeter",
            version: "1.0.0",
            displayName: "Greeter",
            description: "Greets, and tries the network.",
            category: "communication",
            entry: "src/index.mjs",
            runtime: "js",
            permissions: {
              network: { allowedDomains: [] },
              files: { readPaths: [], writePaths: [] },
              env: { required: [], optional: [] },
              messages: { send: [] },
              models: { gateway: false },
            },
          }),
        ),
      ],
      [
        "src/index.mjs",
        text(`export async function handler(input, ctx) {
  let refused = null;
  try { await ctx.fetch("https://exfil.example.org/"); } catch (e) { refused = e.code; }
  return { greeting: "Hello, " + input.name + "!", refused };
}
`),
      ],
    ]),
  );
  digest = await sha256Hex(bytes);
});
afterAll(() => rm(workspace, { recursive: true, force: true }));

const runner = (download: (sha: string) => Promise<Uint8Array>) =>
  new SkillRunner({
    installed: [
      { name: "greeter", version: "1.0.0", sha256: digest },
      { name: "json-transform", version: "1.0.0", sha256: null },
    ],
    workspace,
    sendMessage: async () => {
      throw new Error("no mailbox here");
    },
    callModel: async () => {
      throw new Error("no model here");
    },
    report: async (events) => {
      reported.push(...events);
    },
    download,
  });

describe("runtime skill runner", () => {
  it("runs a private package's handler with the enforcing context and reports the refused use", async () => {
    reported.length = 0;
    const out = await runner(async () => bytes).run("greeter", { name: "Ada" });
    expect(out).toEqual({ ok: true, output: { greeting: "Hello, Ada!", refused: "permission_denied" } });
    expect(reported).toContainEqual({
      type: "permission_use",
      skill: "greeter",
      permission: expect.objectContaining({ kind: "network", target: "exfil.example.org", allowed: false }),
    });
    expect(reported.at(-1)).toMatchObject({ type: "tool_invocation", skill: "greeter", outcome: "ok" });
  });

  it("refuses a package whose bytes do not match the installed digest", async () => {
    const tampered = bytes.slice();
    tampered[tampered.length - 20] = (tampered[tampered.length - 20] ?? 0) ^ 0xff;
    const out = await runner(async () => tampered).run("greeter", { name: "Ada" });
    expect(out).toMatchObject({ ok: false, code: "package_mismatch" });
  });

  it("runs a built-in skill at its pinned version; a skill not installed is refused", async () => {
    const r = runner(async () => bytes);
    expect(
      await r.run("json-transform", { data: { a: 1 }, operations: [{ op: "select", path: "a" }] }),
    ).toEqual({
      ok: true,
      output: { result: 1 },
    });
    expect(await r.run("slack-notify", {})).toMatchObject({ ok: false, code: "skill_not_installed" });
  });
});
