// Small process helpers shared by the dev, test, check and bench scripts.
import { spawn } from "node:child_process";
import { createServer } from "node:net";

/** Runs a command to completion; rejects with its output when it fails. */
export function run(cmd, args, { cwd, env, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: env ?? process.env,
      stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    let output = "";
    child.stdout?.on("data", (d) => {
      output += d;
    });
    child.stderr?.on("data", (d) => {
      output += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}\n${output.slice(-4000)}`));
    });
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls a URL until it answers 200, or fails after the timeout. */
export async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}

/**
 * Where a benchmark keeps its local Durable Object / D1 state. On this kind of VM an fsync costs
 * milliseconds, which would measure the disk rather than the platform, so tmpfs is the default when
 * there is one; BENCH_STATE=disk measures on disk instead.
 */
export async function benchStateDir(prefix) {
  const { mkdtempSync, existsSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const onTmpfs = process.env.BENCH_STATE !== "disk" && existsSync("/dev/shm");
  const dir = mkdtempSync(join(onTmpfs ? "/dev/shm" : tmpdir(), prefix));
  return { dir, label: onTmpfs ? "tmpfs (/dev/shm; BENCH_STATE=disk for the VM disk)" : `disk (${dir})` };
}
