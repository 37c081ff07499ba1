#!/usr/bin/env node
// `npm run bench:skills`: how long the platform's package validation takes (issue 7) — for a
// 50-file package and for the largest package the limits allow — against unpacking the same bytes
// alone (gunzip + untar + manifest) in the same run. The library is the one the Worker and the
// `aegis-skill` CLI use (`@aegis/skill-sdk/package`), bundled here with esbuild for Node.
// The same validation is then timed through the Worker's route (`POST …/skills/package/validate` against
// `npm run dev`, local workerd), beside `GET /api/health` round trips in the same run.
// Then the dry-run sandbox (`@aegis/skill-sdk/sandbox`, what `aegis-skill dry-run` and the platform's
// sandbox service run): a small skill's two tests through `runDryRun`, against running the same test
// file directly with `node` in the same run.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { benchStateDir, provisionTenant, startPlatform } from "../scripts/lib/proc.mjs";

const root = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_N ?? 30);

const dir = mkdtempSync(join(tmpdir(), "aegis-bench-skills-"));
/** Bundles an SDK entry (TypeScript) for Node and imports it. */
async function load(entry) {
  const outfile = join(dir, `${entry.replaceAll("/", "-")}.mjs`);
  await build({
    entryPoints: [resolve(root, "sdk/skill-sdk/src", entry)],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    logLevel: "silent",
  });
  return import(pathToFileURL(outfile).href);
}
const { packPackage, unpackPackage, validatePackage, DEFAULT_PACKAGE_LIMITS } =
  await load("package/index.ts");
const { runDryRun } = await load("sandbox/index.ts");

const enc = new TextEncoder();
const DOMAINS = ["api.github.com", "*.example.com", "hooks.slack.com"];

/** A module of roughly `bytes` bytes of plausible skill code: declared fetches, file reads, env reads. */
function moduleSource(i, bytes) {
  const lines = [`// module ${i}`, "export async function step(ctx, input) {", "  const results = [];"];
  let n = 0;
  while (lines.join("\n").length < bytes) {
    const k = n++;
    if (k % 3 === 0)
      lines.push(`  results.push(await ctx.fetch("https://api.github.com/repos/acme/r${k}/issues"));`);
    else if (k % 3 === 1) lines.push(`  results.push(await ctx.fs.read("data/input-${k % 7}.json"));`);
    else
      lines.push(
        `  if (input.n > ${k}) results.push({ k: ${k}, token: ctx.env.GITHUB_TOKEN, label: "item ${k}" });`,
      );
  }
  lines.push("  return results;", "}", "");
  return lines.join("\n");
}

