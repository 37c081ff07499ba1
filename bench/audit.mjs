#!/usr/bin/env node
// `npm run bench:audit`: 1,000,000 audit events across 10 tenants in local D1, then P50/P95 of a
// filtered first page and a deep cursor page, the time to stream a 10,000-row CSV export, and the
// audit middleware's cost on a write route versus the same route with auditing off — each beside
// GET /api/health measured in the same run.
import { readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { benchStateDir, run, startPlatform } from "../scripts/lib/proc.mjs";

const root = resolve(import.meta.dirname, "..");
const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
const TENANTS = 10;
const N = Number(process.env.BENCH_N ?? 100);
const wrangler = resolve(root, "node_modules/.bin/wrangler");
const quietEnv = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  CI: "true",
};

const { dir: stateDir, label } = await benchStateDir("aegis-bench-audit-");
process.stdout.write(`local state on ${label}\n`);

process.stdout.write(`seeding ${ROWS.toLocaleString()} audit events across ${TENANTS} tenants…\n`);
await run(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
  cwd: root,
  env: quietEnv,
  quiet: true,
});
const seedStarted = performance.now();
const perTenant = Math.floor(ROWS / TENANTS);
for (let t = 0; t < TENANTS; t++) {
  const sql = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${perTenant})
    INSERT INTO audit_events (id, tenant_id, chain, seq, prev_hash, hash, actor_type, actor_id, actor_name, action, target_type, target_id, severity, details, ip, at)
    SELECT printf('aud_b${t}_%07d', i), 'ten_bench_${t}', 'ten_bench_${t}', i, '', '', CASE i % 3 WHEN 0 THEN 'agent' ELSE 'user' END,
      'usr_' || (i % 50), 'user' || (i % 50) || '@bench.local',
      CASE i % 5 WHEN 0 THEN 'agent.created' WHEN 1 THEN 'config.updated' WHEN 2 THEN 'auth.login' WHEN 3 THEN 'skill.installed' ELSE 'agent.updated' END,
      'agent', 'agt_' || (i % 200), CASE WHEN i % 97 = 0 THEN 'high' ELSE 'info' END,
      '{"before":{"name":"a' || i || '"},"after":{"name":"b' || i || '"}}', '10.0.0.' || (i % 250),
      strftime('%Y-%m-%dT%H:%M:%fZ', '2026-06-01', '+' || (i * 7) || ' seconds')
    FROM n`;
  await run(wrangler, ["d1", "execute", "DB", "--local", "--persist-to", stateDir, "--command", sql], {
    cwd: root,
    env: quietEnv,
    quiet: true,
  });
}
process.stdout.write(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n`);

const startDev = (env) => startPlatform({ stateDir: env.AEGIS_STATE_DIR ?? stateDir, env });

const password = () => /^AEGIS_DEV_PASSWORD=(.*)$/m.exec(readFileSync(resolve(root, ".dev.vars"), "utf8"))[1];

async function timed(base, method, path, token, body) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return { ms, text };
}

const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
async function measure(n, fn) {
  for (let i = 0; i < 5; i++) await fn();
  const xs = [];
  for (let i = 0; i < n; i++) xs.push((await fn()).ms);
  return { p50: pct(xs, 50), p95: pct(xs, 95), n };
}

const a = await startDev({});
const op = JSON.parse(
  (await timed(a.base, "POST", "/api/auth/login", null, { email: "admin@aegis.local", password: password() }))
    .text,
).accessToken;
const demo = JSON.parse(
  (await timed(a.base, "POST", "/api/auth/login", null, { email: "admin@demo.local", password: password() }))
    .text,
).accessToken;
const deepCursor = Buffer.from(
  `${new Date(Date.parse("2026-06-01T00:00:00Z") + Math.floor(perTenant / 2) * 7000).toISOString()}|aud_b3_${String(Math.floor(perTenant / 2)).padStart(7, "0")}`,
).toString("base64");

