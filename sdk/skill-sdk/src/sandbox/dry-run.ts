// The dry-run sandbox, Node only: runs a skill package's own tests in a child Node process that
// enforces the manifest, and reports `{ passed, output, permissionsUsed }`.
//
// The child process gets:
// - the file system read-only and only inside its own folder (Node's permission model: no writes, no
//   child processes, no native addons; worker threads are allowed for the module hooks' own thread
//   and refused to the skill by the preload);
// - no network of its own: `fetch` reaches only the manifest's declared domains, and those requests
//   are answered by a fixture server on 127.0.0.1 (the package's `test/fixtures.json`, else an echo);
//   `node:net`, `http`, `https`, `tls`, `dgram`, `dns`, `http2` cannot be loaded (import or require);
// - an environment holding only the declared variables (with placeholder values);
// - a heap limit (`--max-old-space-size`) and a wall-clock limit, after which it is killed.
// The CLI (`aegis-skill dry-run`) and the platform's sandbox service both call `runDryRun`.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { SkillManifest } from "../manifest";
import { domainAllowed } from "../policy";
import { HOOKS_SOURCE, PRELOAD_SOURCE, RUNNER_SOURCE } from "./harness";

export interface DryRunLimits {
  /** Wall-clock limit for the whole run, start-up included. */
  timeoutMs: number;
  /** The child's V8 heap limit. */
  memoryMb: number;
}

export const DEFAULT_DRY_RUN_LIMITS: DryRunLimits = { timeoutMs: 10_000, memoryMb: 64 };
/** Output kept from the tests (stdout and stderr, interleaved), in characters. */
export const MAX_DRY_RUN_OUTPUT = 64 * 1024;

export interface PermissionUse {
  kind: "network" | "env";
  /** A hostname or a variable name. */
  target: string;
  allowed: boolean;
  /** How many times it happened. */
  count: number;
}

export interface DryRunResult {
  passed: boolean;
  /** The tests' TAP output, trimmed to MAX_DRY_RUN_OUTPUT. */
  output: string;
  permissionsUsed: PermissionUse[];
  tests: { total: number; passed: number; failed: number };
  durationMs: number;
  /** Set when the run did not finish by itself. */
  limit?: "time" | "memory";
  /** Why the run could not start or did not count, in a sentence. */
  error?: string;
}

const TEST_FILE = /^test\/(?:.+\/)?[^/]+\.test\.(?:mjs|js)$/;
const FIXTURES_FILE = "test/fixtures.json";

/** The package's test files, in a stable order. */
export function testFilesOf(files: ReadonlyMap<string, Uint8Array>): string[] {
  return [...files.keys()].filter((path) => TEST_FILE.test(path)).sort();
}

/**
 * Runs the package's tests (`test/**\/*.test.mjs`) in a sandboxed child process. `files` are the
 * package's files by path (from `unpackPackage` or a folder); nothing outside a fresh temporary folder
 * is written, and that folder is removed afterwards.
 */
