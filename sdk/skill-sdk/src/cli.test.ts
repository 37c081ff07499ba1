import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// End to end through the real bin under plain `node`, as `npx aegis-skill` would run it.
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const bin = join(packageDir, "bin/aegis-skill.mjs");
let work = "";

/** The environment without AEGIS_API_KEY, so that a developer's own key never leaks into a test. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { AEGIS_API_KEY: _key, ...rest } = process.env;
  return { ...rest, ...extra };
}

function cli(args: string[], cwd = work, env = cleanEnv()) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** As cli(), without blocking this process (for tests that serve HTTP to the child). */
function cliAsync(args: string[], cwd = work, env = cleanEnv()) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

// dist/ is built once by the unit suite's global setup (sdk/skill-sdk/test-setup.mjs).
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "aegis-skill-"));
});

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

  it("dry-run runs a scaffolded skill's tests in the sandbox and reports what it used", async () => {
    cli(["init", "sandboxed"]);
    const result = await cliAsync(["dry-run", "sandboxed"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ok 1 - greets by name");
    expect(result.stdout).toContain("Permissions used:\n  none");
    expect(result.stdout).toMatch(/Dry run passed: 2\/2 tests passed, 0 failed/);
  });

  it("dry-run stops a test that never ends at --timeout and exits 1", async () => {
    cli(["init", "spinner"]);
    await writeFile(
      join(work, "spinner/test/index.test.mjs"),
      'import { test } from "node:test";\ntest("spins", () => { for (;;) {} });\n',
    );
    const result = await cliAsync(["dry-run", "spinner", "--timeout", "1500"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("stopped at the time limit (1500 ms)");
    expect(result.stdout).toContain("Dry run stopped at the time limit");
  });

  it("dry-run refuses bad limits and unknown options", () => {
    expect(cli(["dry-run", "demo", "--timeout", "soon"]).stderr).toContain(
      "--timeout must be a whole number",
    );
    const unknown = cli(["dry-run", "demo", "--network"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option --network");
  });

  it("publish refuses to run without an API key or a URL (exit 2)", () => {
    const noKey = cli(["publish", "demo", "--url", "http://127.0.0.1:9"]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("no API key");
    expect(noKey.stderr).toContain("AEGIS_API_KEY");

    const noUrl = cli(["publish", "demo"], work, cleanEnv({ AEGIS_API_KEY: "aegis_secret_value" }));
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain("--url is required");
    expect(noUrl.stderr + noUrl.stdout).not.toContain("aegis_secret_value");

    expect(cli(["publish", "demo", "--url"]).code).toBe(2);
    expect(cli(["publish", "demo", "--nope", "--api-key", "k"]).code).toBe(2);
  });

  it("publish of an invalid package exits 1 with file:line findings and sends nothing", async () => {
    // "risky" (eval) comes from the validate test above. A closed port: any request would fail with "could not reach".
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = cli(["publish", "risky", "--url", url, "--api-key", "aegis_secret_value"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^src\/index\.mjs:10: error dynamic_code: eval/m);
    expect(result.stderr).toContain("not published");
    expect(result.stderr).not.toContain("could not reach");
    expect(result.stdout + result.stderr).not.toContain("aegis_secret_value");

    // The same command for a valid package does try to send (and fails on the closed port).
    const valid = cli(
      ["publish", "demo", "--url", url],
      work,
      cleanEnv({ AEGIS_API_KEY: "aegis_secret_value" }),
    );
    expect(valid.code).toBe(1);
    expect(valid.stderr).toContain("could not reach");
    expect(valid.stdout + valid.stderr).not.toContain("aegis_secret_value");
  });

  it("publish uploads the packed bytes with their sha256 and maps API errors to one line", async () => {
    const seen: { auth?: string; type?: string; body: Buffer }[] = [];
    let reply = { status: 201, body: {} as unknown };
    const server = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      seen.push({
        auth: req.headers.authorization,
        type: req.headers["content-type"],
        body: Buffer.concat(chunks),
      });
      expect(req.url).toBe("/base/api/dashboard/skills/package/upload");
      res.writeHead(reply.status, { "content-type": "application/json" }).end(JSON.stringify(reply.body));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
    try {
      const packed = cli(["pack", "demo"]);
      const sha = /sha256 ([0-9a-f]{64})/.exec(packed.stdout)?.[1] ?? "";
      const tgz = await readFile(join(work, "demo-0.1.0.tgz"));

      reply = { status: 201, body: { skill: { id: "s1" }, version: { id: "v123", status: "draft" } } };
      const ok = await cliAsync(["publish", "demo", `--url=${url}`, "--api-key", "aegis_k1"]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`published demo@0.1.0 as draft (sha256 ${sha})`);
      expect(ok.stdout).toContain("v123");
      expect(ok.stdout).not.toContain("aegis_k1");
      const request = seen[0];
      expect(request?.auth).toBe("Bearer aegis_k1");
      expect(request?.type).toMatch(/^multipart\/form-data/);
      expect(request?.body.includes(tgz)).toBe(true);
      expect(request?.body.toString("latin1")).toContain(sha);

      const cases: [number, string][] = [
        [409, "version_exists"],
        [422, "package_invalid"],
        [403, "plan_limit_reached"],
        [401, "unauthenticated"],
        [413, "payload_too_large"],
      ];
      for (const [status, code] of cases) {
        reply = { status, body: { code, message: `the ${code} message`, details: { findings: [] } } };
        const failed = await cliAsync(
          ["publish", "demo", "--url", url],
          work,
          cleanEnv({ AEGIS_API_KEY: "aegis_k2" }),
        );
        expect(failed.code).toBe(1);
        expect(failed.stderr).toContain(`(${status} ${code})`);
        expect(failed.stderr).toContain(`the ${code} message`);
        expect(failed.stdout + failed.stderr).not.toContain("aegis_k2");
      }
    } finally {
      await new Promise((done) => server.close(done));
    }
  }, 30_000);
});
