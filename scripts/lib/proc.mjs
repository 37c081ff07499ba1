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

/**
 * Starts `npm run dev` (scripts/dev.mjs) on a free port with its own state directory and waits
 * until it has seeded and answers; for benchmarks and tools. `stop()` ends its process group.
 */
/** @param {{ stateDir: string, env?: Record<string, string>, port?: number }} options */
export async function startPlatform({ stateDir, env = {}, port: wanted = undefined }) {
  const { spawn } = await import("node:child_process");
  const { readFileSync } = await import("node:fs");
  const { resolve } = await import("node:path");
  const root = resolve(import.meta.dirname, "../..");
  // A restart on the same state and port: what a platform restart looks like to a client.
  const port = wanted ?? (await freePort());
  const dev = spawn(process.execPath, [resolve(root, "scripts/dev.mjs")], {
    cwd: root,
    // Benchmarks measure the platform alone unless they ask for the local cluster (AEGIS_NO_CLUSTER: "0").
    env: {
      ...process.env,
      AEGIS_STATE_DIR: stateDir,
      PORT: String(port),
      AEGIS_QUIET: "1",
      AEGIS_NO_CLUSTER: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  let out = "";
  await new Promise((ok, fail) => {
    dev.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Aegis is running")) ok();
    });
    dev.on("exit", (code) => fail(new Error(`npm run dev exited ${code}\n${out}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/api/health`, 10_000);
  const password =
    /^AEGIS_DEV_PASSWORD=(.*)$/m.exec(readFileSync(resolve(root, ".dev.vars"), "utf8"))?.[1] ?? "";
  const stop = async () => {
    try {
      process.kill(-dev.pid, "SIGINT");
    } catch {}
    await new Promise((r) => (dev.exitCode === null ? dev.once("exit", r) : r()));
  };
  return { base, password, stop };
}

/** A JSON API client for a platform started by `startPlatform`: throws with the body on any non-2xx. */
export function platformApi(base) {
  return async function api(method, path, token, body) {
    const headers = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/**
 * Provisions an enterprise tenant through the operator API and the real provisioning queue, then
 * logs its admin in; for benchmarks and diagnostics. Returns the API client and the admin's token.
 */
export async function provisionTenant(base, operatorPassword, { name, slug }) {
  const api = platformApi(base);
  const op = (
    await api("POST", "/api/auth/login", null, { email: "admin@aegis.local", password: operatorPassword })
  ).accessToken;
  const created = await api("POST", "/api/admin/tenants", op, {
    name,
    slug,
    planTier: "enterprise",
    adminEmail: `admin@${slug}.local`,
    adminName: "Bench",
  });
  for (;;) {
    const p = await api("GET", `/api/admin/tenants/${created.tenant.id}/provisioning`, op);
    if (p.status === "completed") break;
    if (p.status === "failed") throw new Error(`provisioning ${slug} failed`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const admin = (
    await api("POST", "/api/auth/login", null, {
      email: `admin@${slug}.local`,
      password: created.admin.oneTimePassword,
    })
  ).accessToken;
  return { api, admin, tenantId: created.tenant.id };
}
