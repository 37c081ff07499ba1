import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { freePort, waitForHttp } from "../scripts/lib/proc.mjs";

export const CHROMIUM = "/usr/bin/chromium";
const root = resolve(import.meta.dirname, "..");

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    password: string;
  }
}

/** The browser tests need Debian's Chromium: installed here when we are root, else the one command to run. */
function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      "Chromium is missing. Install it with: sudo apt-get update && sudo apt-get install -y chromium",
    );
  }
  process.stdout.write("[e2e] installing Chromium (apt-get install -y chromium)…\n");
  execFileSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq chromium >/dev/null"], {
    stdio: "inherit",
  });
}

let dev: ChildProcess | undefined;
let stateDir: string | undefined;

export default async function setup(project: TestProject) {
  ensureChromium();
  const port = await freePort();
  stateDir = mkdtempSync(join(tmpdir(), "aegis-e2e-"));
  let output = "";
  dev = spawn(process.execPath, [resolve(root, "scripts/dev.mjs")], {
    cwd: root,
    // The tests drive the demo tenant's agents themselves (agent clients), so npm run dev's local
    // cluster stays off here; e2e/cluster-local.e2e.ts runs a controller for a tenant of its own.
    env: {
      ...process.env,
      PORT: String(port),
      AEGIS_STATE_DIR: stateDir,
      AEGIS_QUIET: "1",
      AEGIS_NO_CLUSTER: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const ready = new Promise<void>((resolveReady, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Aegis is running")) resolveReady();
    };
    dev?.stdout?.on("data", onData);
    dev?.stderr?.on("data", onData);
    dev?.on("exit", (code) => reject(new Error(`npm run dev exited with ${code}:\n${output.slice(-3000)}`)));
  });
  await ready;
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/api/health`, 10_000);
  const vars = readFileSync(resolve(root, ".dev.vars"), "utf8");
  const password = /^AEGIS_DEV_PASSWORD=(.*)$/m.exec(vars)?.[1] ?? "";
  project.provide("baseUrl", baseUrl);
  project.provide("password", password);

  return async () => {
    if (dev?.pid) {
      try {
        process.kill(-dev.pid, "SIGINT");
      } catch {}
      await new Promise((r) => dev?.once("exit", r));
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  };
}
