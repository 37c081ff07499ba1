#!/usr/bin/env node
// `npm run dev`: the whole platform locally. Builds the web UI, applies D1 migrations to local
// state, starts wrangler dev (workerd with D1, R2, Queues, Durable Objects), seeds the operator and
// the demo tenant once through the real API, and prints where to log in.
//
// Alert emails go to a local mail stand-in (scripts/standins/mail.mjs) started here on a free port
// and handed to the Worker as MAIL_API_URL / MAIL_API_KEY; its inbox URL is printed at the end.
// Agents' model calls go through the gateway to a local stand-in for Anthropic's Messages API
// (scripts/standins/model-upstream.mjs), started here too and handed over as MODEL_UPSTREAM_URL /
// MODEL_UPSTREAM_KEY; its URL is printed at the end (GET <url>/calls lists what it received).
// Stripe calls go to a local Stripe stand-in (scripts/standins/stripe.mjs), handed over as
// STRIPE_API_URL / STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET; its POST /__deliver sends signed events
// to the platform's /api/stripe/webhook, GET <url>/__state shows customers, subscriptions and meter events.
//
// Environment: PORT (default 8787), AEGIS_STATE_DIR (default .wrangler/state), AEGIS_QUIET=1 to
// keep wrangler's own log off the terminal (it still goes to AEGIS_STATE_DIR/wrangler.log),
// AEGIS_MAIL_PORT (default: any free port) for the mail stand-in, AEGIS_MODEL_PORT (default: any
// free port) and AEGIS_MODEL_KEY (default: a random key) for the model upstream stand-in,
// AEGIS_STRIPE_PORT (default: any free port) for the Stripe stand-in.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildController } from "../controller/build.mjs";
import { buildSandboxService } from "../sdk/skill-sdk/build.mjs";
import { freePort, run, waitForHttp } from "./lib/proc.mjs";
import { start as startMailSink } from "./standins/mail.mjs";
import { start as startModelUpstream } from "./standins/model-upstream.mjs";
import { start as startStripe } from "./standins/stripe.mjs";

const root = resolve(import.meta.dirname, "..");
const port = Number(process.env.PORT ?? 8787);
const stateDir = resolve(root, process.env.AEGIS_STATE_DIR ?? ".wrangler/state");
const quiet = process.env.AEGIS_QUIET === "1";
const base = `http://127.0.0.1:${port}`;
/** The local cluster's controller process (see startLocalCluster). */
let controller = null;
const wranglerBin = resolve(root, "node_modules/.bin/wrangler");
const viteBin = resolve(root, "node_modules/.bin/vite");
const quietEnv = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  CI: "true",
};

const OPERATOR_EMAIL = "admin@aegis.local";
const DEMO_ADMIN_EMAIL = "admin@demo.local";
const DEMO_AGENTS = [
  {
    name: "Coordinator",
    role: "Plans the team's work and hands off tasks",
    modelTier: "sonnet",
    thinkingMode: "low",
  },
  { name: "Researcher", role: "Finds and summarises sources", modelTier: "opus", thinkingMode: "high" },
  { name: "Writer", role: "Drafts reports from research notes", modelTier: "sonnet", thinkingMode: "off" },
];

function log(msg) {
  process.stdout.write(`[aegis] ${msg}\n`);
}

