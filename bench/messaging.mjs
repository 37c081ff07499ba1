#!/usr/bin/env node
// `npm run bench:messaging`: agent-to-agent delivery over mailbox sockets against `npm run dev`
// (wrangler dev, local workerd), beside a plain Node `ws` relay doing the same traffic in the same
// run as the baseline. Prints P50/P95/P99 latency, sustained messages/s, and send → feed latency
// with 50 dashboard sockets connected.
import { rmSync } from "node:fs";
import { performance } from "node:perf_hooks";
import WebSocket, { WebSocketServer } from "ws";
import { benchStateDir, freePort, provisionTenant, startPlatform } from "../scripts/lib/proc.mjs";

const PAIRS = Number(process.env.BENCH_PAIRS ?? 50);
const LATENCY_MESSAGES = Number(process.env.BENCH_LATENCY_MESSAGES ?? 100); // per sender, one at a time
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 8); // outstanding messages per sender in the throughput run
const FEEDS = Number(process.env.BENCH_FEEDS ?? 50);

const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99) };
};

// ---------- the platform ----------
const { dir: stateDir, label: stateLabel } = await benchStateDir("aegis-bench-msg-");
process.stdout.write(`local state on ${stateLabel}\n`);
const platform = await startPlatform({ stateDir });
const { base: devBase, password } = platform;
/**
 * BENCH_DIRECT=1: sockets go straight to the workerd that runs the Worker, past wrangler dev's proxy
 * (a second workerd that forwards every frame; deployed, there is no such hop). The port is found by
 * asking each workerd listener on 127.0.0.1 for /api/health (Linux: `ss`).
 */
async function directBase() {
  const { execFileSync } = await import("node:child_process");
  const ports = execFileSync("ss", ["-ltnp"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes('"workerd"') && l.includes("127.0.0.1:"))
    .map((l) => /127\.0\.0\.1:(\d+)/.exec(l)?.[1])
    .filter((p) => p && p !== new URL(devBase).port);
  for (const p of ports) {
    try {
      const res = await fetch(`http://127.0.0.1:${p}/api/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok && (await res.json()).status === "ok") return `http://127.0.0.1:${p}`;
    } catch {}
  }
  throw new Error("BENCH_DIRECT: no workerd answered /api/health");
}
const base = process.env.BENCH_DIRECT === "1" ? await directBase() : devBase;
process.stdout.write(
  `platform at ${base}${base === devBase ? " (through wrangler dev)" : " (the Worker's workerd, directly)"}\n`,
);

const { api, admin } = await provisionTenant(base, password, { name: "Bench Messaging", slug: "bench-msg" });
process.stdout.write(`creating ${PAIRS * 2} agents and ${PAIRS} links…\n`);
const agents = [];
for (let i = 0; i < PAIRS * 2; i++) {
  const a = await api("POST", "/api/dashboard/agents", admin, {
    name: `agent-${i}`,
    modelTier: "sonnet",
    thinkingMode: "off",
  });
  const tok = await api("POST", "/v1/auth/token", null, { agentId: a.agent.id, credential: a.credential });
  agents.push({ id: a.agent.id, token: tok.token });
}
const senders = agents.slice(0, PAIRS);
const receivers = agents.slice(PAIRS);
const edges = senders.map((s, i) => ({ from: s.id, to: receivers[i].id, direction: "both" }));
await api("PUT", "/api/dashboard/allowlist", admin, { expectedVersion: 0, edges });

function open(url, headers) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => ok(ws));
    ws.once("error", fail);
  });
}
const wsBase = base.replace("http", "ws");

// ---------- the baseline: a plain ws relay on this machine ----------
async function startRelay() {
  const relayPort = await freePort();
  const wss = new WebSocketServer({ port: relayPort, host: "127.0.0.1" });
  const byId = new Map();
  wss.on("connection", (ws, req) => {
    const id = new URL(req.url, "http://x").searchParams.get("id");
    byId.set(id, ws);
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString());
      if (f.op === "send") {
        byId
          .get(f.to)
          ?.send(
            JSON.stringify({ op: "message", id: f.clientId, from: id, type: f.type, payload: f.payload }),
          );
        ws.send(JSON.stringify({ op: "sent", clientId: f.clientId, status: "delivered" }));
      }
    });
  });
  await new Promise((r) => wss.once("listening", r));
  return { wss, url: (id) => `ws://127.0.0.1:${relayPort}/?id=${id}` };
}

