#!/usr/bin/env node
// `npm run check`: Biome format + lint, TypeScript for each runtime, `wrangler types` freshness and
// a deploy dry run. Stops at the first failure and says which.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { run } from "./lib/proc.mjs";

const root = resolve(import.meta.dirname, "..");
const bin = (name) => resolve(root, "node_modules/.bin", name);
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

const steps = [
  ["biome (format + lint)", bin("biome"), ["check", "."]],
  ["tsc worker + durable objects + tests", bin("tsc"), ["-p", "tsconfig.json"]],
  ["tsc web", bin("tsc"), ["-p", "web/tsconfig.json"]],
  ["tsc sdk", bin("tsc"), ["-p", "sdk/tsconfig.json"]],
  ["tsc controller", bin("tsc"), ["-p", "controller/tsconfig.json"]],
  ["tsc node scripts and e2e", bin("tsc"), ["-p", "tsconfig.node.json"]],
  [
    "wrangler types is fresh",
    bin("wrangler"),
    ["types", "--check", "--include-runtime=false", "--env-file", ".dev.vars.example"],
  ],
  [
    "wrangler deploy --dry-run",
    bin("wrangler"),
    ["deploy", "--dry-run", "--outdir", "node_modules/.cache/aegis-dry-run"],
  ],
];

if (!existsSync(resolve(root, "dist/client/index.html"))) {
  await run(bin("vite"), ["build", "--logLevel", "warn"], { cwd: root });
}
for (const [name, cmd, args] of steps) {
  process.stdout.write(`check: ${name}… `);
  try {
    await run(cmd, args, { cwd: root, env, quiet: true });
    process.stdout.write("ok\n");
  } catch (err) {
    process.stdout.write("FAILED\n");
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
process.stdout.write("check: all green\n");
