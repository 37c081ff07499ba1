import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { agentSkills, agents } from "../worker/db/schema";
import { auditRows, call, callJson, db, operatorToken, provisionTenant, type TenantFixture } from "./helpers";

let op: string;
let growth: TenantFixture;
let starter: TenantFixture;

beforeAll(async () => {
  op = await operatorToken();
  growth = await provisionTenant(op, { planTier: "growth" });
  starter = await provisionTenant(op, { planTier: "starter" });
});

const create = (t: TenantFixture, body: Record<string, unknown>) =>
  callJson("POST", "/api/dashboard/agents", { token: t.adminToken, body });

describe("agent creation with plans and prices", () => {
  it("previews the price, creates the agent with its credential once, and installs the 10 core skills", async () => {
    const preview = await callJson(
      "GET",
      "/api/dashboard/agents/pricing-preview?modelTier=sonnet&thinkingMode=off",
      {
        token: growth.adminToken,
      },
    );
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      included: true,
      monthlyFeeUsd: 0,
      label: "Included",
      newMonthlyTotalUsd: 299,
    });

    const created = await create(growth, {
      name: "Researcher",
      role: "Finds facts",
      modelTier: "opus",
      thinkingMode: "high",
    });
    expect(created.status).toBe(201);
    expect(created.body.credential).toMatch(/^agk_/);
    expect(created.body.agent).toMatchObject({
      name: "Researcher",
      modelTier: "opus",
      thinkingMode: "high",
      included: true,
      costPerMonth: 20,
      monthlyTokensUsed: 0,
      monthlyTokenQuotaOverride: null,
      quota: 2_500_000,
      quotaState: "normal",
      runtime: { status: "pending", restarts: 0 },
    });
    expect(Date.parse(created.body.agent.tokenQuotaResetAt)).toBeGreaterThan(Date.now());
    expect(JSON.stringify(created.body.agent)).not.toContain(created.body.credential);

    const installed = await callJson(
      "GET",
      `/api/dashboard/skills/installed?agentId=${created.body.agent.id}`,
      {
        token: growth.adminToken,
      },
    );
    expect(installed.body.data).toHaveLength(10);
    expect(installed.body.data.every((s: { isCore: boolean }) => s.isCore)).toBe(true);

    // the credential exchanges for a short-lived agent token
    const token = await callJson("POST", "/v1/auth/token", {
      body: { agentId: created.body.agent.id, credential: created.body.credential },
    });
    expect(token.status).toBe(200);
    expect(token.body.expiresIn).toBe(900);
    const badCred = await callJson("POST", "/v1/auth/token", {
      body: { agentId: created.body.agent.id, credential: "agk_wrong" },
    });
    expect(badCred.status).toBe(401);
    // an agent token is not a dashboard credential
    expect((await call("GET", "/api/dashboard/agents", { token: token.body.token })).status).toBe(401);
  });

  it("charges beyond the included agents and shows the new monthly total", async () => {
    for (let i = 0; i < 4; i++) {
      expect(
        (await create(growth, { name: `Worker ${i}`, modelTier: "sonnet", thinkingMode: "off" })).status,
      ).toBe(201);
    }
    // growth includes 5: the researcher + 4 workers; the sixth sonnet costs $49
    const preview = await callJson(
      "GET",
      "/api/dashboard/agents/pricing-preview?modelTier=sonnet&thinkingMode=off",
      {
        token: growth.adminToken,
      },
    );
    expect(preview.body).toMatchObject({ included: false, monthlyFeeUsd: 49, label: "+$49/mo" });
    expect(preview.body.newMonthlyTotalUsd).toBe(preview.body.currentMonthlyTotalUsd + 49);
    const sixth = await create(growth, { name: "Sixth", modelTier: "sonnet", thinkingMode: "off" });
    expect(sixth.body.agent).toMatchObject({ included: false, costPerMonth: 49 });
    const stats = await callJson("GET", "/api/dashboard/stats", { token: growth.adminToken });
    expect(stats.body.monthlyTotalUsd).toBe(preview.body.newMonthlyTotalUsd);
    expect(stats.body.agents.total).toBe(6);
  });

  it("refuses models and thinking modes the plan forbids with 403 and writes nothing", async () => {
    const before = (await db().select().from(agents).where(eq(agents.tenantId, starter.tenantId)).all())
      .length;
    const opus = await create(starter, { name: "Big", modelTier: "opus", thinkingMode: "off" });
    expect(opus.status).toBe(403);
    expect(opus.body).toMatchObject({
      code: "model_not_allowed",
      message: "Plan 'starter' does not allow model 'opus'",
    });
    const high = await create(starter, { name: "Deep", modelTier: "sonnet", thinkingMode: "high" });
    expect(high.status).toBe(403);
    expect(high.body.code).toBe("thinking_mode_not_allowed");
    expect((await db().select().from(agents).where(eq(agents.tenantId, starter.tenantId)).all()).length).toBe(
      before,
    );

    const options = await callJson("GET", "/api/dashboard/agents/options", { token: starter.adminToken });
    const opusOpt = options.body.models.find((m: { tier: string }) => m.tier === "opus");
    expect(opusOpt).toMatchObject({ allowed: false, reason: "Not available on the Starter plan" });
    expect(options.body.thinkingModes.find((m: { mode: string }) => m.mode === "high").allowed).toBe(false);
  });

  it("enforces the plan's agent limit with 403 agent_limit_reached", async () => {
    const t = await provisionTenant(op, { planTier: "starter" });
    for (let i = 0; i < 5; i++) {
      expect((await create(t, { name: `A${i}`, modelTier: "sonnet", thinkingMode: "low" })).status).toBe(201);
    }
    const sixth = await create(t, { name: "A5", modelTier: "sonnet", thinkingMode: "off" });
    expect(sixth.status).toBe(403);
    expect(sixth.body.code).toBe("agent_limit_reached");
    const options = await callJson("GET", "/api/dashboard/agents/options", { token: t.adminToken });
    expect(options.body).toMatchObject({ canCreate: false, agentCount: 5, maxAgents: 5 });
  });

  it("validates the body with field paths, and refuses duplicate names with 409", async () => {
    const bad = await create(growth, { name: "", modelTier: "gpt", thinkingMode: "max", skills: "nope" });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details).sort()).toEqual(["modelTier", "name", "skills", "thinkingMode"]);
    const unknownSkill = await create(growth, {
      name: "Skilled",
      modelTier: "sonnet",
      thinkingMode: "off",
      skills: ["no-such-skill"],
    });
    expect(unknownSkill.status).toBe(400);
    expect(unknownSkill.body.details["skills.0"]).toEqual(["Unknown skill 'no-such-skill'"]);
    expect(
      (await create(growth, { name: "Researcher", modelTier: "sonnet", thinkingMode: "off" })).status,
    ).toBe(409);
  });

  it("refuses an oversized body with 413", async () => {
    const res = await call("POST", "/api/dashboard/agents", {
      token: growth.adminToken,
      body: { name: "Big", role: "x".repeat(1_100_000), modelTier: "sonnet", thinkingMode: "off" },
    });
    expect(res.status).toBe(413);
    expect((await res.json<{ code: string }>()).code).toBe("payload_too_large");
  });
});

