#!/usr/bin/env node
// `npm run bench:usage`: how fast the USAGE queue consumer (worker/jobs/queue.ts → aggregateUsage,
// refreshBillingProfiles, the usage feed event, announceQuotaThresholds) works off a backlog of
// model-usage events, beside plain INSERTs of the same rows into the same D1 in the same run.
//
// The worker is bundled as deployed (`wrangler deploy --dry-run`) and run in-process by Miniflare
// (local workerd) with the bindings, queues and consumer settings of wrangler.toml, read through
// wrangler's own `unstable_getMiniflareWorkerOptions`. D1 is seeded with 10 tenants × 20 agents, a
// tenant admin each, and quota overrides on 8 agents per tenant, so threshold rows, quota state
// changes, profile pushes, audit events and alert emails really happen. BENCH_USAGE_EVENTS events
// (default 100,000) are then sent to the USAGE queue while its first batch is held (see the gate
// below), so the whole backlog is waiting when the clock starts; it stops when the queue broker
// reports the batch with the last event acked. Everything talks over 127.0.0.1 (the mail stand-in
// receives the alert emails); local state is on tmpfs unless BENCH_STATE=disk.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { benchStateDir, run } from "../scripts/lib/proc.mjs";
import { start as startMailSink } from "../scripts/standins/mail.mjs";

const root = resolve(import.meta.dirname, "..");
const EVENTS = Number(process.env.BENCH_USAGE_EVENTS ?? 100_000);
const TENANTS = 10;
const AGENTS_PER_TENANT = 20;
const CHUNK = 100; // messages per sendBatch, and rows per baseline D1 batch (the consumer's batch size)
const STALL_MS = 120_000;
const quietEnv = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  CI: "true",
};
// wrangler's config reader logs which .dev.vars it read; the values are replaced below anyway.
process.env.WRANGLER_LOG ??= "warn";
const { Log, LogLevel, Miniflare } = await import("miniflare");
const { unstable_getMiniflareWorkerOptions } = await import("wrangler");

const say = (s) => process.stdout.write(`${s}\n`);
const fmt = (n) => Math.round(n).toLocaleString("en-US");

const { dir: stateDir, label } = await benchStateDir("aegis-bench-usage-");
say(`local state on ${label}`);
process.on("exit", () => rmSync(stateDir, { recursive: true, force: true }));

// ---------- the worker, as deployed ----------
if (!existsSync(resolve(root, "dist/client/index.html"))) {
  await run(resolve(root, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], { cwd: root });
}
const bundleDir = resolve(stateDir, "bundle");
await run(resolve(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", bundleDir], {
  cwd: root,
  env: quietEnv,
  quiet: true,
});
const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve(root, "wrangler.toml"));
// Static assets play no part in queue consumption; the router Miniflare puts in front of them is left out.
const { assets: _assets, ...fromToml } = workerOptions;

const mail = await startMailSink(0, { apiKey: "bench-mail-key" });
// Every secret of .dev.vars.example gets a bench value (never the developer's .dev.vars).
const secrets = Object.fromEntries(
  readFileSync(resolve(root, ".dev.vars.example"), "utf8")
    .split("\n")
    .map((l) => /^([A-Z0-9_]+)=/.exec(l.trim())?.[1])
    .filter(Boolean)
    .map((k) => [k, "bench"]),
);
Object.assign(secrets, {
  AUTH_SECRET: "b".repeat(64),
  MAIL_API_URL: mail.sendUrl,
  MAIL_API_KEY: mail.apiKey,
  MODEL_UPSTREAM_URL: "http://127.0.0.1:9",
  STRIPE_SECRET_KEY: "", // empty: Stripe sync is skipped
  STRIPE_API_URL: "http://127.0.0.1:9",
});

