#!/usr/bin/env node
// `npm test`: unit tests (Node), Worker and Durable Object tests (workerd, vitest pool), the
// kubernetes driver against a local kube-apiserver, then browser tests (Chromium against `npm run dev`). Ends with one line: `tests: N passed, N failed`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { run } from "./lib/proc.mjs";

const root = resolve(import.meta.dirname, "..");
const out = resolve(root, "node_modules/.cache/aegis-test");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const suites = [
  { name: "unit", args: ["run", "--config", "vitest.unit.config.ts"] },
  { name: "worker", args: ["run", "--config", "vitest.config.ts"] },
  // The controller's kubernetes driver against a real kube-apiserver (built once into ~/.cache/aegis-k8s).
  { name: "k8s", args: ["run", "--config", "vitest.k8s.config.ts"] },
  { name: "e2e", args: ["run", "--config", "e2e/vitest.config.ts"] },
];
const only = process.argv.slice(2);

function runSuite(suite) {
  const file = resolve(out, `${suite.name}.json`);
  return new Promise((done) => {
    const child = spawn(
      resolve(root, "node_modules/.bin/vitest"),
      [...suite.args, "--reporter=default", "--reporter=json", `--outputFile.json=${file}`],
      { cwd: root, stdio: "inherit", env: process.env },
    );
    child.on("exit", (code) => {
      let passed = 0;
      let failed = 0;
      if (existsSync(file)) {
        const report = JSON.parse(readFileSync(file, "utf8"));
        passed = report.numPassedTests ?? 0;
        failed = report.numFailedTests ?? 0;
        if (code !== 0 && failed === 0) failed = 1; // a suite that crashed before its tests counts as a failure
      } else if (code !== 0) {
        failed = 1;
      }
      done({ name: suite.name, passed, failed, code });
    });
  });
}

// The Worker's static assets (and so the vitest pool and `npm run dev`) need the built UI.
process.stdout.write("== building the web UI ==\n");
await run(resolve(root, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], { cwd: root });

let passed = 0;
let failed = 0;
for (const suite of suites) {
  if (only.length && !only.includes(suite.name)) continue;
  process.stdout.write(`\n== ${suite.name} tests ==\n`);
  const r = await runSuite(suite);
  passed += r.passed;
  failed += r.failed;
  process.stdout.write(`== ${suite.name}: ${r.passed} passed, ${r.failed} failed ==\n`);
}
process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