/**
 * Latency: every sender sends LATENCY_MESSAGES messages one after another (waiting for each to
 * arrive at its receiver), all senders at once. Throughput: each sender keeps WINDOW messages in
 * flight for THROUGHPUT_SECONDS. The same code drives the platform and the relay.
 */
async function drive(connectSender, connectReceiver, label) {
  const arrivals = new Map();
  const recvSockets = await Promise.all(
    receivers.map(async (r) => {
      const ws = await connectReceiver(r);
      ws.on("message", (data) => {
        const f = JSON.parse(data.toString());
        if (f.op !== "message") return;
        if (f.id && f.id.startsWith("msg_")) ws.send(JSON.stringify({ op: "ack", id: f.id }));
        const key = f.payload?.title;
        const waiter = arrivals.get(key);
        if (waiter) {
          arrivals.delete(key);
          waiter(performance.now());
        }
      });
      return ws;
    }),
  );
  const latencies = [];
  let seq = 0;
  let lost = 0;
  // Why a message did not arrive, by error code or delivery status, so a failure is never silent.
  const refused = new Map();
  const refuse = (key, why) => {
    const waiter = arrivals.get(key);
    if (!waiter) return;
    arrivals.delete(key);
    refused.set(why, (refused.get(why) ?? 0) + 1);
    waiter(Number.NaN);
  };
  const sendSockets = await Promise.all(
    senders.map(async (s) => {
      const ws = await connectSender(s);
      ws.on("message", (data) => {
        const f = JSON.parse(data.toString());
        if (f.op === "error" && f.clientId) refuse(f.clientId, f.code);
        if (f.op === "sent" && (f.status === "rejected" || f.status === "failed" || f.status === "expired"))
          refuse(f.clientId, `${f.status}${f.reason ? `:${f.reason}` : ""}`);
      });
      return ws;
    }),
  );
  const sendOne = (ws, i) =>
    new Promise((done) => {
      const key = `${label}-${i}-${seq++}`;
      const t0 = performance.now();
      // A message that never arrives is counted as lost instead of stalling the run.
      const timer = setTimeout(() => {
        arrivals.delete(key);
        lost++;
        done(Number.NaN);
      }, 10_000);
      arrivals.set(key, (t1) => {
        clearTimeout(timer);
        done(Number.isNaN(t1) ? t1 : t1 - t0);
      });
      ws.send(
        JSON.stringify({
          op: "send",
          clientId: key,
          to: receivers[i].id,
          type: "notification",
          payload: { title: key },
        }),
      );
    });

  await Promise.all(
    sendSockets.map(async (ws, i) => {
      for (let k = 0; k < LATENCY_MESSAGES; k++) {
        const ms = await sendOne(ws, i);
        if (!Number.isNaN(ms)) latencies.push(ms);
      }
    }),
  );

  let delivered = 0;
  const deadline = performance.now() + THROUGHPUT_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    sendSockets.map(async (ws, i) => {
      const lane = async () => {
        while (performance.now() < deadline) {
          if (!Number.isNaN(await sendOne(ws, i))) delivered++;
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const ws of [...recvSockets, ...sendSockets]) ws.close();
  return { latency: summary(latencies), throughput: delivered / elapsed, delivered, lost, refused };
}

process.stdout.write("baseline: plain ws relay…\n");
const relay = await startRelay();
const baseline = await drive(
  (s) => open(relay.url(s.id)),
  (r) => open(relay.url(r.id)),
  "relay",
);
relay.wss.close();

process.stdout.write("Aegis: mailbox sockets…\n");
const connectMailbox = (a) => open(`${wsBase}/v1/mailbox`, { authorization: `Bearer ${a.token}` });
const aegis = await drive(connectMailbox, connectMailbox, "aegis");
process.stdout.write(
  `  mailbox P50 ${aegis.latency.p50.toFixed(2)} ms, P95 ${aegis.latency.p95.toFixed(2)} ms; ${aegis.throughput.toFixed(0)} msg/s\n`,
);

// ---------- feed fan-out: send → event on /ws/messages with FEEDS dashboard sockets ----------
process.stdout.write(`feed: ${FEEDS} dashboard sockets…\n`);
const feeds = await Promise.all(
  Array.from({ length: FEEDS }, () => open(`${wsBase}/ws/messages?token=${admin}`)),
);
const feedLatencies = [];
const pendingFeed = new Map();
for (const ws of feeds) {
  ws.on("message", (data) => {
    const f = JSON.parse(data.toString());
    if (f.event !== "message") return;
    const p = pendingFeed.get(f.message.id);
    if (p) {
      feedLatencies.push(performance.now() - p.t0);
      p.left--;
      if (p.left === 0) {
        pendingFeed.delete(f.message.id);
        p.done();
      }
    }
  });
}
const s0 = await connectMailbox(senders[0]);
const r0 = await connectMailbox(receivers[0]);
r0.on("message", (data) => {
  const f = JSON.parse(data.toString());
  if (f.op === "message") r0.send(JSON.stringify({ op: "ack", id: f.id }));
});
for (let i = 0; i < 40; i++) {
  await new Promise((done) => {
    const t0 = performance.now();
    const onSent = (data) => {
      const f = JSON.parse(data.toString());
      if (f.op !== "sent" || f.clientId !== `feed-${i}`) return;
      s0.off("message", onSent);
      pendingFeed.set(f.id, { t0, left: FEEDS, done });
    };
    s0.on("message", onSent);
    s0.send(
      JSON.stringify({
        op: "send",
        clientId: `feed-${i}`,
        to: receivers[0].id,
        type: "notification",
        payload: { title: `f${i}` },
      }),
    );
  });
}
const feed = summary(feedLatencies);
for (const ws of [...feeds, s0, r0]) ws.close();

const fmt = (n) => n.toFixed(2).padStart(8);
process.stdout.write(
  `\nMessaging against wrangler dev (local workerd), ${PAIRS} sending agents, same machine and run\n`,
);
process.stdout.write(
  `${"".padEnd(36)} ${"P50 ms".padStart(8)} ${"P95 ms".padStart(8)} ${"P99 ms".padStart(8)}\n`,
);
process.stdout.write(
  `${"baseline: plain Node ws relay".padEnd(36)} ${fmt(baseline.latency.p50)} ${fmt(baseline.latency.p95)} ${fmt(baseline.latency.p99)}\n`,
);
process.stdout.write(
  `${"Aegis mailbox A → B".padEnd(36)} ${fmt(aegis.latency.p50)} ${fmt(aegis.latency.p95)} ${fmt(aegis.latency.p99)}\n`,
);
process.stdout.write(
  `${"ratio Aegis / baseline".padEnd(36)} ${fmt(aegis.latency.p50 / baseline.latency.p50)} ${fmt(aegis.latency.p95 / baseline.latency.p95)} ${fmt(aegis.latency.p99 / baseline.latency.p99)}\n`,
);
process.stdout.write(`lost (not delivered within 10 s): Aegis ${aegis.lost}, baseline ${baseline.lost}\n`);
const refusedText = (r) => (r.size ? [...r].map(([k, n]) => `${k} ${n}`).join(", ") : "none");
process.stdout.write(
  `refused or failed: Aegis ${refusedText(aegis.refused)}; baseline ${refusedText(baseline.refused)}\n`,
);
process.stdout.write(
  `\nsustained throughput (${WINDOW} in flight per sender, ${THROUGHPUT_SECONDS} s): Aegis ${aegis.throughput.toFixed(0)} msg/s, baseline ${baseline.throughput.toFixed(0)} msg/s, ratio ${(aegis.throughput / baseline.throughput).toFixed(3)}\n`,
);
process.stdout.write(
  `send → /ws/messages event with ${FEEDS} feed sockets (${feed.n} deliveries): P50 ${feed.p50.toFixed(2)} ms, P95 ${feed.p95.toFixed(2)} ms, P99 ${feed.p99.toFixed(2)} ms\n`,
);
process.stdout.write(
  "(targets: mailbox P95 < 50 ms and P50 ≤ 8× baseline; ≥ 2,000 msg/s; feed P95 < 100 ms)\n",
);

await platform.stop();
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