/** Every queue batch the broker reports ("QUEUE <name> acked/total (ms)"), by queue. */
const batches = new Map();
class BenchLog extends Log {
  logWithLevel(level, message) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colours
    const plain = message.replace(/\x1b\[[0-9;]*m/g, "");
    const m = /QUEUE (\S+) (\d+)\/(\d+)(?: \((\d+)ms\))?/.exec(plain);
    if (m) {
      const list = batches.get(m[1]) ?? [];
      list.push({ acked: Number(m[2]), total: Number(m[3]), ms: Number(m[4] ?? 0), at: performance.now() });
      batches.set(m[1], list);
      return;
    }
    super.logWithLevel(level, message);
  }
  logReady() {}
}

// The baseline's writer: a worker bound to the same D1 database that sends the given rows through
// D1 the way the consumer sends its writes (from inside workerd), CHUNK single-row INSERTs per
// db.batch(), one batch after the other, and reports how long that took. (The same batches sent
// from Node through Miniflare's proxy run ~30× slower: that would measure the proxy, not D1.)
const baselineWorker = `export default {
  async fetch(request, env) {
    const table = new URL(request.url).searchParams.get("table");
    const rows = await request.json();
    const insert = env.DB.prepare(
      "INSERT INTO " + table + " (id, tenant_id, agent_id, day, month, model, model_tier, input_tokens, " +
        "output_tokens, thinking_tokens, cache_read_tokens, cache_write_tokens, quota_tokens, usage_missing, " +
        "cost_micros, overage_input_tokens, overage_output_tokens, overage_micros, at) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const started = performance.now();
    for (let i = 0; i < rows.length; i += ${CHUNK}) {
      await env.DB.batch(rows.slice(i, i + ${CHUNK}).map((r) => insert.bind(...r)));
    }
    return Response.json({ ms: performance.now() - started });
  },
};`;

// The gate: the USAGE queue's consumer here, with wrangler.toml's settings. It holds the first batch
// until this script has enqueued the whole backlog (the broker delivers one batch at a time, so
// nothing else is delivered meanwhile), then hands every batch unchanged to the aegis worker's queue
// handler over a service binding and passes its acks and retries back to the broker. Its cost is
// one service-binding call per batch. (A delivery delay cannot hold a large backlog: the local
// broker sets one timer per delayed message, and workerd allows 10,000 per object.)
const gateWorker = `let released = false;
export default {
  async queue(batch, env) {
    if (!released) {
      await (await fetch(env.RELEASE_URL)).text();
      released = true;
    }
    const result = await env.AEGIS.queue(
      batch.queue,
      batch.messages.map((m) => ({ id: m.id, timestamp: m.timestamp, body: m.body, attempts: m.attempts })),
    );
    if (result.outcome !== "ok") throw new Error("aegis queue handler: " + result.outcome);
    const delay = (s) => (s === undefined ? {} : { delaySeconds: s });
    if (result.retryBatch.retry) return batch.retryAll(delay(result.retryBatch.delaySeconds));
    const retry = new Map(result.retryMessages.map((r) => [r.msgId, delay(r.delaySeconds)]));
    for (const m of batch.messages) {
      if (retry.has(m.id)) m.retry(retry.get(m.id));
      else m.ack();
    }
  },
};`;
let release;
const released = new Promise((r) => {
  release = r;
});
const releaseServer = createServer(async (_req, res) => {
  await released;
  res.end("go");
});
await new Promise((r) => releaseServer.listen(0, "127.0.0.1", () => r(undefined)));
const releaseUrl = `http://127.0.0.1:${releaseServer.address().port}/release`;
const { "aegis-usage": usageConsumer, ...otherConsumers } = fromToml.queueConsumers ?? {};
if (!usageConsumer) throw new Error("wrangler.toml has no consumer for aegis-usage");