export async function runDryRun(
  files: ReadonlyMap<string, Uint8Array>,
  manifest: SkillManifest,
  limits: DryRunLimits = DEFAULT_DRY_RUN_LIMITS,
): Promise<DryRunResult> {
  const started = performance.now();
  const tests = testFilesOf(files);
  const empty = { total: 0, passed: 0, failed: 0 };
  if (tests.length === 0) {
    return {
      passed: false,
      output: "",
      permissionsUsed: [],
      tests: empty,
      durationMs: 0,
      error: "The package has no tests: add test/<name>.test.mjs files (aegis-skill init shows one).",
    };
  }
  const fixtures = parseFixtures(files.get(FIXTURES_FILE));
  if (typeof fixtures === "string") {
    return { passed: false, output: "", permissionsUsed: [], tests: empty, durationMs: 0, error: fixtures };
  }

  const root = await mkdtemp(join(tmpdir(), "aegis-dry-run-"));
  const uses = new Map<string, PermissionUse>();
  const record = (kind: PermissionUse["kind"], target: string, allowed: boolean) => {
    const key = `${kind}\u0000${target}\u0000${allowed}`;
    const use = uses.get(key) ?? { kind, target, allowed, count: 0 };
    use.count++;
    uses.set(key, use);
  };
  const fixtureServer = await startFixtureServer(manifest, fixtures, (host) => record("network", host, true));
  try {
    const pkg = join(root, "pkg");
    const harness = join(root, ".aegis");
    for (const [path, bytes] of files) {
      const target = join(pkg, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
    }
    // The SDK, as the agent runtime provides it: tests may import { defineSkill } from "@aegis/skill-sdk".
    const sdk = await sandboxSdk();
    if (sdk !== null) {
      const at = join(pkg, "node_modules", "@aegis", "skill-sdk");
      await mkdir(at, { recursive: true });
      await writeFile(
        join(at, "package.json"),
        JSON.stringify({ name: "@aegis/skill-sdk", type: "module", exports: "./index.js" }),
      );
      await writeFile(join(at, "index.js"), sdk);
      // `import { z } from "zod"` gets the SDK's own zod (the SDK also exports it as `z`).
      const zod = join(pkg, "node_modules", "zod");
      await mkdir(zod, { recursive: true });
      await writeFile(
        join(zod, "package.json"),
        JSON.stringify({ name: "zod", type: "module", exports: "./index.js" }),
      );
      await writeFile(
        join(zod, "index.js"),
        'import { z } from "@aegis/skill-sdk";\nexport { z };\nexport default z;\n',
      );
    }
    await mkdir(harness, { recursive: true });
    await writeFile(join(harness, "preload.mjs"), PRELOAD_SOURCE);
    await writeFile(join(harness, "hooks.mjs"), HOOKS_SOURCE);
    await writeFile(join(harness, "runner.mjs"), RUNNER_SOURCE);

    const env: Record<string, string> = {
      // What the preload needs; it removes these from the skill's view of process.env.
      AEGIS_DRY_RUN_CONFIG: JSON.stringify({
        fixtureOrigin: fixtureServer.origin,
        allowedDomains: manifest.permissions.network.allowedDomains,
        declaredEnv: [...manifest.permissions.env.required, ...manifest.permissions.env.optional],
        tests: tests.map((path) => join(pkg, path)),
        packageUrl: `${pathToFileURL(pkg).href}/`,
      }),
      NODE_NO_WARNINGS: "1",
    };
    const child = spawn(
      process.execPath,
      [
        "--experimental-permission",
        `--allow-fs-read=${root}`,
        // Only for the module hooks' thread: the preload refuses worker_threads to the skill itself.
        "--allow-worker",
        `--max-old-space-size=${limits.memoryMb}`,
        "--stack-size=984",
        "--import",
        join(harness, "preload.mjs"),
        join(harness, "runner.mjs"),
      ],
      { cwd: pkg, env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe", "pipe"] },
    );
    let output = "";
    const append = (chunk: Buffer) => {
      if (output.length < MAX_DRY_RUN_OUTPUT) output += chunk.toString("utf8");
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    // Refused uses, reported by the preload on fd 3 as JSON lines (allowed network use is counted
    // by the fixture server, which the child cannot fake).
    let events = "";
    (child.stdio[3] as NodeJS.ReadableStream | null)?.on("data", (chunk: Buffer) => {
      events += chunk.toString("utf8");
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limits.timeoutMs);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (done, fail) => {
        child.once("error", fail);
        child.once("close", (exitCode, exitSignal) => done({ code: exitCode, signal: exitSignal }));
      },
    ).finally(() => clearTimeout(timer));

    for (const line of events.split("\n")) {
      const event = parseEvent(line);
      if (event && !(event.kind === "network" && event.allowed))
        record(event.kind, event.target, event.allowed);
    }
    const counts = tapCounts(output);
    const outOfMemory = /heap out of memory|Reached heap limit/i.test(output) || signal === "SIGABRT";
    const limit = timedOut ? "time" : outOfMemory ? "memory" : undefined;
    if (limit === "time") output += `\n# aegis: stopped at the time limit (${limits.timeoutMs} ms)\n`;
    if (limit === "memory") output += `\n# aegis: stopped at the memory limit (${limits.memoryMb} MiB)\n`;
    const passed = limit === undefined && code === 0 && counts.failed === 0 && counts.total > 0;
    return {
      passed,
      output: output.slice(0, MAX_DRY_RUN_OUTPUT),
      permissionsUsed: [...uses.values()].sort(
        (a, b) => a.kind.localeCompare(b.kind) || a.target.localeCompare(b.target),
      ),
      tests: counts,
      durationMs: Math.round(performance.now() - started),
      ...(limit ? { limit } : {}),
    };
  } finally {
    await fixtureServer.close();
    await rm(root, { recursive: true, force: true });
  }
}

let sdkSource: Promise<string | null> | undefined;

/**
 * The self-contained SDK bundle (dist/sandbox-sdk.gen.mjs, made by build.mjs) beside this module once
 * bundled (the CLI, the sandbox service, the library), or in dist/ when running from the sources.
 */
function sandboxSdk(): Promise<string | null> {
  sdkSource ??= (async () => {
    for (const candidate of [
      "./sandbox-sdk.gen.mjs",
      "../sandbox-sdk.gen.mjs",
      "../../dist/sandbox-sdk.gen.mjs",
    ]) {
      try {
        return await readFile(new URL(candidate, import.meta.url), "utf8");
      } catch {
        // not there; try the next place
      }
    }
    return null;
  })();
  return sdkSource;
}

type Fixtures = Map<string, { status: number; headers: Record<string, string>; body: string }>;

/** `test/fixtures.json`: `{ "GET https://api.example.com/v1/items": { "status": 200, "body": … } }`. */
function parseFixtures(bytes: Uint8Array | undefined): Fixtures | string {
  const fixtures: Fixtures = new Map();
  if (!bytes) return fixtures;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return `${FIXTURES_FILE} is not valid JSON.`;
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return `${FIXTURES_FILE} must be an object.`;
  for (const [key, value] of Object.entries(raw)) {
    const match = /^([A-Z]+) (https?:\/\/\S+)$/.exec(key);
    if (!match || !value || typeof value !== "object") {
      return `${FIXTURES_FILE}: "${key}" must be "METHOD https://host/path" with an object as its answer.`;
    }
    const answer = value as { status?: unknown; headers?: unknown; body?: unknown };
    const url = new URL(match[2] ?? "");
    fixtures.set(`${match[1]} ${url.host}${url.pathname}${url.search}`, {
      status: typeof answer.status === "number" ? answer.status : 200,
      headers:
        answer.headers && typeof answer.headers === "object"
          ? (answer.headers as Record<string, string>)
          : {},
      body: typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? null),
    });
  }
  return fixtures;
}

/**
 * Answers the child's requests to declared domains. The preload sends each as
 * `/<host>/<path>` with the method and body; anything else (a host the manifest does not declare) is
 * refused here too.
 */
async function startFixtureServer(
  manifest: SkillManifest,
  fixtures: Fixtures,
  onUse: (host: string) => void,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const [, host = "", ...rest] = (req.url ?? "/").split("/");
      const path = `/${rest.join("/")}`;
      if (!domainAllowed(manifest, host.split(":")[0] ?? "")) {
        res.writeHead(403, { "content-type": "text/plain" });
        res.end("not declared");
        return;
      }
      onUse(host);
      const fixture = fixtures.get(`${req.method} ${host}${path}`);
      if (fixture) {
        res.writeHead(fixture.status, { "content-type": "application/json", ...fixture.headers });
        res.end(fixture.body);
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-aegis-fixture": "echo" });
      res.end(
        JSON.stringify({
          fixture: "echo",
          method: req.method,
          url: `https://${host}${path}`,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("The fixture server has no port");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

function parseEvent(line: string): { kind: PermissionUse["kind"]; target: string; allowed: boolean } | null {
  if (!line.trim()) return null;
  try {
    const event = JSON.parse(line) as { kind?: unknown; target?: unknown; allowed?: unknown };
    if ((event.kind === "network" || event.kind === "env") && typeof event.target === "string") {
      return { kind: event.kind, target: event.target.slice(0, 253), allowed: event.allowed === true };
    }
  } catch {
    // A line the skill wrote to fd 3 itself: not an event.
  }
  return null;
}

/** Totals from node:test's TAP summary (`# tests N`, `# pass N`, `# fail N`), summed over files. */
export function tapCounts(output: string): { total: number; passed: number; failed: number } {
  const sum = (name: string) =>
    [...output.matchAll(new RegExp(`^# ${name} (\\d+)$`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
  return { total: sum("tests"), passed: sum("pass"), failed: sum("fail") + sum("cancelled") };
}