function parseVars(text) {
  const vars = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

/**
 * Placeholders, so `.dev.vars` has every key of `.dev.vars.example` (`wrangler types --check` reads
 * `.dev.vars`); each run overrides them with `--var`, pointing at its own mail and model stand-ins.
 */
const MAIL_PLACEHOLDERS = {
  MAIL_API_URL: "set-by-npm-run-dev",
  MAIL_API_KEY: "set-by-npm-run-dev",
  MODEL_UPSTREAM_URL: "set-by-npm-run-dev",
  MODEL_UPSTREAM_KEY: "set-by-npm-run-dev",
  STRIPE_SECRET_KEY: "set-by-npm-run-dev",
  STRIPE_WEBHOOK_SECRET: "set-by-npm-run-dev",
  STRIPE_API_URL: "set-by-npm-run-dev",
  SKILL_SANDBOX_URL: "set-by-npm-run-dev",
  SKILL_SANDBOX_SECRET: "set-by-npm-run-dev",
};

/** Generates `.dev.vars` once; later runs reuse it so the seeded passwords keep working. */
function ensureDevVars() {
  const path = resolve(root, ".dev.vars");
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8");
    const existing = parseVars(text);
    const missing = Object.entries(MAIL_PLACEHOLDERS).filter(([k]) => !(k in existing));
    if (missing.length) {
      const lines = missing.map(([k, v]) => `${k}=${v}`).join("\n");
      writeFileSync(path, `${text.endsWith("\n") ? text : `${text}\n`}${lines}\n`, { mode: 0o600 });
    }
    return existing;
  }
  const password = randomBytes(12).toString("base64url");
  const vars = {
    AUTH_SECRET: randomBytes(32).toString("hex"),
    AEGIS_BOOTSTRAP_EMAIL: OPERATOR_EMAIL,
    AEGIS_BOOTSTRAP_PASSWORD: password,
    AEGIS_DEV_PASSWORD: password,
    ...MAIL_PLACEHOLDERS,
  };
  writeFileSync(
    path,
    `# Generated by npm run dev. Local secrets only; delete this file and ${process.env.AEGIS_STATE_DIR ?? ".wrangler/state"} to start over.\n${Object.entries(
      vars,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
    { mode: 0o600 },
  );
  log("wrote .dev.vars with a generated password (AEGIS_DEV_PASSWORD)");
  return vars;
}

async function api(method, path, { token, body } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function login(email, password) {
  const res = await api("POST", "/api/auth/login", { body: { email, password } });
  if (res.status !== 200) {
    throw new Error(
      `login as ${email} failed (${res.status} ${res.body?.code}). If .dev.vars was recreated, delete ${stateDir} and run again.`,
    );
  }
  return res.body.accessToken;
}

async function waitForProvisioning(token, tenantId) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const p = await api("GET", `/api/admin/tenants/${tenantId}/provisioning`, { token });
    if (p.body?.status === "completed") return;
    if (p.body?.status === "failed") {
      const step = p.body.steps.find((s) => s.status === "failed");
      throw new Error(`demo tenant provisioning failed at ${step?.name}: ${step?.error}`);
    }
    if (Date.now() > deadline) throw new Error("demo tenant provisioning did not finish within 60 s");
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Seeds through the real API, once: a second run finds the demo tenant and changes nothing. */
async function seed(vars) {
  const password = vars.AEGIS_DEV_PASSWORD;
  const op = await login(OPERATOR_EMAIL, password);
  const existing = await api("GET", "/api/admin/tenants?q=demo&limit=100", { token: op });
  if (existing.body.data.some((t) => t.slug === "demo")) {
    log("demo tenant already seeded; keeping local data");
    return;
  }
  log("seeding the demo tenant (plan growth) through the provisioning queue…");
  const created = await api("POST", "/api/admin/tenants", {
    token: op,
    body: {
      name: "Demo Company",
      slug: "demo",
      planTier: "growth",
      adminEmail: DEMO_ADMIN_EMAIL,
      adminName: "Demo Admin",
    },
  });
  if (created.status !== 202)
    throw new Error(`creating demo tenant: ${created.status} ${JSON.stringify(created.body)}`);
  await waitForProvisioning(op, created.body.tenant.id);
  const demoAdmin = await login(DEMO_ADMIN_EMAIL, created.body.admin.oneTimePassword);
  const changed = await api("POST", "/api/auth/password", {
    token: demoAdmin,
    body: { currentPassword: created.body.admin.oneTimePassword, newPassword: password },
  });
  if (changed.status !== 204) throw new Error(`setting demo admin password: ${changed.status}`);
  for (const agent of DEMO_AGENTS) {
    const res = await api("POST", "/api/dashboard/agents", { token: demoAdmin, body: agent });
    if (res.status !== 201)
      throw new Error(`creating agent ${agent.name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  log(`seeded demo tenant with ${DEMO_AGENTS.length} agents`);
}

async function main() {
  const started = Date.now();
  const vars = ensureDevVars();
  mkdirSync(stateDir, { recursive: true });

  log("building the web UI…");
  await run(viteBin, ["build", "--logLevel", "warn"], { cwd: root });

  log("applying D1 migrations to local state…");
  await run(wranglerBin, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
    cwd: root,
    env: quietEnv,
    quiet: true,
  });

  const mail = await startMailSink(Number(process.env.AEGIS_MAIL_PORT ?? 0), {
    apiKey: randomBytes(16).toString("hex"),
  });
  const model = await startModelUpstream(Number(process.env.AEGIS_MODEL_PORT ?? 0), {
    apiKey: process.env.AEGIS_MODEL_KEY || randomBytes(16).toString("hex"),
  });
  const stripe = await startStripe(Number(process.env.AEGIS_STRIPE_PORT ?? 0), {
    secretKey: `sk_test_dev_${randomBytes(12).toString("hex")}`,
    webhookSecret: `whsec_dev_${randomBytes(16).toString("hex")}`,
    webhookUrl: `${base}/api/stripe/webhook`,
  });
  // The skill dry-run sandbox: a Node service (the Worker cannot start processes), built from the SDK.
  await buildSandboxService();
  const { startSandboxService } = await import("../sdk/skill-sdk/dist/sandbox-service.gen.mjs");
  const sandbox = await startSandboxService(Number(process.env.AEGIS_SANDBOX_PORT ?? 0), {
    secret: randomBytes(24).toString("hex"),
  });
  const inspectorPort = Number(process.env.AEGIS_INSPECTOR_PORT ?? 0) || (await freePort());
  const logFile = createWriteStream(resolve(stateDir, "wrangler.log"), { flags: "a" });
  const wrangler = spawn(
    wranglerBin,
    [
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      stateDir,
      "--inspector-port",
      String(inspectorPort),
      "--show-interactive-dev-session=false",
      "--test-scheduled",
      "--var",
      `MAIL_API_URL:${mail.sendUrl}`,
      "--var",
      `MAIL_API_KEY:${mail.apiKey}`,
      "--var",
      `MODEL_UPSTREAM_URL:${model.url}`,
      "--var",
      `MODEL_UPSTREAM_KEY:${model.apiKey}`,
      "--var",
      `STRIPE_API_URL:${stripe.url}`,
      "--var",
      `STRIPE_SECRET_KEY:${stripe.secretKey}`,
      "--var",
      `STRIPE_WEBHOOK_SECRET:${stripe.webhookSecret}`,
      "--var",
      `SKILL_SANDBOX_URL:${sandbox.url}`,
      "--var",
      `SKILL_SANDBOX_SECRET:${sandbox.secret}`,
      // Benchmarks only (bench/audit.mjs): the same platform with audit writing off.
      ...(process.env.AEGIS_AUDIT_DISABLED === "1" ? ["--var", "AEGIS_AUDIT_DISABLED:1"] : []),
    ],
    { cwd: root, env: quietEnv, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  for (const stream of [wrangler.stdout, wrangler.stderr]) {
    stream.on("data", (chunk) => {
      logFile.write(chunk);
      if (!quiet) process.stdout.write(chunk);
    });
  }
  let stopping = false;
  const stop = (code = 0) => {
    if (stopping) return;
    stopping = true;
    try {
      process.kill(-wrangler.pid, "SIGINT");
    } catch {}
    controller?.kill("SIGTERM");
    model.close();
    stripe.close();
    sandbox.close();
    setTimeout(() => process.exit(code), 1500).unref();
  };
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
  wrangler.on("exit", (code) => {
    if (!stopping) {
      log(`wrangler dev exited (${code}); see ${resolve(stateDir, "wrangler.log")}`);
      process.exit(code ?? 1);
    }
  });

  await waitForHttp(`${base}/api/health`, 60_000);
  log(`first page ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  try {
    await seed(vars);
  } catch (err) {
    log(`seeding failed: ${err.message}`);
    stop(1);
    return;
  }
  try {
    controller = await startLocalCluster(vars);
  } catch (err) {
    log(`the local cluster did not start: ${err.message}`);
  }
  const pw = vars.AEGIS_DEV_PASSWORD;
  process.stdout.write(
    [
      "",
      "  Aegis is running",
      `  URL:       http://localhost:${port}`,
      `  Operator:  ${OPERATOR_EMAIL} / ${pw}`,
      `  Demo admin (tenant "demo", plan growth): ${DEMO_ADMIN_EMAIL} / ${pw}`,
      "  (the password is AEGIS_DEV_PASSWORD in .dev.vars)",
      `  Mail:      ${mail.url}/  (alert emails land in this local inbox)`,
      `  Model:     ${model.url}  (the local model upstream)`,
      `  Stripe:    ${stripe.url}/__state  (the local Stripe stand-in)`,
      ...(controller
        ? ["  Cluster:   the demo tenant's agents run as local processes (aegis-controller; controller.log)"]
        : []),
      "  Stop with Ctrl-C.",
      "",
      "",
    ].join("\n"),
  );
}

/**
 * A local cluster for the demo tenant: registered once (the controller's state lives beside the
 * platform's), then `aegis-controller run --driver local` starts a real agent runtime process per
 * agent. AEGIS_NO_CLUSTER=1 leaves it out (benchmarks that measure the platform alone).
 */
async function startLocalCluster(vars) {
  if (process.env.AEGIS_NO_CLUSTER === "1") return null;
  await buildController();
  const bin = resolve(root, "controller/bin/aegis-controller.mjs");
  const dir = resolve(stateDir, "controller");
  if (!existsSync(resolve(dir, "controller.json"))) {
    const op = await login(OPERATOR_EMAIL, vars.AEGIS_DEV_PASSWORD);
    const tenants = await api("GET", "/api/admin/tenants?q=demo&limit=100", { token: op });
    const demo = tenants.body.data.find((t) => t.slug === "demo");
    if (!demo) return null;
    const created = await api("POST", "/api/admin/clusters", {
      token: op,
      body: { name: "local", tenantIds: [demo.id] },
    });
    if (created.status !== 201) throw new Error(`creating the local cluster: ${created.status}`);
    await run(
      process.execPath,
      [
        bin,
        "register",
        "--url",
        base,
        "--token",
        created.body.registrationToken,
        "--name",
        "npm run dev",
        "--state-dir",
        dir,
      ],
      { cwd: root, quiet: true },
    );
  }
  const controllerLog = createWriteStream(resolve(stateDir, "controller.log"), { flags: "a" });
  const child = spawn(process.execPath, [bin, "run", "--state-dir", dir, "--driver", "local"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => controllerLog.write(chunk));
  log("local cluster: the controller runs the demo tenant's agents as processes (log: controller.log)");
  return child;
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exit(1);
});