const results = {
  "GET /api/health (baseline)": await measure(N, () => timed(a.base, "GET", "/api/health")),
  "audit first page, filtered (1 tenant of 10)": await measure(N, () =>
    timed(a.base, "GET", "/api/admin/audit?tenantId=ten_bench_3&action=config.updated&limit=50", op),
  ),
  "audit first page, rare severity filter": await measure(N, () =>
    timed(a.base, "GET", "/api/admin/audit?tenantId=ten_bench_3&severity=high&limit=50", op),
  ),
  "audit deep cursor page (middle of 100k)": await measure(N, () =>
    timed(
      a.base,
      "GET",
      `/api/admin/audit?tenantId=ten_bench_3&limit=50&cursor=${encodeURIComponent(deepCursor)}`,
      op,
    ),
  ),
};
const exportRuns = [];
for (let i = 0; i < 5; i++) {
  const r = await timed(a.base, "GET", "/api/admin/audit/export?format=csv&tenantId=ten_bench_3", op);
  if (r.text.trim().split("\r\n").length !== 10_001) throw new Error("export did not return 10,000 rows");
  exportRuns.push(r.ms);
}

// Middleware overhead: the same write route on this instance (audited) and on a second one with
// auditing off, requests interleaved A, B, A, B so drift on the machine hits both alike.
const agentId = JSON.parse((await timed(a.base, "GET", "/api/dashboard/agents?limit=1", demo)).text).data[0]
  .id;
const { dir: stateB } = await benchStateDir("aegis-bench-audit-off-");
const b = await startDev({ AEGIS_AUDIT_DISABLED: "1", AEGIS_STATE_DIR: stateB });
const demoB = JSON.parse(
  (await timed(b.base, "POST", "/api/auth/login", null, { email: "admin@demo.local", password: password() }))
    .text,
).accessToken;
const agentB = JSON.parse((await timed(b.base, "GET", "/api/dashboard/agents?limit=1", demoB)).text).data[0]
  .id;
const write = (base, token, id) =>
  timed(base, "PATCH", `/api/dashboard/agents/${id}`, token, { role: `role ${Math.random()}` });
const on = [];
const off = [];
for (let i = 0; i < N * 2 + 10; i++) {
  const x = await write(a.base, demo, agentId);
  const y = await write(b.base, demoB, agentB);
  if (i >= 10) {
    on.push(x.ms);
    off.push(y.ms);
  }
}
const audited = { p50: pct(on, 50), p95: pct(on, 95) };
const unaudited = { p50: pct(off, 50), p95: pct(off, 95) };
const baselineB = await measure(N, () => timed(b.base, "GET", "/api/health"));
await a.stop();
await b.stop();
rmSync(stateB, { recursive: true, force: true });

const base = results["GET /api/health (baseline)"];
process.stdout.write(
  `\nAudit log against wrangler dev, ${ROWS.toLocaleString()} events in D1 (${perTenant.toLocaleString()} per tenant)\n`,
);
process.stdout.write(
  `${"".padEnd(46)} ${"P50 ms".padStart(8)} ${"P95 ms".padStart(8)} ${"P50 ×".padStart(7)} ${"P95 ×".padStart(7)}\n`,
);
for (const [name, r] of Object.entries(results)) {
  process.stdout.write(
    `${name.padEnd(46)} ${r.p50.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)} ${(r.p50 / base.p50).toFixed(2).padStart(7)} ${(r.p95 / base.p95).toFixed(2).padStart(7)}\n`,
  );
}
const exportP50 = pct(exportRuns, 50);
process.stdout.write(
  `\n10,000-row CSV export (streamed), 5 runs: median ${exportP50.toFixed(0)} ms, max ${Math.max(...exportRuns).toFixed(0)} ms (${(exportP50 / base.p50).toFixed(0)}× the health baseline)\n`,
);
process.stdout.write(
  `write route PATCH /api/dashboard/agents/:id: audited P50 ${audited.p50.toFixed(2)} ms, auditing off P50 ${unaudited.p50.toFixed(2)} ms → overhead ${(audited.p50 - unaudited.p50).toFixed(2)} ms (health baselines ${base.p50.toFixed(2)} / ${baselineB.p50.toFixed(2)} ms)\n`,
);
process.stdout.write(
  "(targets: filtered and deep pages P95 < 300 ms; export < 2 s; middleware overhead < 2 ms median)\n",
);
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
