#!/usr/bin/env node
// `npm run bench:cluster`, three figures, each beside a baseline measured in the same run:
// 1. create agent (API) → its runtime connected to its mailbox, with the controller's local driver,
//    against starting the same runtime process by hand with a known credential;
// 2. the desired state of a tenant with 100 agents, computed by the platform (GET /controller/v1/desired),
//    against GET /api/health;
// 3. a request through the egress proxy against the same request straight to the fixture server.
// Everything talks over 127.0.0.1; local state on tmpfs unless BENCH_STATE=disk.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import WebSocket from "ws";
import { buildController } from "../controller/build.mjs";
import { benchStateDir, provisionTenant, startPlatform } from "../scripts/lib/proc.mjs";

const root = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_N ?? 10);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 100);
const say = (s) => process.stdout.write(`${s}\n`);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs) => `P50 ${pct(xs, 50).toFixed(1)} ms, P95 ${pct(xs, 95).toFixed(1)} ms`;

const work = mkdtempSync(join(tmpdir(), "aegis-bench-cluster-"));
await buildController();
const controllerBin = join(root, "controller/bin/aegis-controller.mjs");
const runtimeBin = join(root, "controller/dist/agent-runtime.gen.mjs");

// ---------- 3. egress proxy overhead (Node only) ----------
async function proxyFigures() {
  const out = join(work, "proxy.mjs");
  await build({
    entryPoints: [join(root, "controller/src/egress/proxy.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: out,
    logLevel: "silent",
  });
  const { startEgressProxy, proxySecret } = await import(pathToFileURL(out).href);
  const { createServer } = await import("node:http");
  const fixture = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true}');
  });
  await new Promise((ok) => fixture.listen(0, "127.0.0.1", ok));
  const port = fixture.address().port;
  const proxy = await startEgressProxy({
    key: "bench",
    policies: { allowedDomains: () => ["api.example.com"], mode: () => "enforce" },
    onEvent: () => {},
    dial: () =>
      new Promise((ok, fail) => {
        const s = connect({ host: "127.0.0.1", port }, () => ok(s));
        s.once("error", fail);
      }),
  });
  const auth = `Basic ${Buffer.from(`agt_bench:${proxySecret("bench", "agt_bench")}`).toString("base64")}`;
  const once = (viaProxy) =>
    new Promise((ok, fail) => {
      const req = request(
        viaProxy
          ? {
              host: "127.0.0.1",
              port: proxy.port,
              path: "http://api.example.com/x",
              headers: { host: "api.example.com", "proxy-authorization": auth },
              agent: false,
            }
          : { host: "127.0.0.1", port, path: "/x", headers: { host: "api.example.com" }, agent: false },
        (res) => {
          res.resume();
          res.on("end", ok);
        },
      );
      req.on("error", fail);
      req.end();
    });
  const direct = [];
  const proxied = [];
  for (let i = 0; i < 50; i++) await Promise.all([once(true), once(false)]); // warm up
  for (let i = 0; i < 500; i++) {
    for (const viaProxy of i % 2 ? [true, false] : [false, true]) {
      const t0 = performance.now();
      await once(viaProxy);
      (viaProxy ? proxied : direct).push(performance.now() - t0);
    }
  }
  await proxy.close();
  await new Promise((ok) => fixture.close(ok));
  return { direct, proxied };
}

