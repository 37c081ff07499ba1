import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, inject, it, vi } from "vitest";
import { agents, quotaNotifications, usageCalls } from "../worker/db/schema";
import type { UsageEvent } from "../worker/features/gateway/usage";
import worker from "../worker/index";
import { runQuotaReset } from "../worker/jobs/quota-reset";
import { newId } from "../worker/lib/ids";
import { auditRows, call, callJson, db, env, type Json, operatorToken, provisionTenant } from "./helpers";
import { type AgentFixture, createAgent } from "./sockets";

type Tenant = Awaited<ReturnType<typeof provisionTenant>>;

let op: string | undefined;
async function tenant(planTier: "starter" | "growth" | "enterprise" = "growth"): Promise<Tenant> {
  op ??= await operatorToken();
  return provisionTenant(op, { planTier });
}

const upstream = inject("modelUpstreamUrl");
const upstreamCalls = async (): Promise<number> =>
  ((await (await fetch(`${upstream}/calls`)).json()) as { data: unknown[] }).data.length;

const ask = (text = "hello there") => ({
  model: "claude-sonnet-4-5",
  max_tokens: 256,
  messages: [{ role: "user", content: text }],
});

function gateway(a: AgentFixture, body: unknown, headers: Record<string, string> = {}) {
  return callJson("POST", "/v1/models/messages", { token: a.token, body, headers });
}