const mf = new Miniflare({
  workers: [
    {
      ...fromToml,
      name: "aegis",
      modules: true,
      modulesRoot: bundleDir,
      scriptPath: resolve(bundleDir, "index.js"),
      bindings: { ...fromToml.bindings, ...secrets },
      queueConsumers: otherConsumers,
    },
    {
      name: "usage-gate",
      modules: true,
      script: gateWorker,
      compatibilityDate: fromToml.compatibilityDate,
      compatibilityFlags: ["service_binding_extra_handlers"],
      bindings: { RELEASE_URL: releaseUrl },
      serviceBindings: { AEGIS: "aegis" },
      queueConsumers: { "aegis-usage": usageConsumer },
    },
    {
      name: "bench-baseline",
      modules: true,
      script: baselineWorker,
      compatibilityDate: fromToml.compatibilityDate,
      compatibilityFlags: fromToml.compatibilityFlags,
      d1Databases: { DB: fromToml.d1Databases.DB },
    },
  ],
  defaultPersistRoot: resolve(stateDir, "miniflare"),
  cf: false,
  log: new BenchLog(LogLevel.WARN),
});
await mf.ready;
const db = await mf.getD1Database("DB");
const usageQueue = await mf.getQueueProducer("USAGE");

for (const f of readdirSync(resolve(root, "migrations"))
  .filter((f) => f.endsWith(".sql"))
  .sort()) {
  const statements = readFileSync(resolve(root, "migrations", f), "utf8")
    .split("--> statement-breakpoint")
    .map((s) => s.trim())
    .filter(Boolean);
  await db.batch(statements.map((s) => db.prepare(s)));
}

