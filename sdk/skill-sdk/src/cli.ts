// The `aegis-skill` command. Bundled to dist/cli.gen.mjs (see build.mjs) so that it runs under plain Node 20;
// bin/aegis-skill.mjs loads the bundle.
import { spawn } from "node:child_process";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { parseManifest } from "./manifest";
import {
  type AnalysisResult,
  MANIFEST_FILE,
  PackageError,
  packPackage,
  sha256Hex,
  validatePackage,
} from "./package";
import { DEFAULT_DRY_RUN_LIMITS, runDryRun } from "./sandbox";

export interface CliIo {
  cwd: string;
  /** Environment for AEGIS_API_KEY; process.env when absent. */
  env?: Readonly<Record<string, string | undefined>>;
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = `Usage: aegis-skill <command> [options]

Commands:
  init <name>      scaffold a skill in ./<name>
  validate [dir]   pack in memory and run the static analysis (exit 1 on errors)
  test [dir]       run the skill's own tests with node --test
  pack [dir]       write <name>-<version>.tgz to the current directory and print its sha256
  publish [dir] --url <platform URL> [--api-key <key>]
                   pack, validate and upload as a draft version of the tenant's private skill;
                   the key may come from AEGIS_API_KEY instead (create one under Settings → API keys)
  dry-run [dir] [--timeout <ms>] [--memory <MiB>]
                   run the skill's tests in the platform's sandbox: only declared domains (answered
                   by a local fixture server and test/fixtures.json), only declared env, read-only
                   package folder, time and memory limits (default 10000 ms, 64 MiB)`;

/** Files and folders never packed: dependencies, VCS data, dotfiles (.env among them) and earlier packs. */
function skipped(name: string): boolean {
  return name === "node_modules" || name.startsWith(".") || name.endsWith(".tgz");
}

/** Runs one command; answers the process exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "init":
        return await init(args[0], io);
      case "validate":
        return await validate(resolve(io.cwd, args[0] ?? "."), io);
      case "test":
        return await runTests(resolve(io.cwd, args[0] ?? "."), io);
      case "pack":
        return await pack(resolve(io.cwd, args[0] ?? "."), io);
      case "publish":
        return await publish(args, io);
      case "dry-run":
        return await dryRun(args, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`Unknown command ${command}.\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof CliError || err instanceof PackageError) {
      io.err(`aegis-skill: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

class CliError extends Error {}

async function init(name: string | undefined, io: CliIo): Promise<number> {
  if (!name) throw new CliError("init needs a name: aegis-skill init <name>");
  const manifest = {
    manifestVersion: 1,
    name,
    version: "0.1.0",
    displayName: name
      .split("-")
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join(" "),
    description: "Greets someone by name.",
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
  };
  const parsed = parseManifest(manifest);
  if (!parsed.ok)
    throw new CliError(`"${name}" is not a valid skill name: ${parsed.issues.name?.join("; ")}`);
  const dir = resolve(io.cwd, name);
  const existing = await readdir(dir).catch(() => null);
  if (existing !== null && existing.length > 0) throw new CliError(`${dir} already exists and is not empty`);
  const files: Record<string, string> = {
    [MANIFEST_FILE]: `${JSON.stringify(manifest, null, 2)}\n`,
    "src/index.mjs": scaffoldEntry(),
    "test/index.test.mjs": scaffoldTest(),
    "README.md": scaffoldReadme(name),
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  io.out(`Created ${relative(io.cwd, dir) || "."}/ with ${Object.keys(files).join(", ")}.`);
  io.out(`Next: cd ${name} && aegis-skill test && aegis-skill validate`);
  return 0;
}

async function validate(dir: string, io: CliIo): Promise<number> {
  const result = await validatePackage(await packPackage(await collectFiles(dir)));
  report(result, io);
  return result.valid ? 0 : 1;
}

const DRY_RUN_USAGE = "Usage: aegis-skill dry-run [dir] [--timeout <ms>] [--memory <MiB>]";

async function dryRun(args: readonly string[], io: CliIo): Promise<number> {
  const options = parseFlags(args, ["timeout", "memory"]);
  if (typeof options === "string") {
    io.err(`aegis-skill dry-run: ${options}\n${DRY_RUN_USAGE}`);
    return 2;
  }
  const { dir, flags } = options;
  const number = (name: string, fallback: number, max: number) => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw new CliError(`--${name} must be a whole number from 1 to ${max}`);
    return value;
  };
  const limits = {
    timeoutMs: number("timeout", DEFAULT_DRY_RUN_LIMITS.timeoutMs, 120_000),
    memoryMb: number("memory", DEFAULT_DRY_RUN_LIMITS.memoryMb, 1024),
  };
  const files = await collectFiles(resolve(io.cwd, dir ?? "."));
  const checked = await validatePackage(await packPackage(files));
  if (checked.manifest === null) {
    report(checked, io);
    return 1;
  }
  const result = await runDryRun(files, checked.manifest, limits);
  if (result.output) io.out(result.output.trimEnd());
  if (result.error) io.err(`aegis-skill: ${result.error}`);
  io.out("");
  io.out("Permissions used:");
  if (result.permissionsUsed.length === 0) io.out("  none");
  for (const use of result.permissionsUsed) {
    io.out(`  ${use.allowed ? "✓" : "✗ refused"} ${use.kind} ${use.target} (${use.count}×)`);
  }
  const { total, passed, failed } = result.tests;
  const verdict = result.passed ? "passed" : result.limit ? `stopped at the ${result.limit} limit` : "failed";
  io.out(`\nDry run ${verdict}: ${passed}/${total} tests passed, ${failed} failed, ${result.durationMs} ms.`);
  return result.passed ? 0 : 1;
}

async function pack(dir: string, io: CliIo): Promise<number> {
  const bytes = await packPackage(await collectFiles(dir));
  const result = await validatePackage(bytes);
  if (!result.valid || result.manifest === null) {
    report(result, io);
    io.err("aegis-skill: not packed; fix the errors above first.");
    return 1;
  }
  const file = join(io.cwd, `${result.manifest.name}-${result.manifest.version}.tgz`);
  await writeFile(file, bytes);
  io.out(`${relative(io.cwd, file)}  ${bytes.length} bytes`);
  io.out(`sha256 ${await sha256Hex(bytes)}`);
  return 0;
}

/** Splits `[dir] --url <u> --api-key <k>` (also `--flag=value`); answers a message for a usage error. */
/** `[dir] --name value|--name=value …` for the given option names; a sentence when the arguments are wrong. */
function parseFlags(
  args: readonly string[],
  names: readonly string[],
): { dir?: string; flags: Map<string, string> } | string {
  const parsed: { dir?: string; flags: Map<string, string> } = { flags: new Map() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag.startsWith("--") && names.includes(flag.slice(2))) {
      const value = flag === arg ? args[++i] : arg.slice(eq + 1);
      if (value === undefined || value === "") return `${flag} needs a value`;
      parsed.flags.set(flag.slice(2), value);
    } else if (arg.startsWith("-")) return `unknown option ${flag}`;
    else if (parsed.dir === undefined) parsed.dir = arg;
    else return `unexpected argument ${arg}`;
  }
  return parsed;
}

