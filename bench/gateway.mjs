#!/usr/bin/env node
// `npm run bench:gateway`: what the model gateway adds to a model call. Against `npm run dev`
// (wrangler dev, local workerd) whose model upstream is the local stand-in for Anthropic's
// Messages API (scripts/standins/model-upstream.mjs), the same small request goes directly to the
// stand-in (the baseline, with its key) and through POST /v1/models/messages with an agent token,
// sequentially, interleaved in blocks so drift hits both. Non-stream requests are timed to the full
// JSON, streaming ones to the last byte of the event stream. Prints P50/P95/P99, the added median
// in milliseconds, and ratios to the baseline of the same run.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { benchStateDir, freePort, provisionTenant, startPlatform } from "../scripts/lib/proc.mjs";

const N = Number(process.env.BENCH_GATEWAY_N ?? 500); // per variant and mode
const BLOCK = Number(process.env.BENCH_GATEWAY_BLOCK ?? 50);
const WARMUP = 20;
const BODY = {
  model: "claude-sonnet-4-5",
  max_tokens: 64,
  messages: [{ role: "user", content: "Say hello to the benchmark in five words." }],
};

const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99) };
};

const { dir: stateDir, label: stateLabel } = await benchStateDir("aegis-bench-gw-");
process.stdout.write(`local state on ${stateLabel}\n`);
const modelPort = await freePort();
const modelKey = randomBytes(16).toString("hex");
const upstream = `http://127.0.0.1:${modelPort}`;
const platform = await startPlatform({
  stateDir,
  env: { AEGIS_MODEL_PORT: String(modelPort), AEGIS_MODEL_KEY: modelKey },
}).catch((err) => {
  rmSync(stateDir, { recursive: true, force: true });
  throw err;
});
const { base, password } = platform;

async function finish(code, message) {
  if (message) process.stderr.write(`${message}\n`);
  await platform.stop();
  rmSync(stateDir, { recursive: true, force: true });
  process.exit(code);
}
process.on("SIGINT", () => finish(130));

/** One model call: timed from the request to the last byte of the answer. */
async function call(url, headers, stream) {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(stream ? { ...BODY, stream: true } : BODY),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  return { ms, status: res.status, text, type: res.headers.get("content-type") ?? "" };
}

const direct = (stream) =>
  call(`${upstream}/v1/messages`, { "x-api-key": modelKey, "anthropic-version": "2023-06-01" }, stream);
/** The platform's own floor: the cheapest request through the same local wrangler dev path. */
async function floor() {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/health`);
  await res.text();
  if (res.status !== 200) throw new Error(`GET /api/health: ${res.status}`);
  return performance.now() - t0;
}
let agentToken = "";
const gateway = (stream) =>
  call(`${base}/v1/models/messages`, { authorization: `Bearer ${agentToken}` }, stream);

/** A 200 with a whole message (or a whole event stream), or an error that says what came back. */
function check(label, stream, r) {
  const ok =
    r.status === 200 &&
    (stream
      ? r.type.startsWith("text/event-stream") && r.text.includes("event: message_stop")
      : r.type.includes("application/json") && JSON.parse(r.text).type === "message");
  if (!ok) throw new Error(`${label}: ${r.status} ${r.type} ${r.text.slice(0, 500)}`);
  return r.ms;
}

try {
  const health = await fetch(`${upstream}/health`).catch(() => null);
  if (health?.status !== 200)
    throw new Error(`the model stand-in does not answer on ${upstream} (AEGIS_MODEL_PORT not honoured?)`);

  const { api, admin } = await provisionTenant(base, password, { name: "Bench Gateway", slug: "bench-gw" });
  const agent = await api("POST", "/api/dashboard/agents", admin, {
    name: "gateway-bench",
    modelTier: "sonnet",
    thinkingMode: "off",
  });
  agentToken = (
    await api("POST", "/v1/auth/token", null, { agentId: agent.agent.id, credential: agent.credential })
  ).token;

  const probe = await gateway(false);
  if (probe.status === 404)
    throw new Error(
      `POST /v1/models/messages answered 404: the model gateway route is not there (yet), so there is nothing to measure.\n${probe.text.slice(0, 300)}`,
    );
  check("POST /v1/models/messages (probe)", false, probe);

  const results = {};
  for (const stream of [false, true]) {
    const mode = stream ? "stream" : "non-stream";
    process.stdout.write(`${mode}: ${N} direct and ${N} gateway calls in blocks of ${BLOCK}…\n`);
    for (let i = 0; i < WARMUP; i++) {
      check("direct (warm-up)", stream, await direct(stream));
      check("gateway (warm-up)", stream, await gateway(stream));
    }
    const times = { direct: [], gateway: [], floor: [] };
    for (let block = 0; times.direct.length < N || times.gateway.length < N; block++) {
      // Alternate which side goes first, so neither always follows the other.
      const order = block % 2 === 0 ? ["direct", "gateway"] : ["gateway", "direct"];
      for (const side of order) {
        const count = Math.min(BLOCK, N - times[side].length);
        for (let i = 0; i < count; i++) {
          const r = side === "direct" ? await direct(stream) : await gateway(stream);
          times[side].push(check(side === "direct" ? "direct" : "gateway", stream, r));
          if (side === "gateway") times.floor.push(await floor());
        }
      }
    }
    results[mode] = {
      direct: summary(times.direct),
      gateway: summary(times.gateway),
      floor: summary(times.floor),
    };
  }

  const calls = (await (await fetch(`${upstream}/calls`)).json()).data.length;
  process.stdout.write(
    `\nModel gateway overhead against wrangler dev (local workerd), sequential requests; the upstream is the local stand-in (${calls} calls received)\n`,
  );
  process.stdout.write(
    `${"variant".padEnd(40)} ${"n".padStart(5)} ${"P50 ms".padStart(8)} ${"P95 ms".padStart(8)} ${"P99 ms".padStart(8)} ${"P50 ×".padStart(7)} ${"P95 ×".padStart(7)} ${"P99 ×".padStart(7)}\n`,
  );
  const row = (name, r, baseline) =>
    process.stdout.write(
      `${name.padEnd(40)} ${String(r.n).padStart(5)} ${r.p50.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${(r.p50 / baseline.p50).toFixed(2).padStart(7)} ${(r.p95 / baseline.p95).toFixed(2).padStart(7)} ${(r.p99 / baseline.p99).toFixed(2).padStart(7)}\n`,
    );
  for (const [mode, r] of Object.entries(results)) {
    row(`upstream direct, ${mode} (baseline)`, r.direct, r.direct);
    row(`POST /v1/models/messages, ${mode}`, r.gateway, r.direct);
  }
  row("GET /api/health (platform floor)", results["non-stream"].floor, results["non-stream"].direct);
  process.stdout.write("\n");
  for (const [mode, r] of Object.entries(results)) {
    process.stdout.write(
      `added by the gateway, ${mode}: ${(r.gateway.p50 - r.direct.p50).toFixed(2)} ms at the median, ${(r.gateway.p95 - r.direct.p95).toFixed(2)} ms at P95; ` +
        `beyond the platform floor (any request through local wrangler dev): ${(r.gateway.p50 - r.direct.p50 - r.floor.p50).toFixed(2)} ms at the median\n`,
    );
  }
  process.stdout.write(
    "(× = ratio to the direct call in the same run and mode; streaming is timed to the last byte)\n",
  );
} catch (err) {
  await finish(1, `bench:gateway: ${err.message}`);
}
await finish(0);