function packageFiles(count, totalBytes) {
  const files = new Map();
  const manifest = {
    manifestVersion: 1,
    name: `bench-${count}`,
    version: "1.0.0",
    displayName: `Bench ${count}`,
    description: "A generated package for npm run bench:skills.",
    category: "integrations",
    entry: "src/index.mjs",
    runtime: "js",
    permissions: {
      network: { allowedDomains: DOMAINS },
      files: { readPaths: ["data/"], writePaths: [] },
      env: { required: ["GITHUB_TOKEN"], optional: [] },
      messages: { send: ["notification"] },
      models: { gateway: false },
    },
  };
  files.set("aegis-skill.json", enc.encode(JSON.stringify(manifest, null, 2)));
  const per = Math.floor((totalBytes - 2000) / (count - 1));
  files.set(
    "src/index.mjs",
    enc.encode(
      `${Array.from({ length: count - 2 }, (_, i) => `import { step as s${i} } from "./m${i}.mjs";`).join("\n")}\nexport async function handler(input, ctx) { return [${Array.from({ length: Math.min(count - 2, 20) }, (_, i) => `await s${i}(ctx, input)`).join(", ")}]; }\n`,
    ),
  );
  for (let i = 0; i < count - 2; i++) files.set(`src/m${i}.mjs`, enc.encode(moduleSource(i, per)));
  return files;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function measure(label, files) {
  const bytes = await packPackage(files);
  const raw = [...files.values()].reduce((n, f) => n + f.byteLength, 0);
  // Warm both paths once (JIT), then alternate so drift hits both equally.
  const first = await validatePackage(bytes);
  if (!first.valid)
    throw new Error(`${label}: generated package is invalid: ${JSON.stringify(first.findings.slice(0, 3))}`);
  await unpackPackage(bytes);
  const unpack = [];
  const validate = [];
  for (let i = 0; i < RUNS; i++) {
    for (const side of i % 2 ? ["validate", "unpack"] : ["unpack", "validate"]) {
      const t0 = performance.now();
      if (side === "unpack") await unpackPackage(bytes);
      else await validatePackage(bytes);
      (side === "unpack" ? unpack : validate).push(performance.now() - t0);
    }
  }
  return {
    label,
    files: files.size,
    raw,
    packed: bytes.byteLength,
    findings: first.findings.length,
    unpack: { p50: pct(unpack, 50), p95: pct(unpack, 95) },
    validate: { p50: pct(validate, 50), p95: pct(validate, 95) },
  };
}

/** Validation through the platform's route, against the platform's floor (GET /api/health). */
async function measureRoute(packages) {
  const { dir: stateDir } = await benchStateDir("aegis-bench-skills-");
  const platform = await startPlatform({ stateDir });
  try {
    const { admin } = await provisionTenant(platform.base, platform.password, {
      name: "Bench Skills",
      slug: "bench-skills",
    });
    const health = async () => {
      const res = await fetch(`${platform.base}/api/health`);
      if (!res.ok) throw new Error(`health: ${res.status}`);
      await res.arrayBuffer();
    };
    const validate = async (bytes) => {
      const form = new FormData();
      form.set("package", new File([bytes], "bench.tgz", { type: "application/gzip" }));
      const res = await fetch(`${platform.base}/api/dashboard/skills/package/validate`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}` },
        body: form,
      });
      const body = await res.json();
      if (res.status !== 200 || !body.valid)
        throw new Error(`validate: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    };
    const out = [];
    for (const { label, bytes } of packages) {
      await validate(bytes);
      await health();
      const route = [];
      const floor = [];
      for (let i = 0; i < RUNS; i++) {
        for (const side of i % 2 ? ["route", "floor"] : ["floor", "route"]) {
          const t0 = performance.now();
          if (side === "route") await validate(bytes);
          else await health();
          (side === "route" ? route : floor).push(performance.now() - t0);
        }
      }
      out.push({
        label,
        route: { p50: pct(route, 50), p95: pct(route, 95) },
        floor: { p50: pct(floor, 50) },
      });
    }
    return out;
  } finally {
    await platform.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The scaffold's skill (`aegis-skill init`): a handler and a two-test file. */
function smallSkill() {
  const manifest = {
    manifestVersion: 1,
    name: "bench-dry-run",
    version: "1.0.0",
    displayName: "Bench dry run",
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
  const files = new Map([
    ["aegis-skill.json", enc.encode(JSON.stringify(manifest))],
    [
      "src/index.mjs",
      enc.encode(
        "export async function handler(input, ctx) {\n  const name = input?.name ?? 'world';\n  return { greeting: 'Hello, ' + name + '!', at: ctx.now().toISOString() };\n}\n",
      ),
    ],
    [
      "test/index.test.mjs",
      enc.encode(`import assert from "node:assert/strict";
import { test } from "node:test";
import { handler } from "../src/index.mjs";
const ctx = { now: () => new Date("2025-01-01T00:00:00Z") };
test("greets by name", async () => { assert.equal((await handler({ name: "Ada" }, ctx)).greeting, "Hello, Ada!"); });
test("greets the world", async () => { assert.equal((await handler({}, ctx)).greeting, "Hello, world!"); });
`),
    ],
  ]);
  return { manifest, files };
}

function runNode(cwd, file) {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [file], { cwd, stdio: "ignore" });
    child.once("error", fail);
    child.once("close", (code) => (code === 0 ? done() : fail(new Error(`node ${file} exited ${code}`))));
  });
}

async function measureDryRun() {
  const { manifest, files } = smallSkill();
  const plain = join(dir, "plain-skill");
  for (const [path, bytes] of files) {
    mkdirSync(join(plain, path, ".."), { recursive: true });
    writeFileSync(join(plain, path), bytes);
  }
  const first = await runDryRun(files, manifest);
  if (!first.passed) throw new Error(`dry-run of the bench skill failed:\n${first.output}`);
  await runNode(plain, "test/index.test.mjs");
  const n = Math.max(10, Math.floor(RUNS / 2));
  const sandbox = [];
  const direct = [];
  for (let i = 0; i < n; i++) {
    for (const side of i % 2 ? ["sandbox", "direct"] : ["direct", "sandbox"]) {
      const t0 = performance.now();
      if (side === "sandbox") {
        const result = await runDryRun(files, manifest);
        if (!result.passed) throw new Error("a dry-run failed during the bench");
      } else await runNode(plain, "test/index.test.mjs");
      (side === "sandbox" ? sandbox : direct).push(performance.now() - t0);
    }
  }
  return {
    n,
    sandbox: { p50: pct(sandbox, 50), p95: pct(sandbox, 95) },
    direct: { p50: pct(direct, 50), p95: pct(direct, 95) },
  };
}

try {
  const limits = DEFAULT_PACKAGE_LIMITS;
  const small = packageFiles(50, 400 * 1024);
  const large = packageFiles(
    limits.maxFiles,
    Math.min(limits.maxTotalBytes - 64 * 1024, limits.maxFiles * (limits.maxFileBytes - 1024)),
  );
  const results = [await measure("50-file package", small), await measure("largest allowed package", large)];
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  process.stdout.write(
    `\nSkill package validation in Node (${RUNS} runs each, alternating), same library as the Worker\n`,
  );
  process.stdout.write(
    `${"package".padEnd(26)} ${"files".padStart(5)} ${"raw".padStart(9)} ${"packed".padStart(9)} ${"unpack P50".padStart(11)} ${"validate P50".padStart(13)} ${"P95".padStart(8)} ${"ratio P50".padStart(10)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.label.padEnd(26)} ${String(r.files).padStart(5)} ${kib(r.raw).padStart(9)} ${kib(r.packed).padStart(9)} ${`${r.unpack.p50.toFixed(1)} ms`.padStart(11)} ${`${r.validate.p50.toFixed(1)} ms`.padStart(13)} ${`${r.validate.p95.toFixed(1)} ms`.padStart(8)} ${`${(r.validate.p50 / r.unpack.p50).toFixed(2)}×`.padStart(10)}\n`,
    );
  }
  process.stdout.write(
    "(baseline: unpacking the same bytes — gunzip, untar, manifest — in the same run; validate = unpack + parse every module + analysis)\n" +
      "",
  );
  process.stdout.write("\nstarting the platform (npm run dev) for the route figures…\n");
  const routes = await measureRoute([
    { label: "50-file package", bytes: await packPackage(small) },
    { label: "largest allowed package", bytes: await packPackage(large) },
  ]);
  process.stdout.write(
    `\nThrough the Worker: POST /api/dashboard/skills/package/validate (${RUNS} runs each, alternating with GET /api/health)\n`,
  );
  for (const [i, r] of routes.entries()) {
    const node = results[i]?.validate.p50 ?? Number.NaN;
    process.stdout.write(
      `  ${r.label.padEnd(26)} P50 ${r.route.p50.toFixed(1)} ms  P95 ${r.route.p95.toFixed(1)} ms  ` +
        `health P50 ${r.floor.p50.toFixed(1)} ms → ${(r.route.p50 / r.floor.p50).toFixed(1)}× the floor; ` +
        `${(r.route.p50 / node).toFixed(2)}× the library in Node (${node.toFixed(1)} ms)\n`,
    );
  }
  const d = await measureDryRun();
  process.stdout.write(
    `\nDry run of a two-test skill (${d.n} runs each, alternating)\n` +
      `  node test/index.test.mjs directly   P50 ${d.direct.p50.toFixed(1)} ms   P95 ${d.direct.p95.toFixed(1)} ms\n` +
      `  runDryRun (sandboxed child)        P50 ${d.sandbox.p50.toFixed(1)} ms   P95 ${d.sandbox.p95.toFixed(1)} ms\n` +
      `  ratio ${(d.sandbox.p50 / d.direct.p50).toFixed(2)}× at P50; start-up overhead ${(d.sandbox.p50 - d.direct.p50).toFixed(1)} ms ` +
      "(temp folder, fixture server, permission model, preload, hooks thread)\n",
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