// ---------- the events and the tenants they belong to ----------
let seed = 0x5eed;
const rand = () => {
  // mulberry32: the same events every run
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const TIERS = ["haiku", "sonnet", "opus"];
const now = new Date();
const month = now.toISOString().slice(0, 7);
const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();

const agents = [];
for (let t = 0; t < TENANTS; t++) {
  for (let a = 0; a < AGENTS_PER_TENANT; a++) {
    agents.push({ id: `agt_bench_${t}_${a}`, tenantId: `ten_bench_${t}`, index: a, tier: TIERS[a % 3] });
  }
}
const step = Math.min(10_000, Math.floor((27 * 86_400_000) / EVENTS)); // all within this month
const events = [];
const sent = new Map(agents.map((a) => [a.id, { calls: 0, input: 0, output: 0, approxQuota: 0 }]));
for (let i = 0; i < EVENTS; i++) {
  const a = agents[int(0, agents.length - 1)];
  const missing = i % 1000 === 999; // now and then the upstream reports no usage
  const e = {
    id: `use_bench_${String(i).padStart(7, "0")}`,
    tenantId: a.tenantId,
    agentId: a.id,
    model: `claude-${a.tier}-4-5`,
    modelTier: a.tier,
    at: new Date(monthStart + i * step).toISOString(),
    inputTokens: missing ? 0 : int(200, 4000),
    outputTokens: missing ? 0 : int(50, 1500),
    thinkingTokens: missing || a.index % 4 ? 0 : int(0, 800),
    cacheReadTokens: missing ? 0 : int(0, 8000),
    cacheWriteTokens: missing ? 0 : int(0, 1000),
    usageMissing: missing,
    stream: i % 2 === 0,
  };
  events.push(e);
  const s = sent.get(a.id);
  s.calls++;
  s.input += e.inputTokens;
  s.output += e.outputTokens;
  s.approxQuota += e.inputTokens + e.outputTokens + e.thinkingTokens + e.cacheReadTokens / 10;
}

// Agents 0–11 of each tenant stay far below the tenant quota; 12–19 get an override that their
// month's events take to about 90%, 110%, 130% and 170% of it (two agents each), so threshold rows,
// quota state changes, profile pushes, audit events and alert emails happen along the way.
const maxTotal = Math.max(...[...sent.values()].map((s) => s.approxQuota));
const RATIOS = [0.9, 1.1, 1.3, 1.7];
const tenantRows = [];
for (let t = 0; t < TENANTS; t++) {
  tenantRows.push(
    db
      .prepare(
        `INSERT INTO tenants (id, name, slug, status, plan_tier, overage_billing_enabled, monthly_token_quota)
         VALUES (?, ?, ?, 'active', 'enterprise', ?, ?)`,
      )
      .bind(`ten_bench_${t}`, `Bench ${t}`, `bench-${t}`, t % 3 === 0 ? 1 : 0, Math.ceil(maxTotal * 4)),
    db
      .prepare(
        `INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES (?, ?, ?, 'Admin', 'tenant_admin', 'x')`,
      )
      .bind(`usr_bench_${t}`, `ten_bench_${t}`, `admin@bench-${t}.local`),
  );
}
await db.batch(tenantRows);
await db.batch(
  agents.map((a) => {
    const ratio = a.index >= 12 ? RATIOS[Math.floor((a.index - 12) / 2)] : null;
    const override = ratio ? Math.max(1, Math.floor((sent.get(a.id)?.approxQuota ?? 0) / ratio)) : null;
    return db
      .prepare(
        `INSERT INTO agents (id, tenant_id, name, model_tier, thinking_mode, credential_hash, credential_prefix,
           token_quota_reset_at, usage_month, monthly_token_quota_override)
         VALUES (?, ?, ?, ?, 'off', 'x', 'x', ?, ?, ?)`,
      )
      .bind(a.id, a.tenantId, `agent-${a.index}`, a.tier, nextMonth, month, override);
  }),
);
say(
  `seeded ${TENANTS} tenants × ${AGENTS_PER_TENANT} agents (${TENANTS * 8} with quota overrides); ${fmt(EVENTS)} events generated`,
);

// ---------- baseline: the bare writes ----------
// Empty twins of usage_calls (same columns, same indexes), filled with the same rows; once before
// and once after the consumer's run, so drift on the machine shows.
const usageCallsDdl = (
  await db
    .prepare(
      "SELECT sql FROM sqlite_master WHERE tbl_name = 'usage_calls' AND sql IS NOT NULL ORDER BY type DESC",
    )
    .all()
).results.map((r) => String(r.sql));
const rows = JSON.stringify(
  events.map((e) => [
    e.id,
    e.tenantId,
    e.agentId,
    e.at.slice(0, 10),
    e.at.slice(0, 7),
    e.model,
    e.modelTier,
    e.inputTokens,
    e.outputTokens,
    e.thinkingTokens,
    e.cacheReadTokens,
    e.cacheWriteTokens,
    e.inputTokens + e.outputTokens + e.thinkingTokens + Math.ceil(e.cacheReadTokens / 10),
    e.usageMissing ? 1 : 0,
    0,
    0,
    0,
    0,
    e.at,
  ]),
);
const baselineFetcher = await mf.getWorker("bench-baseline");
async function baseline(table) {
  await db.batch(usageCallsDdl.map((s) => db.prepare(s.replaceAll("usage_calls", table))));
  const res = await baselineFetcher.fetch(`http://bench/insert?table=${table}`, {
    method: "POST",
    body: rows,
  });
  if (!res.ok) throw new Error(`baseline worker: ${res.status} ${await res.text()}`);
  const { ms } = await res.json();
  const n = (await db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first()).n;
  if (n !== EVENTS) throw new Error(`baseline wrote ${n} rows into ${table}, not ${EVENTS}`);
  return ms;
}
say(`baseline: ${fmt(EVENTS)} plain INSERTs into an empty copy of usage_calls, ${CHUNK} per D1 batch…`);
const baselineBeforeMs = await baseline("bench_usage_calls_before");

// ---------- the consumer: enqueue the backlog, release it, time the drain ----------
const acked = (q) => (batches.get(q) ?? []).reduce((n, b) => n + b.acked, 0);
say(`enqueueing ${fmt(EVENTS)} usage events (the consumer's first batch is held meanwhile)…`);
const t0 = performance.now();
for (let i = 0; i < EVENTS; i += CHUNK) {
  await usageQueue.sendBatch(events.slice(i, i + CHUNK).map((event) => ({ body: { kind: "usage", event } })));
}
const enqueueMs = performance.now() - t0;
const ackedBefore = acked("aegis-usage");
if (ackedBefore !== 0) throw new Error(`${ackedBefore} events were consumed before the release`);
say(
  `enqueued in ${(enqueueMs / 1000).toFixed(1)} s (${fmt(EVENTS / (enqueueMs / 1000))} events/s); releasing the consumer…`,
);
const releasedAt = performance.now();
release();

let lastProgress = { n: 0, at: releasedAt };
let lastPrint = releasedAt;
while (acked("aegis-usage") < EVENTS) {
  await new Promise((r) => setTimeout(r, 50));
  const n = acked("aegis-usage");
  const t = performance.now();
  if (n !== lastProgress.n) lastProgress = { n, at: t };
  else if (t - lastProgress.at > STALL_MS) {
    const rows = (await db.prepare("SELECT COUNT(*) AS n FROM usage_calls").first()).n;
    throw new Error(
      `no USAGE batch acked for ${STALL_MS / 1000} s: ${n} acked per the queue broker's log, ${rows} rows in usage_calls`,
    );
  }
  if (t - lastPrint > 15_000) {
    say(`  ${fmt(n)} / ${fmt(EVENTS)} acked, ${((t - releasedAt) / 1000).toFixed(0)} s after the release`);
    lastPrint = t;
  }
}
const usageBatches = batches.get("aegis-usage") ?? [];
const drainMs = (usageBatches.at(-1)?.at ?? Number.NaN) - releasedAt;
const usageCalls = (await db.prepare("SELECT COUNT(*) AS n FROM usage_calls").first()).n;

// The threshold notices' audit events and emails go through their own queues: let them finish.
const lastSideEffect = () =>
  Math.max(0, ...["aegis-audit", "aegis-notify"].map((q) => (batches.get(q) ?? []).at(-1)?.at ?? 0));
for (let i = 0; i < 60 && performance.now() - lastSideEffect() < 2000; i++) {
  await new Promise((r) => setTimeout(r, 500));
}

say("baseline again, after the consumer…");
const baselineAfterMs = await baseline("bench_usage_calls_after");

// ---------- correctness ----------
const recordCalls = (await db.prepare("SELECT COALESCE(SUM(calls), 0) AS n FROM usage_records").first()).n;
const perAgent = new Map(
  (
    await db
      .prepare(
        `SELECT a.id, a.monthly_tokens_used AS used, a.quota_state AS state,
           (SELECT COALESCE(SUM(quota_tokens), 0) FROM usage_calls c WHERE c.agent_id = a.id) AS callsQuota,
           (SELECT COUNT(*) FROM usage_calls c WHERE c.agent_id = a.id) AS calls,
           (SELECT COALESCE(SUM(input_tokens), 0) FROM usage_calls c WHERE c.agent_id = a.id) AS input,
           (SELECT COALESCE(SUM(output_tokens), 0) FROM usage_calls c WHERE c.agent_id = a.id) AS output,
           (SELECT COALESCE(SUM(quota_tokens), 0) FROM usage_records r WHERE r.agent_id = a.id) AS recordsQuota
         FROM agents a`,
      )
      .all()
  ).results.map((r) => [r.id, r]),
);
let totalsOk = 0;
let eventsOk = 0;
const states = new Map();
for (const a of agents) {
  const r = perAgent.get(a.id);
  const s = sent.get(a.id);
  if (r && r.used === r.callsQuota && r.used === r.recordsQuota) totalsOk++;
  if (r && s && r.calls === s.calls && r.input === s.input && r.output === s.output) eventsOk++;
  if (r) states.set(r.state, (states.get(r.state) ?? 0) + 1);
}
const thresholdRows = await db
  .prepare("SELECT COUNT(*) AS n, COUNT(notified_at) AS sent FROM quota_notifications")
  .first();
const ok = (cond) => (cond ? "OK" : "MISMATCH");

// ---------- report ----------
const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
// The first batch's time includes the hold; the others are the handler's time alone.
const handlerMs = usageBatches.slice(1).map((b) => b.ms);
const busyMs = handlerMs.reduce((a, b) => a + b, 0);
const retried = usageBatches.reduce((n, b) => n + b.total - b.acked, 0);
const rate = (ms) => EVENTS / (ms / 1000);
const baselineRate = (rate(baselineBeforeMs) + rate(baselineAfterMs)) / 2;
const line = (name, ms) =>
  say(
    `${name.padEnd(50)} ${fmt(EVENTS).padStart(9)} ${(ms / 1000).toFixed(2).padStart(8)} ${fmt(rate(ms)).padStart(9)} ${(rate(ms) / baselineRate).toFixed(3).padStart(7)}`,
  );

say(
  `\nUSAGE queue consumer on a ${fmt(EVENTS)}-event backlog: ${TENANTS} tenants × ${AGENTS_PER_TENANT} agents, queue batches of ${usageConsumer.maxBatchSize}, Miniflare in-process, D1 on ${label.split(" ")[0]}`,
);
say(
  `${"".padEnd(50)} ${"events".padStart(9)} ${"seconds".padStart(8)} ${"events/s".padStart(9)} ${"ratio".padStart(7)}`,
);
line(`baseline before: plain INSERTs, ${CHUNK} per D1 batch`, baselineBeforeMs);
line(`baseline after:  plain INSERTs, ${CHUNK} per D1 batch`, baselineAfterMs);
line("USAGE consumer: release → last batch acked", drainMs);
const ratio = rate(drainMs) / baselineRate;
say(
  `\nratio = events/s ÷ the mean of the two baselines' events/s (${fmt(baselineRate)}): the consumer aggregates at ${(ratio * 100).toFixed(1)}% of the bare-insert rate, ${(1 / ratio).toFixed(1)}× the time per event.`,
);
say(
  `baseline timed: inside a worker on the same D1, ${fmt(EVENTS / CHUNK)} sequential db.batch() calls of ${CHUNK} single-row INSERTs into an empty twin of usage_calls (same columns and indexes).`,
);
say(
  `consumer timed: from the release of the held first batch (all ${fmt(EVENTS)} events enqueued and waiting) until the queue broker reported the batch with the last event acked — its handler returned, after the D1 batch, profile pushes, feed events and threshold notices.`,
);
say(
  `consumer batches: ${usageBatches.length} (${retried} messages retried); per batch after the held first one, as the broker timed it: P50 ${pct(handlerMs, 50)} ms, P95 ${pct(handlerMs, 95)} ms, max ${Math.max(...handlerMs)} ms; ${((busyMs / drainMs) * 100).toFixed(0)}% of the timed span was spent in them`,
);
say(
  `enqueue (not timed above): ${(enqueueMs / 1000).toFixed(1)} s, ${fmt(EVENTS / (enqueueMs / 1000))} events/s through Miniflare's queue producer from Node`,
);
say(
  `side effects: ${fmt(thresholdRows.n)} threshold rows (${fmt(thresholdRows.sent)} announced), ${fmt(acked("aegis-audit"))} audit events written, ${fmt(mail.messages.length)} alert emails received by the mail stand-in; quota states: ${[
    ...states,
  ]
    .map(([s, n]) => `${s} ${n}`)
    .join(", ")}`,
);
say("\ncorrectness");
say(
  `  usage_calls rows = events                  ${fmt(usageCalls)} / ${fmt(EVENTS)}  ${ok(usageCalls === EVENTS)}`,
);
say(
  `  SUM(usage_records.calls) = events          ${fmt(recordCalls)} / ${fmt(EVENTS)}  ${ok(recordCalls === EVENTS)}`,
);
say(
  `  monthly_tokens_used = Σ its quota tokens   ${totalsOk} / ${agents.length} agents  ${ok(totalsOk === agents.length)}`,
);
say(
  `  calls and tokens per agent = events sent   ${eventsOk} / ${agents.length} agents  ${ok(eventsOk === agents.length)}`,
);

await mf.dispose();
await mail.close();
releaseServer.close();
process.exit(0);
