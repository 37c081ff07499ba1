#!/usr/bin/env node
// Diagnostic for an open finding of issue 4 (see docs/roadmap.md): under load, when several frames
// arrive on one agent's mailbox socket at the same instant, the first is handled and the rest can
// wait seconds before their `webSocketMessage` runs. Nothing is lost; they are late.
//
//   node scripts/diagnostics/burst-stall.mjs            (PAIRS=50 BURST=8 WARM=20 SECONDS=6)
//
// It starts its own platform (`npm run dev` on a free port, state on tmpfs), creates PAIRS sender →
// receiver pairs, warms them with WARM sequential rounds, then gives every sender BURST lanes that
// each send the next message as soon as their previous one arrives. A message whose `sent` answer or
// delivery takes longer than 3 s is reported as stalled, with when it was sent. Observed here:
// BURST=4 → none; BURST=6 or 8 → hundreds, in whole senders at a time.
import { rmSync } from "node:fs";
import WebSocket from "ws";
import { benchStateDir, provisionTenant, startPlatform } from "../lib/proc.mjs";

const PAIRS = Number(process.env.PAIRS ?? 50);
const BURST = Number(process.env.BURST ?? 8);
const WARM = Number(process.env.WARM ?? 20);
const SECONDS = Number(process.env.SECONDS ?? 6);
const STALL_MS = 3000;

const { dir: stateDir } = await benchStateDir("aegis-diag-burst-");
const platform = await startPlatform({ stateDir });
const { base, password } = platform;
const wsBase = base.replace("http", "ws");

try {
  const { api, admin } = await provisionTenant(base, password, {
    name: "Burst diagnostic",
    slug: "diag-burst",
  });
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
  await api("PUT", "/api/dashboard/allowlist", admin, {
    expectedVersion: 0,
    edges: senders.map((s, i) => ({ from: s.id, to: receivers[i].id, direction: "both" })),
  });
  const open = (a) =>
    new Promise((ok, fail) => {
      const ws = new WebSocket(`${wsBase}/v1/mailbox`, { headers: { authorization: `Bearer ${a.token}` } });
      ws.once("open", () => ok(ws));
      ws.once("error", fail);
    });

  const arrivals = new Map();
  const recv = await Promise.all(receivers.map(open));
  for (const ws of recv) {
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString());
      if (f.op !== "message") return;
      ws.send(JSON.stringify({ op: "ack", id: f.id }));
      const w = arrivals.get(f.payload?.title);
      if (w) {
        arrivals.delete(f.payload.title);
        w();
      }
    });
  }
  const sent = new Set();
  const send = await Promise.all(senders.map(open));
  for (const ws of send) {
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString());
      if (f.op === "sent") sent.add(f.clientId);
    });
  }
  let seq = 0;
  const start = Date.now();
  const stalled = [];
  const sendOne = (ws, i) =>
    new Promise((done) => {
      const key = `m${seq++}`;
      const t0 = Date.now();
      const timer = setTimeout(() => {
        arrivals.delete(key);
        stalled.push({ sender: i, key, sentAtMs: t0 - start, answered: sent.has(key) });
        done();
      }, STALL_MS);
      arrivals.set(key, () => {
        clearTimeout(timer);
        done();
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

  for (let k = 0; k < WARM; k++) await Promise.all(send.map((ws, i) => sendOne(ws, i)));
  const warmStalls = stalled.length;
  const deadline = Date.now() + SECONDS * 1000;
  let delivered = 0;
  await Promise.all(
    send.map((ws, i) =>
      Promise.all(
        Array.from({ length: BURST }, async () => {
          while (Date.now() < deadline) {
            const before = stalled.length;
            await sendOne(ws, i);
            if (stalled.length === before) delivered++;
          }
        }),
      ),
    ),
  );
  const lanes = stalled.slice(warmStalls);
  const senderCount = new Set(lanes.map((s) => s.sender)).size;
  process.stdout.write(
    `\n${PAIRS} pairs, warm ${WARM} rounds (stalled: ${warmStalls}), then ${BURST} lanes per sender for ${SECONDS} s\n` +
      `delivered within ${STALL_MS} ms: ${delivered}; stalled: ${lanes.length} messages across ${senderCount} senders\n` +
      `stalled messages the sender's mailbox had answered ("sent"): ${lanes.filter((s) => s.answered).length}\n` +
      (lanes.length
        ? `first stalls: ${JSON.stringify(lanes.slice(0, 5))}\n`
        : "no stall in this run (it is load-dependent; try BURST=8 PAIRS=50 again)\n"),
  );
} finally {
  await platform.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(0);