// ---------- 1 and 2: the platform ----------
const { dir: stateDir, label } = await benchStateDir("aegis-bench-cluster-");
say(`local state on ${label}`);
const platform = await startPlatform({ stateDir });
const children = [];
try {
  const { api, admin, tenantId } = await provisionTenant(platform.base, platform.password, {
    name: "Bench Cluster",
    slug: "bench-cluster",
  });
  const op = (
    await api("POST", "/api/auth/login", null, { email: "admin@aegis.local", password: platform.password })
  ).accessToken;
  const created = await api("POST", "/api/admin/clusters", op, { name: "bench", tenantIds: [tenantId] });
  const controllerState = join(work, "controller");
  await new Promise((ok, fail) => {
    const c = spawn(process.execPath, [
      controllerBin,
      "register",
      "--url",
      platform.base,
      "--token",
      created.registrationToken,
      "--state-dir",
      controllerState,
    ]);
    c.on("exit", (code) => (code === 0 ? ok() : fail(new Error(`register exited ${code}`))));
  });
  const controller = spawn(process.execPath, [controllerBin, "run", "--state-dir", controllerState], {
    stdio: "ignore",
  });
  children.push(controller);

  // The tenant's feed says when an agent's runtime connects (presence), without polling.
  // The baseline's agents live in a tenant no cluster serves, so only the hand-started runtime runs them.
  const hand = await provisionTenant(platform.base, platform.password, {
    name: "Bench Hand",
    slug: "bench-hand",
  });
  const connectedWaiters = new Map();
  const feeds = [];
  for (const token of [admin, hand.admin]) {
    const feed = new WebSocket(`${platform.base.replace("http", "ws")}/ws/messages?token=${token}`);
    feed.on("message", (data) => {
      const e = JSON.parse(String(data));
      if (e.event === "presence" && e.connected) connectedWaiters.get(e.agentId)?.();
    });
    await new Promise((ok) => feed.once("open", ok));
    feeds.push(feed);
  }
  const whenConnected = (agentId) => new Promise((ok) => connectedWaiters.set(agentId, ok));

  const viaController = [];
  const byHand = [];
  for (let i = 0; i < RUNS; i++) {
    // Through the platform and the controller: create → desired state → credential → process → mailbox.
    let t0 = performance.now();
    const a = await api("POST", "/api/dashboard/agents", admin, {
      name: `bench-${i}`,
      modelTier: "sonnet",
      thinkingMode: "off",
    });
    await whenConnected(a.agent.id);
    viaController.push(performance.now() - t0);
    // The baseline: the same runtime, started by hand with the agent's own credential.
    const b = await api("POST", "/api/dashboard/agents", hand.admin, {
      name: `hand-${i}`,
      modelTier: "sonnet",
      thinkingMode: "off",
    });
    const connected = whenConnected(b.agent.id);
    t0 = performance.now();
    const child = spawn(process.execPath, [runtimeBin], {
      env: {
        PATH: process.env.PATH,
        AEGIS_URL: platform.base,
        AEGIS_AGENT_ID: b.agent.id,
        AEGIS_AGENT_CREDENTIAL: b.credential,
      },
      stdio: "ignore",
    });
    children.push(child);
    await connected;
    byHand.push(performance.now() - t0);
    child.kill("SIGTERM");
  }

  // The controller (and its runtimes) stop here: the next figures measure the platform and the proxy alone.
  await new Promise((ok) => {
    controller.once("exit", ok);
    controller.kill("SIGTERM");
  });

  // 2. desired state of a tenant with AGENTS agents.
  const have = (await api("GET", "/api/dashboard/agents", admin)).data.length;
  for (let i = have; i < AGENTS; i++) {
    await api("POST", "/api/dashboard/agents", admin, {
      name: `fill-${i}`,
      modelTier: "sonnet",
      thinkingMode: "off",
    });
  }
  const credential = JSON.parse(
    (await import("node:fs")).readFileSync(join(controllerState, "controller.json"), "utf8"),
  ).credential;
  const timed = async (path, headers) => {
    const t0 = performance.now();
    const res = await fetch(`${platform.base}${path}`, { headers });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return performance.now() - t0;
  };
  const desired = [];
  const health = [];
  for (let i = 0; i < 30; i++) {
    desired.push(await timed("/controller/v1/desired", { authorization: `Bearer ${credential}` }));
    health.push(await timed("/api/health", {}));
  }
  const resources = (
    await (
      await fetch(`${platform.base}/controller/v1/desired`, {
        headers: { authorization: `Bearer ${credential}` },
      })
    ).json()
  ).resources.length;
  for (const feed of feeds) feed.close();

  const proxy = await proxyFigures();
  say("");
  say(`Cluster figures (local driver, ${RUNS} agents each way; same machine and run)`);
  say(`  create agent → runtime connected, through the controller   ${fmt(viaController)}`);
  say(`  baseline: the same runtime started by hand                   ${fmt(byHand)}`);
  say(
    `  ratio ${(pct(viaController, 50) / pct(byHand, 50)).toFixed(2)}× at P50 (API, desired state, credential issue, process start)`,
  );
  say(
    `  desired state of ${AGENTS} agents (${resources} resources) via GET /controller/v1/desired  ${fmt(desired)}`,
  );
  say(`  baseline GET /api/health                                     ${fmt(health)}`);
  say(`  ratio ${(pct(desired, 50) / pct(health, 50)).toFixed(2)}× at P50`);
  say(
    `  egress proxy, plain http, 500 requests each: via proxy ${fmt(proxy.proxied)}; direct ${fmt(proxy.direct)}`,
  );
  say(
    `  ratio ${(pct(proxy.proxied, 50) / pct(proxy.direct, 50)).toFixed(2)}× at P50; overhead ${(pct(proxy.proxied, 50) - pct(proxy.direct, 50)).toFixed(2)} ms`,
  );
} finally {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await platform.stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