const PUBLISH_USAGE = "Usage: aegis-skill publish [dir] --url <platform URL> [--api-key <key>]";

async function publish(args: readonly string[], io: CliIo): Promise<number> {
  const options = parseFlags(args, ["url", "api-key"]);
  if (typeof options === "string") {
    io.err(`aegis-skill publish: ${options}\n${PUBLISH_USAGE}`);
    return 2;
  }
  const parsed = { dir: options.dir, url: options.flags.get("url"), apiKey: options.flags.get("api-key") };
  const apiKey = parsed.apiKey ?? (io.env ?? process.env).AEGIS_API_KEY;
  if (!apiKey) {
    io.err(
      "aegis-skill publish: no API key. Pass --api-key <key> or set AEGIS_API_KEY " +
        "(create one in the dashboard under Settings → API keys, role admin).",
    );
    return 2;
  }
  if (!parsed.url) {
    io.err(`aegis-skill publish: --url is required (e.g. http://127.0.0.1:8787)\n${PUBLISH_USAGE}`);
    return 2;
  }
  let base: URL;
  try {
    base = new URL(parsed.url);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error("protocol");
  } catch {
    io.err(`aegis-skill publish: --url must be an http(s) URL, got ${parsed.url}`);
    return 2;
  }
  const bytes = await packPackage(await collectFiles(resolve(io.cwd, parsed.dir ?? ".")));
  const result = await validatePackage(bytes);
  if (!result.valid || result.manifest === null) {
    report(result, io);
    io.err("aegis-skill: not published; fix the errors above first.");
    return 1;
  }
  const label = `${result.manifest.name}@${result.manifest.version}`;
  const sha256 = await sha256Hex(bytes);
  const form = new FormData();
  form.append(
    "package",
    new Blob([new Uint8Array(bytes)], { type: "application/gzip" }),
    `${result.manifest.name}-${result.manifest.version}.tgz`,
  );
  form.append("sha256", sha256);
  const endpoint = new URL(
    "api/dashboard/skills/package/upload",
    base.href.endsWith("/") ? base : `${base.href}/`,
  );
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, accept: "application/json" },
      body: form,
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new CliError(`could not reach ${endpoint.origin}: ${cause}`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's error page, say): reported by status below.
  }
  if (response.status === 201) {
    const version = (body as { version?: { id?: string; status?: string } } | null)?.version;
    io.out(`published ${label} as ${version?.status ?? "draft"} (sha256 ${sha256})`);
    io.out(`version id ${version?.id ?? "(not in the response)"}`);
    return 0;
  }
  const error = (body ?? {}) as { code?: string; message?: string; details?: { findings?: unknown } };
  const code = error.code ?? `http_${response.status}`;
  const message = error.message ?? (text.slice(0, 200) || response.statusText);
  const hint: Record<number, string> = {
    401: "the API key was not accepted; check AEGIS_API_KEY / --api-key",
    403: "refused",
    409:
      code === "version_exists" ? `${label} already exists; bump "version" in ${MANIFEST_FILE}` : "conflict",
    413: "the package is too large",
    422: "the platform found errors in the package",
  };
  io.err(
    `aegis-skill: not published (${response.status} ${code}): ${hint[response.status] ?? "failed"}: ${message}`,
  );
  if (response.status === 422 && Array.isArray(error.details?.findings)) {
    for (const finding of error.details.findings as AnalysisResult["findings"]) {
      if (finding.severity !== "error") continue;
      const where = finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ""}: ` : "";
      io.err(`${where}${finding.severity} ${finding.rule}: ${finding.message}`);
    }
  }
  return 1;
}

async function runTests(dir: string, io: CliIo): Promise<number> {
  await lstat(dir).catch(() => {
    throw new CliError(`${dir} does not exist`);
  });
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--test"], { cwd: dir, stdio: "inherit" });
    child.on("error", fail);
    child.on("exit", (code, signal) => {
      if (signal) io.err(`aegis-skill: tests stopped by ${signal}`);
      done(code ?? 1);
    });
  });
}

function report(result: AnalysisResult, io: CliIo): void {
  for (const finding of result.findings) {
    const where = finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ""}: ` : "";
    const line = `${where}${finding.severity} ${finding.rule}: ${finding.message}`;
    if (finding.severity === "error") io.err(line);
    else io.out(line);
  }
  io.out("");
  for (const item of result.checklist) io.out(`${item.passed ? "✓" : "✗"} ${item.control}: ${item.detail}`);
  const errors = result.findings.filter((finding) => finding.severity === "error").length;
  const name = result.manifest ? `${result.manifest.name}@${result.manifest.version}` : "the package";
  io.out(
    result.valid ? `\n${name} is valid.` : `\n${name} is invalid: ${errors} error${errors > 1 ? "s" : ""}.`,
  );
}

