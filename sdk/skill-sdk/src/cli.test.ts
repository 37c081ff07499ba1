import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// End to end through the real bin under plain `node`, as `npx aegis-skill` would run it.
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const bin = join(packageDir, "bin/aegis-skill.mjs");
let work = "";

function cli(args: string[], cwd = work) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  const build = spawnSync(process.execPath, [join(packageDir, "build.mjs")], { encoding: "utf8" });
  expect(build.stderr).toBe("");
  expect(build.status).toBe(0);
  work = await mkdtemp(join(tmpdir(), "aegis-skill-"));
}, 30_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("aegis-skill", () => {
  it("init → test → validate → pack, with the same sha256 on every pack", () => {
    const init = cli(["init", "demo"]);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("aegis-skill.json");

    const demo = join(work, "demo");
    const tests = cli(["test"], demo);
    expect(tests.code, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/# pass 2/);

    const validate = cli(["validate", "demo"]);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stdout).toContain("✓ No dynamic code");
    expect(validate.stdout).toContain("demo@0.1.0 is valid.");

    const first = cli(["pack", "demo"]);
    const second = cli(["pack", "demo"]);
    expect(first.code).toBe(0);
    const sha = /sha256 ([0-9a-f]{64})/.exec(first.stdout)?.[1];
    expect(sha).toBeDefined();
    expect(second.stdout).toContain(`sha256 ${sha}`);
  }, 30_000);

  it("validate exits 1 and prints file:line for eval", async () => {
    const init = cli(["init", "risky"]);
    expect(init.code).toBe(0);
    const entry = join(work, "risky/src/index.mjs");
    await writeFile(entry, `${await readFile(entry, "utf8")}\nexport const run = (code) => eval(code);\n`);
    const validate = cli(["validate", "risky"]);
    expect(validate.code).toBe(1);
    expect(validate.stderr).toMatch(/^src\/index\.mjs:10: error dynamic_code: eval/m);
    expect(validate.stdout).toContain("✗ No dynamic code");
    // pack refuses too, and writes nothing.
    expect(cli(["pack", "risky"]).code).toBe(1);
  });

  it("refuses names that are not kebab-case and an existing folder", () => {
    expect(cli(["init", "Bad Name"]).code).toBe(1);
    cli(["init", "twice"]);
    expect(cli(["init", "twice"]).stderr).toContain("already exists");
  });

  it("says publish and dry-run are not available yet (exit 2)", () => {
    for (const command of ["publish", "dry-run"]) {
      const result = cli([command]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("not available yet");
    }
  });
});
