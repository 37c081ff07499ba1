import { describe, expect, it } from "vitest";
import { noPermissions, type SkillManifest } from "../manifest";
import { runDryRun, tapCounts } from "./dry-run";

const text = (value: string) => new TextEncoder().encode(value);

function manifest(permissions: Partial<SkillManifest["permissions"]> = {}): SkillManifest {
  return {
    manifestVersion: 1,
    name: "probe",
    version: "1.0.0",
    displayName: "Probe",
    description: "Probes the sandbox.",
    category: "communication",
    entry: "src/index.mjs",
    runtime: "js",
    permissions: { ...noPermissions(), ...permissions },
  } as SkillManifest;
}

/** A package with one test file whose body is `body` (node:test and assert imported). */
function pkg(body: string, extra: Record<string, string> = {}): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  files.set(
    "test/probe.test.mjs",
    text(`import assert from "node:assert/strict";\nimport { test } from "node:test";\n${body}\n`),
  );
  for (const [path, value] of Object.entries(extra)) files.set(path, text(value));
  return files;
}

const quick = { timeoutMs: 8_000, memoryMb: 64 };

describe("dry-run sandbox", () => {
  it("runs the package's tests and reports them passed with their TAP output", async () => {
    const result = await runDryRun(
      pkg(
        `import { handler } from "../src/index.mjs";
test("greets", async () => { assert.equal((await handler({ name: "Ada" })).greeting, "Hello, Ada!"); });
test("adds", () => { assert.equal(1 + 1, 2); });`,
        {
          "src/index.mjs":
            "export async function handler(input) { return { greeting: 'Hello, ' + input.name + '!' }; }",
        },
      ),
      manifest(),
      quick,
    );
    expect(result.error).toBeUndefined();
    expect(result.tests).toEqual({ total: 2, passed: 2, failed: 0 });
    expect(result.passed).toBe(true);
    expect(result.output).toContain("ok 1 - greets");
    expect(result.permissionsUsed).toEqual([]);
  });

  it("tests can import the SDK, as the agent runtime provides it, and its context enforces the manifest", async () => {
    const result = await runDryRun(
      pkg(`import { createMemoryKv, defineSkill, PermissionDeniedError } from "@aegis/skill-sdk";
import { z } from "zod";
test("defineSkill", async () => {
  const skill = defineSkill({
    manifest: ${JSON.stringify(manifest())},
    input: z.object({}),
    output: z.object({ refused: z.boolean() }),
    async handler(_input, ctx) {
      try { await ctx.fetch("https://api.example.com/"); return { refused: false }; }
      catch (e) { return { refused: e instanceof PermissionDeniedError }; }
    },
  });
  const host = { fetch, readFile: async () => null, writeFile: async () => {}, listFiles: async () => [], env: {},
    sendMessage: async () => ({}), callModel: async () => ({}), kv: createMemoryKv(), reportStatus: async () => {},
    now: () => new Date(0), reportPermissionUse: () => {} };
  assert.deepEqual(await skill.run({}, host), { refused: true });
});`),
      manifest(),
      quick,
    );
    expect(result.output).toContain("ok 1 - defineSkill");
    expect(result.passed).toBe(true);
  });

  it("a failing test fails the run", async () => {
    const result = await runDryRun(pkg(`test("wrong", () => { assert.equal(1, 2); });`), manifest(), quick);
    expect(result.passed).toBe(false);
    expect(result.tests).toMatchObject({ total: 1, failed: 1 });
    expect(result.output).toContain("not ok 1 - wrong");
  });

  it("declared domains are answered by the fixture server; others are refused and reported", async () => {
    const result = await runDryRun(
      pkg(
        `test("network", async () => {
  const items = await (await fetch("https://api.example.com/v1/items")).json();
  assert.deepEqual(items, { items: [1, 2] });
  const echo = await (await fetch("https://eu.data.example.net/q?x=1", { method: "POST", body: "hi" })).json();
  assert.deepEqual(echo, { fixture: "echo", method: "POST", url: "https://eu.data.example.net/q?x=1", body: "hi" });
  await assert.rejects(fetch("https://evil.example.org/steal"), /not in the manifest/);
  await assert.rejects(fetch("http://127.0.0.1:9/"), /only default ports|not in the manifest/);
});`,
        {
          "test/fixtures.json": JSON.stringify({
            "GET https://api.example.com/v1/items": { body: { items: [1, 2] } },
          }),
        },
      ),
      manifest({
        network: { allowedDomains: ["api.example.com", "*.example.net"] },
      } as Partial<SkillManifest["permissions"]>),
      quick,
    );
    expect(result.output).toContain("ok 1 - network");
    expect(result.passed).toBe(true);
    expect(result.permissionsUsed).toEqual([
      { kind: "network", target: "127.0.0.1", allowed: false, count: 1 },
      { kind: "network", target: "api.example.com", allowed: true, count: 1 },
      { kind: "network", target: "eu.data.example.net", allowed: true, count: 1 },
      { kind: "network", target: "evil.example.org", allowed: false, count: 1 },
    ]);
  });

  it("no ambient network, processes or files outside the package; only declared env", async () => {
    const result = await runDryRun(
      pkg(`import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
test("walls", async () => {
  await assert.rejects(import("node:net"), /not available/);
  await assert.rejects(import("node:http"), /not available/);
  const require = createRequire(import.meta.url);
  assert.throws(() => require("https"), /not available/);
  assert.throws(() => require("node:child_process"), /not available/);
  assert.throws(() => process.binding("tcp_wrap"), /not available/);
  assert.throws(() => readFileSync("/etc/hostname"), { code: "ERR_ACCESS_DENIED" });
  assert.equal(process.env.API_TOKEN, "dry-run-api_token");
  assert.equal(process.env.HOME, undefined);
  assert.equal(process.env.AEGIS_DRY_RUN_CONFIG, undefined);
});`),
      manifest({ env: { required: ["API_TOKEN"], optional: [] } } as Partial<SkillManifest["permissions"]>),
      quick,
    );
    expect(result.output).toContain("ok 1 - walls");
    expect(result.passed).toBe(true);
    expect(result.permissionsUsed).toEqual(
      expect.arrayContaining([
        { kind: "env", target: "API_TOKEN", allowed: true, count: 1 },
        { kind: "env", target: "HOME", allowed: false, count: 1 },
      ]),
    );
  });

  it("a test that loops forever is killed at the time limit and reported", async () => {
    const result = await runDryRun(pkg(`test("spins", () => { for (;;) {} });`), manifest(), {
      timeoutMs: 1_500,
      memoryMb: 64,
    });
    expect(result.passed).toBe(false);
    expect(result.limit).toBe("time");
    expect(result.output).toContain("stopped at the time limit (1500 ms)");
  });

  it("a test that allocates without end is stopped at the memory limit", async () => {
    const result = await runDryRun(
      pkg(
        `test("hoards", () => { const all = []; for (;;) all.push(new Array(1e5).fill(Math.random())); });`,
      ),
      manifest(),
      { timeoutMs: 20_000, memoryMb: 32 },
    );
    expect(result.passed).toBe(false);
    expect(result.limit).toBe("memory");
  });

  it("a package without tests, or with broken fixtures, does not run", async () => {
    const none = await runDryRun(new Map([["src/index.mjs", text("export {}")]]), manifest(), quick);
    expect(none.passed).toBe(false);
    expect(none.error).toMatch(/no tests/);
    const broken = await runDryRun(
      pkg(`test("x", () => {});`, { "test/fixtures.json": "{" }),
      manifest(),
      quick,
    );
    expect(broken.error).toMatch(/fixtures.json is not valid JSON/);
  });

  it("reads the totals of several files' TAP summaries", () => {
    expect(
      tapCounts("# tests 2\n# pass 2\n# fail 0\n# tests 3\n# pass 1\n# fail 1\n# cancelled 1\n"),
    ).toEqual({
      total: 5,
      passed: 3,
      failed: 2,
    });
  });
});