async function usage(t: Tenant, month?: string) {
  const res = await callJson("GET", `/api/dashboard/billing/usage${month ? `?month=${month}` : ""}`, {
    token: t.adminToken,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
const agentUsage = async (t: Tenant, agentId: string, month?: string) =>
  (await usage(t, month)).agents.find((a: Json) => a.agentId === agentId);

/** Feeds usage events to the real USAGE consumer as one batch, as the queue would. */
async function deliverUsage(events: UsageEvent[]) {
  const batch = createMessageBatch(
    "aegis-usage",
    events.map((event, i) => ({
      id: `usage-${i}-${event.id}`,
      timestamp: new Date(),
      attempts: 1,
      body: { kind: "usage", event },
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

function usageEvent(t: Tenant, a: AgentFixture, input: number, output = 0, at = new Date()): UsageEvent {
  return {
    id: newId("use"),
    tenantId: t.tenantId,
    agentId: a.id,
    model: "claude-sonnet-4-5",
    modelTier: "sonnet",
    at: at.toISOString(),
    inputTokens: input,
    outputTokens: output,
    thinkingTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    usageMissing: false,
    stream: false,
  };
}

async function setQuota(t: Tenant, a: AgentFixture, quota: number) {
  const res = await callJson("PATCH", `/api/dashboard/agents/${a.id}`, {
    token: t.adminToken,
    body: { monthlyTokenQuotaOverride: quota },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const agentRow = async (id: string) => db().select().from(agents).where(eq(agents.id, id)).get();

describe("model gateway", () => {
  it("forwards a call, answers with the upstream's message, and records its usage once", async () => {
    const t = await tenant();
    const a = await createAgent(t, "caller");
    const res = await gateway(a, ask("summarise the sprint"));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.type).toBe("message");
    expect(res.body.content[0].text).toContain("summarise the sprint");
    const reported = res.body.usage;
    await vi.waitFor(async () => {
      const u = await agentUsage(t, a.id);
      expect(u.calls).toBe(1);
      expect(u.inputTokens).toBe(reported.input_tokens);
      expect(u.outputTokens).toBe(reported.output_tokens);
      expect(u.monthlyTokensUsed).toBe(reported.input_tokens + reported.output_tokens);
      expect(u.estimatedCostUsd).toBeGreaterThanOrEqual(0);
    });
    const agent = await callJson("GET", `/api/dashboard/agents/${a.id}`, { token: t.adminToken });
    expect(agent.body.agent.monthlyTokensUsed).toBe(reported.input_tokens + reported.output_tokens);
  });

  it("streams server-sent events through unchanged and reads the final usage from them", async () => {
    const t = await tenant();
    const a = await createAgent(t, "streamer");
    const res = await call("POST", "/v1/models/messages", {
      token: a.token,
      body: { ...ask("stream me a reply"), stream: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\w+)/gm)].map((m) => m[1]);
    expect(events[0]).toBe("message_start");
    expect(events.at(-1)).toBe("message_stop");
    const delta = text
      .split("\n\n")
      .find((b) => b.startsWith("event: message_delta"))
      ?.split("\n")
      .find((l) => l.startsWith("data:"));
    const final = JSON.parse(delta?.slice(5) ?? "{}").usage.output_tokens;
    await vi.waitFor(async () => {
      const u = await agentUsage(t, a.id);
      expect(u.calls).toBe(1);
      expect(u.outputTokens).toBe(final);
      expect(u.inputTokens).toBeGreaterThan(0);
    });
  });

  it("splits thinking tokens out of the output", async () => {
    const t = await tenant("growth");
    const created = await callJson("POST", "/api/dashboard/agents", {
      token: t.adminToken,
      body: { name: "thinker", modelTier: "opus", thinkingMode: "high" },
    });
    const tok = await callJson("POST", "/v1/auth/token", {
      body: { agentId: created.body.agent.id, credential: created.body.credential },
    });
    const a = { id: created.body.agent.id, name: "thinker", credential: "", token: tok.body.token };
    const res = await gateway(a, {
      ...ask("think about it"),
      model: "claude-opus-4-1",
      max_tokens: 20000,
      thinking: { type: "enabled", budget_tokens: 10000 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const thinking = res.body.usage.thinking_tokens;
    expect(thinking).toBeGreaterThan(0);
    await vi.waitFor(async () => {
      const u = await agentUsage(t, a.id);
      expect(u.thinkingTokens).toBe(thinking);
      expect(u.outputTokens).toBe(res.body.usage.output_tokens - thinking);
    });
  });

  it("refuses a model or thinking mode the plan forbids with 403, before any upstream call", async () => {
    const t = await tenant("starter");
    const a = await createAgent(t, "starter-agent");
    const before = await upstreamCalls();
    const opus = await gateway(a, { ...ask(), model: "claude-opus-4-1" });
    expect(opus.status).toBe(403);
    expect(opus.body.code).toBe("model_not_allowed");
    const haiku = await gateway(a, { ...ask(), model: "claude-3-5-haiku-latest" });
    expect(haiku.status).toBe(403);
    const high = await gateway(a, {
      ...ask(),
      max_tokens: 20000,
      thinking: { type: "enabled", budget_tokens: 10000 },
    });
    expect(high.status).toBe(403);
    expect(high.body.code).toBe("thinking_mode_not_allowed");
    expect(await upstreamCalls()).toBe(before);
  });

  it("answers 400 with field paths for a malformed request and for an unknown model", async () => {
    const t = await tenant();
    const a = await createAgent(t, "sloppy");
    const missing = await gateway(a, { model: "claude-sonnet-4-5", messages: [] });
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.body.details)).toEqual(expect.arrayContaining(["max_tokens", "messages"]));
    const unknown = await gateway(a, { ...ask(), model: "gpt-5" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe("unknown_model");
    expect(unknown.body.details.model).toBeDefined();
  });

  it("answers 401 without a token or with a forged one", async () => {
    const none = await callJson("POST", "/v1/models/messages", { body: ask() });
    expect(none.status).toBe(401);
    const forged = await callJson("POST", "/v1/models/messages", {
      token: "eyJhbGciOi.forged.token",
      body: ask(),
    });
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe("invalid_token");
    // A dashboard session is not an agent token.
    const t = await tenant();
    const asAdmin = await callJson("POST", "/v1/models/messages", { token: t.adminToken, body: ask() });
    expect(asAdmin.status).toBe(401);
  });

  it("gives a 502 for an upstream failure and a 504 for a timeout, and records no usage for either", async () => {
    const t = await tenant();
    const a = await createAgent(t, "unlucky");
    const failed = await gateway(a, ask(), { "x-standin-behavior": "error:500" });
    expect(failed.status).toBe(502);
    expect(failed.body.code).toBe("upstream_error");
    const overloaded = await gateway(a, ask(), { "x-standin-behavior": "error:529" });
    expect(overloaded.status).toBe(502);
    const slow = await gateway(a, ask(), { "x-standin-behavior": "delay:5000" });
    expect(slow.status).toBe(504);
    expect(slow.body.code).toBe("upstream_timeout");
    expect(JSON.stringify(slow.body)).not.toContain("test-upstream-key");
    // One good call afterwards: once it is recorded, nothing else is.
    expect((await gateway(a, ask())).status).toBe(200);
    await vi.waitFor(async () => expect((await agentUsage(t, a.id)).calls).toBe(1));
  });

  it("records a response without usage as such (zero tokens, flagged) and raises an alert", async () => {
    const t = await tenant();
    const a = await createAgent(t, "mute");
    const res = await gateway(a, ask(), { "x-standin-behavior": "no-usage" });
    expect(res.status).toBe(200);
    await vi.waitFor(async () => {
      const u = await agentUsage(t, a.id);
      expect(u.calls).toBe(1);
      expect(u.missingUsageCalls).toBe(1);
      expect(u.monthlyTokensUsed).toBe(0);
    });
    await vi.waitFor(async () => {
      const rows = await auditRows(t.tenantId);
      expect(rows.some((r) => r.action === "model.usage_missing")).toBe(true);
    });
    await vi.waitFor(async () => {
      const alerts = await callJson("GET", "/api/dashboard/alerts", { token: t.adminToken });
      expect(alerts.body.data.some((al: Json) => al.rule === "model_usage_missing")).toBe(true);
    });
  });
});

describe("usage aggregation and quota states", () => {
  it("a redelivered batch counts nothing twice", async () => {
    const t = await tenant();
    const a = await createAgent(t, "counted");
    const events = [usageEvent(t, a, 1000, 500), usageEvent(t, a, 2000, 0)];
    await deliverUsage(events);
    await deliverUsage(events);
    const u = await agentUsage(t, a.id);
    expect(u.calls).toBe(2);
    expect(u.monthlyTokensUsed).toBe(3500);
    const rows = await db().select().from(usageCalls).where(eq(usageCalls.agentId, a.id)).all();
    expect(rows).toHaveLength(2);
  });

  it("walks 80/100/120/150%, notifies each threshold once (email, audit, feed) and enforces at the gateway", async () => {
    const t = await tenant();
    const a = await createAgent(t, "hungry");
    await setQuota(t, a, 10_000);
    const mail = inject("mailUrl");
    const mailsFor = async () =>
      (
        (await (await fetch(`${mail}/messages?to=${encodeURIComponent(t.adminEmail)}`)).json()) as {
          data: Json[];
        }
      ).data.filter((m) => m.subject.includes("hungry"));

    await deliverUsage([usageEvent(t, a, 8_000)]);
    expect((await agentRow(a.id))?.quotaState).toBe("warning");
    await deliverUsage([usageEvent(t, a, 2_000)]);
    expect((await agentRow(a.id))?.quotaState).toBe("grace");
    // Still below 120%: calls go through.
    expect((await gateway(a, ask())).status).toBe(200);
    await deliverUsage([usageEvent(t, a, 2_500)]);
    expect((await agentRow(a.id))?.quotaState).toBe("rate_limited");

    // rate_limited: one call per 10 s; the next gets 429 with Retry-After.
    expect((await gateway(a, ask())).status).toBe(200);
    const limited = await gateway(a, ask());
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe("quota_rate_limited");
    expect(Number(limited.res.headers.get("retry-after"))).toBeGreaterThan(0);

    await deliverUsage([usageEvent(t, a, 3_000)]);
    expect((await agentRow(a.id))?.quotaState).toBe("paused");
    const paused = await gateway(a, ask());
    expect(paused.status).toBe(429);
    expect(paused.body.code).toBe("quota_paused");

    await vi.waitFor(async () => {
      const subjects = (await mailsFor()).map((m) => m.subject);
      expect(subjects.filter((s) => s.includes("80%"))).toHaveLength(1);
      expect(subjects.filter((s) => s.includes("100%"))).toHaveLength(1);
      expect(subjects.filter((s) => s.includes("120%"))).toHaveLength(1);
      expect(subjects.filter((s) => s.includes("150%"))).toHaveLength(1);
    });
    // More usage in the same month notifies nothing again.
    await deliverUsage([usageEvent(t, a, 100)]);
    const notes = await db()
      .select()
      .from(quotaNotifications)
      .where(eq(quotaNotifications.agentId, a.id))
      .all();
    expect(notes.map((n) => n.state).sort()).toEqual(["grace", "paused", "rate_limited", "warning"]);
    expect(notes.every((n) => n.notifiedAt)).toBe(true);
    await vi.waitFor(async () => {
      const actions = (await auditRows(t.tenantId)).map((r) => r.action);
      for (const s of ["warning", "grace", "rate_limited", "paused"])
        expect(actions).toContain(`agent.quota_${s}`);
    });
  });

  it("acknowledging a paused agent lets it continue (rate limited) up to 200%", async () => {
    const t = await tenant();
    const a = await createAgent(t, "paused-one");
    await setQuota(t, a, 10_000);
    await deliverUsage([usageEvent(t, a, 16_000)]);
    expect((await gateway(a, ask())).body.code).toBe("quota_paused");

    const ack = await callJson("POST", `/api/dashboard/billing/agents/${a.id}/acknowledge`, {
      token: t.adminToken,
    });
    expect(ack.status, JSON.stringify(ack.body)).toBe(200);
    expect(ack.body.agent.quotaState).toBe("rate_limited");
    expect((await gateway(a, ask())).status).toBe(200);
    const again = await callJson("POST", `/api/dashboard/billing/agents/${a.id}/acknowledge`, {
      token: t.adminToken,
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("not_paused");

    // Past 200% it pauses again, whatever was acknowledged.
    await deliverUsage([usageEvent(t, a, 5_000)]);
    expect((await agentRow(a.id))?.quotaState).toBe("paused");
    await vi.waitFor(async () => {
      const rows = await auditRows(t.tenantId);
      expect(rows.some((r) => r.action === "agent.quota_acknowledged")).toBe(true);
    });
  });

  it("raising the quota lifts a pause at once", async () => {
    const t = await tenant();
    const a = await createAgent(t, "raised");
    await setQuota(t, a, 10_000);
    await deliverUsage([usageEvent(t, a, 15_500)]);
    expect((await gateway(a, ask())).body.code).toBe("quota_paused");
    await setQuota(t, a, 100_000);
    expect((await agentRow(a.id))?.quotaState).toBe("normal");
    expect((await gateway(a, ask())).status).toBe(200);
  });

  it("the monthly reset starts every agent at zero and keeps the history", async () => {
    const t = await tenant();
    const a = await createAgent(t, "monthly");
    await setQuota(t, a, 10_000);
    const lastMonth = new Date(Date.UTC(2026, 9, 20, 12));
    await deliverUsage([usageEvent(t, a, 16_000, 0, lastMonth)]);
    expect((await agentRow(a.id))?.quotaState).toBe("paused");
    const reset = await runQuotaReset(env, new Date(Date.UTC(2026, 10, 1, 0, 0, 5)));
    expect(reset).toBeGreaterThanOrEqual(1);
    const row = await agentRow(a.id);
    expect(row?.monthlyTokensUsed).toBe(0);
    expect(row?.quotaState).toBe("normal");
    expect(row?.usageMonth).toBe("2026-11");
    expect(row?.tokenQuotaResetAt).toBe("2026-12-01T00:00:00.000Z");
    expect((await agentUsage(t, a.id, "2026-10")).monthlyTokensUsed).toBe(16_000);
    expect((await gateway(a, ask())).status).toBe(200);
    // Re-running the reset changes nothing more.
    expect(await runQuotaReset(env, new Date(Date.UTC(2026, 10, 1, 0, 0, 5)))).toBe(0);
  });
});

describe("overage", () => {
  it("starter cannot turn it on; growth can, and then usage beyond 100% is priced at the overage rates", async () => {
    const starter = await tenant("starter");
    const refused = await callJson("PUT", "/api/dashboard/billing/overage", {
      token: starter.adminToken,
      body: { enabled: true },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("plan_not_eligible");

    const t = await tenant("growth");
    const view = await callJson("GET", "/api/dashboard/billing/overage", { token: t.adminToken });
    expect(view.body).toMatchObject({
      enabled: false,
      eligible: true,
      rates: { sonnet: { input: 5, output: 20 } },
    });
    const on = await callJson("PUT", "/api/dashboard/billing/overage", {
      token: t.adminToken,
      body: { enabled: true },
    });
    expect(on.status).toBe(200);
    expect(on.body.enabled).toBe(true);

    const a = await createAgent(t, "overager");
    await setQuota(t, a, 10_000);
    // 9,000 tokens, then a call of 2,000 input: 1,000 of them beyond the quota.
    await deliverUsage([usageEvent(t, a, 9_000)]);
    await deliverUsage([usageEvent(t, a, 2_000)]);
    const u = await agentUsage(t, a.id);
    // 1,000 input tokens × $5 / 1M = $0.005 → shown as $0.01 (cents), exact in micros below.
    const rows = await db().select().from(usageCalls).where(eq(usageCalls.agentId, a.id)).all();
    expect(rows.reduce((s, r) => s + r.overageMicros, 0)).toBe(5_000);
    expect(rows.reduce((s, r) => s + r.overageInputTokens, 0)).toBe(1_000);
    expect(u.overageUsd).toBe(0.01);
    // With overage on, 150% only notifies: the gateway keeps admitting calls.
    await deliverUsage([usageEvent(t, a, 10_000)]);
    expect((await agentRow(a.id))?.quotaState).toBe("paused");
    expect((await gateway(a, ask())).status).toBe(200);
    await vi.waitFor(async () => {
      const rows = await auditRows(t.tenantId);
      expect(rows.some((r) => r.action === "billing.overage_updated")).toBe(true);
    });
  });
});

describe("billing API", () => {
  it("overview prices the plan, included and extra agents and surcharges exactly per pricing.md", async () => {
    const t = await tenant("growth");
    const specs = [
      ["a1", "sonnet", "off"],
      ["a2", "sonnet", "high"],
      ["a3", "opus", "off"],
      ["a4", "sonnet", "low"],
      ["a5", "sonnet", "off"],
      ["a6", "opus", "high"],
      ["a7", "sonnet", "off"],
    ] as const;
    for (const [name, modelTier, thinkingMode] of specs) {
      const res = await callJson("POST", "/api/dashboard/agents", {
        token: t.adminToken,
        body: { name, modelTier, thinkingMode },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const res = await callJson("GET", "/api/dashboard/billing/overview", { token: t.adminToken });
    expect(res.status).toBe(200);
    const o = res.body;
    expect(o.plan).toMatchObject({
      tier: "growth",
      platformFeeUsd: 299,
      includedAgents: 5,
      overageEligible: true,
    });
    const byName = Object.fromEntries(o.agents.map((a: Json) => [a.name, a]));
    expect(byName.a1).toMatchObject({ included: true, feeUsd: 0, thinkingSurchargeUsd: 0 });
    expect(byName.a2).toMatchObject({ included: true, feeUsd: 0, thinkingSurchargeUsd: 20 });
    expect(byName.a6).toMatchObject({ included: false, feeUsd: 99, thinkingSurchargeUsd: 20 });
    expect(byName.a7).toMatchObject({ included: false, feeUsd: 49, thinkingSurchargeUsd: 0 });
    expect(o.totals).toMatchObject({
      platformFeeUsd: 299,
      agentFeesUsd: 148,
      thinkingSurchargesUsd: 40,
      overageUsd: 0,
      subtotalUsd: 487,
    });
    expect(o.nextBillingDate).toMatch(/^\d{4}-\d{2}-01T00:00:00/);
    expect(o.projection.subtotalUsd).toBe(487);
  });

  it("usage: 400 for a malformed month, an empty month is empty, members may read", async () => {
    const t = await tenant();
    const bad = await callJson("GET", "/api/dashboard/billing/usage?month=2026-13", { token: t.adminToken });
    expect(bad.status).toBe(400);
    expect(bad.body.details["query.month"]).toBeDefined();
    const old = await usage(t, "2020-01");
    expect(old.daily).toEqual([]);
    const none = await callJson("GET", "/api/dashboard/billing/usage");
    expect(none.status).toBe(401);
  });

  it("another tenant's agent is a 404, and the attempt is audited", async () => {
    const t1 = await tenant();
    const t2 = await tenant();
    const a = await createAgent(t1, "theirs");
    const res = await callJson("POST", `/api/dashboard/billing/agents/${a.id}/acknowledge`, {
      token: t2.adminToken,
    });
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain("theirs");
    const missing = await callJson("POST", "/api/dashboard/billing/agents/agt_nope/acknowledge", {
      token: t1.adminToken,
    });
    expect(missing.status).toBe(404);
    await vi.waitFor(async () => {
      const rows = await auditRows(t2.tenantId);
      expect(rows.some((r) => r.action === "security.cross_tenant_attempt")).toBe(true);
    });
  });

  it("an operator changing the plan re-prices and re-profiles every agent", async () => {
    const t = await tenant("growth");
    const created = await callJson("POST", "/api/dashboard/agents", {
      token: t.adminToken,
      body: { name: "big", modelTier: "opus", thinkingMode: "off" },
    });
    const tok = await callJson("POST", "/v1/auth/token", {
      body: { agentId: created.body.agent.id, credential: created.body.credential },
    });
    const a = { id: created.body.agent.id, name: "big", credential: "", token: tok.body.token };
    expect((await gateway(a, { ...ask(), model: "claude-opus-4-1" })).status).toBe(200);
    op ??= await operatorToken();
    const patched = await callJson("PATCH", `/api/admin/tenants/${t.tenantId}`, {
      token: op,
      body: { planTier: "starter" },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const refused = await gateway(a, { ...ask(), model: "claude-opus-4-1" });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("model_not_allowed");
  });
});