describe("skills on agents", () => {
  it("installs and uninstalls catalogue skills; core skills cannot be removed", async () => {
    const agent = (await create(growth, { name: "Skill Host", modelTier: "sonnet", thinkingMode: "off" }))
      .body.agent;
    const catalog = await callJson("GET", "/api/dashboard/skills", { token: growth.adminToken });
    const publicSkill = catalog.body.data.find((s: { isCore: boolean }) => !s.isCore);
    const coreSkill = catalog.body.data.find((s: { isCore: boolean }) => s.isCore);
    expect(publicSkill.permissions.length).toBeGreaterThan(0);

    const install = await callJson(
      "POST",
      `/api/dashboard/agents/${agent.id}/skills/${publicSkill.id}/install`,
      {
        token: growth.adminToken,
        body: {},
      },
    );
    expect(install.status).toBe(201);
    expect(install.body.installed).toMatchObject({
      skillId: publicSkill.id,
      isCore: false,
      version: publicSkill.latestVersion,
    });
    const twice = await callJson(
      "POST",
      `/api/dashboard/agents/${agent.id}/skills/${publicSkill.id}/install`,
      {
        token: growth.adminToken,
      },
    );
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe("already_installed");

    const installed = await callJson("GET", `/api/dashboard/skills/installed?agentId=${agent.id}`, {
      token: growth.adminToken,
    });
    expect(installed.body.data).toHaveLength(11);

    const core = await callJson(
      "POST",
      `/api/dashboard/agents/${agent.id}/skills/${coreSkill.id}/uninstall`,
      {
        token: growth.adminToken,
      },
    );
    expect(core.status).toBe(409);
    expect(core.body.code).toBe("skill_not_removable");

    const removed = await call(
      "POST",
      `/api/dashboard/agents/${agent.id}/skills/${publicSkill.id}/uninstall`,
      {
        token: growth.adminToken,
      },
    );
    expect(removed.status).toBe(204);
    expect(
      (await db().select().from(agentSkills).where(eq(agentSkills.agentId, agent.id)).all()).length,
    ).toBe(10);
    const again = await callJson(
      "POST",
      `/api/dashboard/agents/${agent.id}/skills/${publicSkill.id}/uninstall`,
      {
        token: growth.adminToken,
      },
    );
    expect(again.status).toBe(404);
    await vi.waitFor(async () => {
      const actions = (await auditRows(growth.tenantId)).map((r) => r.action);
      expect(actions).toEqual(
        expect.arrayContaining(["skill.installed", "skill.uninstalled", "agent.created"]),
      );
    });
  });

  it("404s an unknown skill or agent", async () => {
    const agent = (await create(growth, { name: "Lonely", modelTier: "sonnet", thinkingMode: "off" })).body
      .agent;
    expect(
      (
        await call("POST", `/api/dashboard/agents/${agent.id}/skills/skl_nope/install`, {
          token: growth.adminToken,
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await call("POST", "/api/dashboard/agents/agt_nope/skills/skl_core_agent_messaging/install", {
          token: growth.adminToken,
        })
      ).status,
    ).toBe(404);
    expect(
      (await call("GET", "/api/dashboard/skills/installed?agentId=agt_nope", { token: growth.adminToken }))
        .status,
    ).toBe(404);
  });
});

describe("tenant isolation and roles", () => {
  it("tenant B gets 404 for tenant A's agent, skills and users, and the attempt is recorded", async () => {
    const a = (await create(growth, { name: "Private", modelTier: "sonnet", thinkingMode: "off" })).body
      .agent;
    const b = starter;
    const read = await callJson("GET", `/api/dashboard/agents/${a.id}`, { token: b.adminToken });
    expect(read.status).toBe(404);
    expect(JSON.stringify(read.body)).not.toContain("Private");
    expect(
      (await call("PATCH", `/api/dashboard/agents/${a.id}`, { token: b.adminToken, body: { name: "Mine" } }))
        .status,
    ).toBe(404);
    expect((await call("DELETE", `/api/dashboard/agents/${a.id}`, { token: b.adminToken })).status).toBe(404);
    expect(
      (await call("POST", `/api/dashboard/agents/${a.id}/actions/pause`, { token: b.adminToken })).status,
    ).toBe(404);
    expect(
      (await call("GET", `/api/dashboard/skills/installed?agentId=${a.id}`, { token: b.adminToken })).status,
    ).toBe(404);
    expect(
      (
        await call("POST", `/api/dashboard/agents/${a.id}/skills/skl_pub_github_issues/install`, {
          token: b.adminToken,
        })
      ).status,
    ).toBe(404);
    const listB = await callJson("GET", "/api/dashboard/agents", { token: b.adminToken });
    expect(listB.body.data.some((x: { id: string }) => x.id === a.id)).toBe(false);
    const aAdmin = (await callJson("GET", "/api/dashboard/team", { token: growth.adminToken })).body
      .members[0];
    expect(
      (
        await call("PATCH", `/api/dashboard/team/members/${aAdmin.id}`, {
          token: b.adminToken,
          body: { role: "tenant_member" },
        })
      ).status,
    ).toBe(404);
    await vi.waitFor(async () => {
      const rows = (await auditRows(b.tenantId)).filter((r) => r.action === "security.cross_tenant_attempt");
      expect(rows.length).toBeGreaterThan(0);
      expect(rows[0]?.severity).toBe("high");
    });
  });

  it("a tenant_member reads but gets 403 on every mutation", async () => {
    const invite = await callJson("POST", "/api/dashboard/team/invites", {
      token: growth.adminToken,
      body: { email: "viewer@growth.test", role: "tenant_member" },
    });
    expect(invite.status).toBe(201);
    const token = new URL(invite.body.inviteUrl).searchParams.get("token");
    const accepted = await callJson("POST", "/api/auth/invites/accept", {
      body: { token, name: "Vera Viewer", password: "viewer-password-1" },
    });
    expect(accepted.status).toBe(200);
    const member = accepted.body.accessToken;
    expect((await call("GET", "/api/dashboard/agents", { token: member })).status).toBe(200);
    const agentId = (await callJson("GET", "/api/dashboard/agents", { token: member })).body.data[0].id;
    const mutations: Array<[string, string, unknown?]> = [
      ["POST", "/api/dashboard/agents", { name: "Nope", modelTier: "sonnet", thinkingMode: "off" }],
      ["PATCH", `/api/dashboard/agents/${agentId}`, { name: "Nope" }],
      ["DELETE", `/api/dashboard/agents/${agentId}`],
      ["POST", `/api/dashboard/agents/${agentId}/actions/pause`],
      ["POST", `/api/dashboard/agents/${agentId}/skills/skl_pub_github_issues/install`],
      ["POST", "/api/dashboard/team/invites", { email: "x@y.test", role: "tenant_admin" }],
      ["POST", "/api/dashboard/settings/api-keys", { name: "k", role: "tenant_admin" }],
    ];
    for (const [method, path, body] of mutations) {
      const res = await callJson(method, path, { token: member, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.code).toBe("forbidden");
    }
    // the invite works once
    expect(
      (
        await call("POST", "/api/auth/invites/accept", {
          body: { token, name: "Again", password: "viewer-password-1" },
        })
      ).status,
    ).toBe(404);
  });

  it("pauses and resumes an agent; a second pause is a 409", async () => {
    const agent = (await create(growth, { name: "Sleeper", modelTier: "sonnet", thinkingMode: "off" })).body
      .agent;
    const paused = await callJson("POST", `/api/dashboard/agents/${agent.id}/actions/pause`, {
      token: growth.adminToken,
    });
    expect(paused.body.agent.status).toBe("paused");
    expect(
      (await call("POST", `/api/dashboard/agents/${agent.id}/actions/pause`, { token: growth.adminToken }))
        .status,
    ).toBe(409);
    const resumed = await callJson("POST", `/api/dashboard/agents/${agent.id}/actions/resume`, {
      token: growth.adminToken,
    });
    expect(resumed.body.agent.status).toBe("active");
    expect(
      (await call("POST", `/api/dashboard/agents/${agent.id}/actions/explode`, { token: growth.adminToken }))
        .status,
    ).toBe(400);
  });

  it("an operator acts on a tenant with ?tenantId=, and must name one", async () => {
    const missing = await callJson("GET", "/api/dashboard/agents", { token: op });
    expect(missing.status).toBe(400);
    expect(missing.body.details["query.tenantId"]).toBeDefined();
    const list = await callJson("GET", `/api/dashboard/agents?tenantId=${growth.tenantId}`, { token: op });
    expect(list.status).toBe(200);
    expect(list.body.data.length).toBeGreaterThan(0);
    expect((await call("GET", "/api/dashboard/agents?tenantId=ten_nope", { token: op })).status).toBe(404);
  });
});
