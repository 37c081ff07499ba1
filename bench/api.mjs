#!/usr/bin/env node
// `npm run bench:api`: P50/P95 of dashboard reads and writes against `npm run dev` (wrangler dev,
// local workerd), each beside a baseline measured in the same run: GET /api/health, the floor of
// a request through the Worker. Figures are ratios to that floor plus absolute milliseconds.
import { rmSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { benchStateDir, startPlatform } from "../scripts/lib/proc.mjs";

const READS = Number(process.env.BENCH_READS ?? 300);
const WRITES = Number(process.env.BENCH_WRITES ?? 150);
const WARMUP = 20;

const { dir: stateDir, label: stateLabel } = await benchStateDir("aegis-bench-");
process.stdout.write(`local state on ${stateLabel}\n`);
const platform = await startPlatform({ stateDir });
const { base, password } = platform;

async function req(method, path, token, body) {
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
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return { ms, body: text ? JSON.parse(text) : null };
}

const login = async (email) =>
  (await req("POST", "/api/auth/login", null, { email, password })).body.accessToken;
const op = await login("admin@aegis.local");
// An enterprise tenant has no agent limit, so the write benchmark can create as many as it likes.
const created = await req("POST", "/api/admin/tenants", op, {
  name: "Bench Co",
  slug: "bench",
  planTier: "enterprise",
  adminEmail: "admin@bench.local",
  adminName: "Bench",
});
for (;;) {
  const p = await req("GET", `/api/admin/tenants/${created.body.tenant.id}/provisioning`, op);
  if (p.body.status === "completed") break;
  if (p.body.status === "failed") throw new Error("bench tenant provisioning failed");
  await new Promise((r) => setTimeout(r, 100));
}
const admin = (
  await req("POST", "/api/auth/login", null, {
    email: "admin@bench.local",
    password: created.body.admin.oneTimePassword,
  })
).body.accessToken;
for (let i = 0; i < 10; i++) {
  await req("POST", "/api/dashboard/agents", admin, {
    name: `Seed ${i}`,
    modelTier: "sonnet",
    thinkingMode: "off",
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
async function measure(n, fn) {
  for (let i = 0; i < WARMUP; i++) await fn(-1 - i);
  const times = [];
  for (let i = 0; i < n; i++) times.push((await fn(i)).ms);
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p95: pct(times, 95), n };
}

let w = 0;
const results = {
  "GET /api/health (baseline)": await measure(READS, () => req("GET", "/api/health")),
  "GET /api/dashboard/agents": await measure(READS, () => req("GET", "/api/dashboard/agents", admin)),
  "GET /api/dashboard/stats": await measure(READS, () => req("GET", "/api/dashboard/stats", admin)),
  "POST /api/dashboard/agents": await measure(WRITES, () =>
    req("POST", "/api/dashboard/agents", admin, {
      name: `Bench ${w++}`,
      modelTier: "sonnet",
      thinkingMode: "off",
    }),
  ),
};
const baseline = results["GET /api/health (baseline)"];
process.stdout.write(`\nAPI latency against wrangler dev (local workerd), sequential requests\n`);
process.stdout.write(
  `${"route".padEnd(34)} ${"n".padStart(5)} ${"P50 ms".padStart(8)} ${"P95 ms".padStart(8)} ${"P50 ×".padStart(7)} ${"P95 ×".padStart(7)}\n`,
);
for (const [name, r] of Object.entries(results)) {
  process.stdout.write(
    `${name.padEnd(34)} ${String(r.n).padStart(5)} ${r.p50.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)} ${(r.p50 / baseline.p50).toFixed(2).padStart(7)} ${(r.p95 / baseline.p95).toFixed(2).padStart(7)}\n`,
  );
}
process.stdout.write(
  `(× = ratio to the baseline in the same run; targets: reads P95 < 50 ms, writes P95 < 100 ms)\n`,
);

await platform.stop();
rmSync(stateDir, { recursive: true, force: true });