/** The package's files, read from `dir`, keyed by their path relative to it with forward slashes. */
async function collectFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const info = await lstat(dir).catch(() => null);
  if (info === null || !info.isDirectory()) throw new CliError(`${dir} is not a directory`);
  const files = new Map<string, Uint8Array>();
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    for (const entry of entries) {
      if (skipped(entry.name)) continue;
      const path = join(folder, entry.name);
      const key = relative(dir, path).split(sep).join("/");
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.set(key, new Uint8Array(await readFile(path)));
      else
        throw new CliError(`${key}: only regular files and folders can be packed (symbolic link or device)`);
    }
  };
  await walk(dir);
  return files;
}

function defaultIo(): CliIo {
  return {
    cwd: process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

function scaffoldEntry(): string {
  return `// The skill's entry, named by "entry" in aegis-skill.json. The runtime calls handler(input, ctx) with a
// context limited to the manifest's permissions: ctx.fetch, ctx.fs, ctx.env.get, ctx.messages, ctx.kv, ctx.now.

/** @param {{ name?: string }} input */
export async function handler(input, ctx) {
  const name = typeof input?.name === "string" && input.name.trim() !== "" ? input.name.trim() : "world";
  return { greeting: \`Hello, \${name}!\`, at: ctx.now().toISOString() };
}
`;
}

function scaffoldTest(): string {
  return `import assert from "node:assert/strict";
import { test } from "node:test";
import { handler } from "../src/index.mjs";

// A stand-in for the runtime's context with only what the handler uses.
const ctx = { now: () => new Date("2025-01-01T00:00:00Z") };

test("greets by name", async () => {
  assert.deepEqual(await handler({ name: "Ada" }, ctx), {
    greeting: "Hello, Ada!",
    at: "2025-01-01T00:00:00.000Z",
  });
});

test("greets the world without a name", async () => {
  assert.equal((await handler({}, ctx)).greeting, "Hello, world!");
});
`;
}

function scaffoldReadme(name: string): string {
  return `# ${name}

An Aegis skill. \`aegis-skill.json\` declares what it may reach (network domains, workspace files,
environment variables, message types, the model gateway); the runtime refuses everything else.

| command                 | does                                                              |
| ----------------------- | ----------------------------------------------------------------- |
| \`aegis-skill test\`     | runs the tests in \`test/\` with \`node --test\`                     |
| \`aegis-skill validate\` | checks the manifest and what the code reaches for against it       |
| \`aegis-skill pack\`     | writes \`${name}-<version>.tgz\` for upload and prints its sha256 |
`;
}
