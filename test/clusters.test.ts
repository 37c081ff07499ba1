import { beforeAll, describe, expect, it, vi } from "vitest";
import { auditRows, call, callJson, operatorToken, provisionTenant, type TenantFixture } from "./helpers";
import { type AgentFixture, createAgent, openSocket, type TestSocket, upgrade } from "./sockets";

let op: string;
let t: TenantFixture;
let other: TenantFixture;
let alpha: AgentFixture;

beforeAll(async () => {
  op = await operatorToken();
  t = await provisionTenant(op, { planTier: "growth" });
  other = await provisionTenant(op, { planTier: "growth" });
  alpha = await createAgent(t, "Alpha");
});

async function newCluster(tenantIds: string[] = [t.tenantId]) {
  const res = await callJson("POST", "/api/admin/clusters", {
    token: op,
    body: { name: `cluster-${Math.random().toString(36).slice(2, 8)}`, tenantIds },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { cluster: { id: string }; registrationToken: string };
}

async function register(token: string, clusterName = "prod-eu") {
  return callJson("POST", "/controller/v1/register", { body: { registrationToken: token, clusterName } });
}

async function connect(credential: string): Promise<TestSocket> {
  return openSocket("/controller/v1/connect", { authorization: `Bearer ${credential}` });
}

type Desired = {
  op: string;
  generation: number;
  resources: Array<Record<string, unknown> & { kind: string }>;
};

describe("registration", () => {
  it("an operator registers a cluster for tenants; the token is shown once and works once", async () => {
    const created = await newCluster();
    expect(created.registrationToken).toMatch(/^aegis_crt_/);
    const list = await callJson("GET", "/api/admin/clusters", { token: op });
    const listed = list.body.data.find((c: { id: string }) => c.id === created.cluster.id);
    expect(listed).toMatchObject({ registration: "pending", tenants: [{ id: t.tenantId }] });
    expect(JSON.stringify(list.body)).not.toContain(created.registrationToken);

    expect((await register("aegis_crt_wrong")).status).toBe(401);
    const ok = await register(created.registrationToken);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      clusterId: created.cluster.id,
      credential: expect.stringMatching(/^aegis_cc_/),
    });
    // Once and for all: the same token again, and again, is 401.
    for (let i = 0; i < 2; i++) {
      const again = await register(created.registrationToken);
      expect(again.status).toBe(401);
      expect(again.body.code).toBe("invalid_registration_token");
    }
    const detail = await callJson("GET", `/api/admin/clusters/${created.cluster.id}`, { token: op });
    expect(detail.body.cluster).toMatchObject({ registration: "registered", reportedName: "prod-eu" });
    await vi.waitFor(async () => {
      const actions = (await auditRows(null)).map((r) => r.action);
      expect(actions).toContain("cluster.registered");
      expect(actions).toContain("cluster.registration_refused");
    });
  });

  it("refuses bad input with field paths, non-operators, and unknown tenants", async () => {
    const bad = await callJson("POST", "/api/admin/clusters", { token: op, body: { name: "" } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details)).toContain("name");
    const unknown = await callJson("POST", "/api/admin/clusters", {
      token: op,
      body: { name: "x", tenantIds: [t.tenantId, "ten_missing"] },
    });
    expect(unknown.status).toBe(400);
    expect(Object.keys(unknown.body.details)).toEqual(["tenantIds.1"]);
    expect((await callJson("POST", "/api/admin/clusters", { body: { name: "x" } })).status).toBe(401);
    expect(
      (await callJson("POST", "/api/admin/clusters", { token: t.adminToken, body: { name: "x" } })).status,
    ).toBe(403);
    expect((await callJson("GET", "/api/admin/clusters/cls_missing", { token: op })).status).toBe(404);
    const noName = await callJson("POST", "/controller/v1/register", { body: { registrationToken: "x" } });
    expect(noName.status).toBe(400);
    expect(Object.keys(noName.body.details)).toContain("clusterName");
  });
});

describe("the controller connection", () => {
  let clusterId: string;
  let credential: string;
  let socket: TestSocket;
  let first: Desired;

  beforeAll(async () => {
    const created = await newCluster();
    clusterId = created.cluster.id;
    credential = (await register(created.registrationToken)).body.credential;
  });

  it("needs the cluster credential and a WebSocket upgrade", async () => {
    expect((await upgrade("/controller/v1/connect")).status).toBe(401);
    expect((await upgrade("/controller/v1/connect", { authorization: "Bearer aegis_cc_nope" })).status).toBe(
      401,
    );
    expect(
      (await upgrade("/controller/v1/connect", { authorization: `Bearer ${t.adminToken}` })).status,
    ).toBe(401);
    const plain = await call("GET", "/controller/v1/connect", {
      headers: { authorization: `Bearer ${credential}` },
    });
    expect(plain.status).toBe(426);
  });

  it("sends the latest desired state on connect: the tenant and each agent with its skills and egress", async () => {
    socket = await connect(credential);
    first = (await socket.next((f) => f.op === "desired_state")) as Desired;
    expect(first.generation).toBeGreaterThanOrEqual(1);
    const tenant = first.resources.find((r) => r.kind === "tenant");
    expect(tenant).toMatchObject({
      tenantId: t.tenantId,
      namespace: `aegis-${t.slug}`,
      egressMode: "enforce",
    });
    const agent = first.resources.find((r) => r.kind === "agent" && r.agentId === alpha.id);
    expect(agent).toMatchObject({
      tenantId: t.tenantId,
      name: "Alpha",
      state: "running",
      credentialVersion: 0,
    });
    expect(((agent?.skills ?? []) as unknown[]).length).toBeGreaterThan(0);
    // Nothing of a tenant this cluster does not serve.
    expect(JSON.stringify(first)).not.toContain(other.tenantId);
  });

  it("a change to the tenant's agents is pushed as the next generation; no change, no new generation", async () => {
    const bravo = await createAgent(t, "Bravo");
    const next = (await socket.next((f) => f.op === "desired_state")) as Desired;
    expect(next.generation).toBe(first.generation + 1);
    expect(next.resources.some((r) => r.kind === "agent" && r.agentId === bravo.id)).toBe(true);

    const paused = await callJson("POST", `/api/dashboard/agents/${bravo.id}/actions/pause`, {
      token: t.adminToken,
    });
    expect(paused.status).toBe(200);
    const after = (await socket.next((f) => f.op === "desired_state")) as Desired;
    expect(after.generation).toBe(next.generation + 1);
    expect(after.resources.find((r) => r.kind === "agent" && r.agentId === bravo.id)).toMatchObject({
      state: "stopped",
    });

    const again = await callJson("GET", "/controller/v1/desired", {
      headers: { authorization: `Bearer ${credential}` },
    });
    expect(again.body.generation).toBe(after.generation);
  });

  it("records applied generations, per-agent status and refused frames", async () => {
    socket.send({ op: "applied", generation: 2 });
    socket.send({
      op: "status",
      agents: [{ agentId: alpha.id, status: "crashloop", restarts: 3, lastError: "OOMKilled" }],
      errors: [
        { resource: "Deployment aegis-x/agent-1", message: "422 Unprocessable Entity: spec.replicas" },
      ],
    });
    socket.send({ op: "ping" });
    await socket.next((f) => f.op === "pong");
    const detail = await callJson("GET", `/api/admin/clusters/${clusterId}`, { token: op });
    expect(detail.body.status).toMatchObject({
      connected: true,
      appliedGeneration: 2,
      agents: [
        { agentId: alpha.id, tenantId: t.tenantId, status: "crashloop", restarts: 3, lastError: "OOMKilled" },
      ],
      errors: [{ resource: "Deployment aegis-x/agent-1" }],
    });

    socket.send("not json");
    expect(await socket.next((f) => f.op === "error")).toMatchObject({ code: "invalid_frame" });
    socket.send({ op: "status", agents: [{ agentId: alpha.id, status: "exploded" }] });
    expect((await socket.next((f) => f.op === "error")).message).toContain("agents.0.status");
    // The socket stays usable.
    socket.send({ op: "ping" });
    await socket.next((f) => f.op === "pong");
  });

  it("blocked egress lands in the audit log, raises an alert and shows for the tenant", async () => {
    const at = new Date().toISOString();
    socket.send({ op: "egress_blocked", agentId: alpha.id, domain: "Exfil.Example.org", at });
    // An agent this cluster does not run is not recorded.
    socket.send({ op: "egress_blocked", agentId: "agt_elsewhere", domain: "x.example", at });
    socket.send({ op: "ping" });
    await socket.next((f) => f.op === "pong");
    await vi.waitFor(async () => {
      const rows = (await auditRows(t.tenantId)).filter((r) => r.action === "egress.blocked");
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actorId: alpha.id, targetId: "exfil.example.org" });
    });
    await vi.waitFor(async () => {
      const alerts = await callJson("GET", "/api/dashboard/alerts", { token: t.adminToken });
      expect(alerts.body.data.some((a: { rule: string }) => a.rule === "egress_blocked")).toBe(true);
    });
    const mine = await callJson("GET", `/api/dashboard/clusters/${clusterId}`, { token: t.adminToken });
    expect(mine.body.status.egress).toEqual([
      { agentId: alpha.id, tenantId: t.tenantId, domain: "exfil.example.org", at, wouldBlock: false },
    ]);
  });

  it("egress mode: tenant admins switch to log-only; observed domains become manifest suggestions", async () => {
    const start = await callJson("GET", "/api/dashboard/clusters/egress", { token: t.adminToken });
    expect(start.body.mode).toBe("enforce");
    const bad = await callJson("PUT", "/api/dashboard/clusters/egress", {
      token: t.adminToken,
      body: { mode: "open" },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details)).toEqual(["mode"]);
    expect(
      (await callJson("PUT", "/api/dashboard/clusters/egress", { body: { mode: "log-only" } })).status,
    ).toBe(401);
    const member = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: t.adminToken,
      body: { name: "egress-viewer", role: "tenant_member" },
    });
    expect(
      (
        await callJson("PUT", "/api/dashboard/clusters/egress", {
          token: member.body.key,
          body: { mode: "log-only" },
        })
      ).status,
    ).toBe(403);

    const set = await callJson("PUT", "/api/dashboard/clusters/egress", {
      token: t.adminToken,
      body: { mode: "log-only" },
    });
    expect(set.status).toBe(200);
    // The tenant's proxies get the new mode as the next desired state.
    const pushed = (await socket.next(
      (f) =>
        f.op === "desired_state" &&
        (f as Desired).resources.some((r) => r.kind === "tenant" && r.egressMode === "log-only"),
    )) as Desired;
    expect(pushed.generation).toBeGreaterThan(first.generation);

    socket.send({
      op: "egress_blocked",
      agentId: alpha.id,
      domain: "api.partner.example",
      at: new Date().toISOString(),
      wouldBlock: true,
    });
    socket.send({
      op: "egress_blocked",
      agentId: alpha.id,
      domain: "api.partner.example",
      at: new Date().toISOString(),
      wouldBlock: true,
    });
    socket.send({ op: "ping" });
    await socket.next((f) => f.op === "pong");
    const view = await callJson("GET", "/api/dashboard/clusters/egress", { token: t.adminToken });
    const mine = view.body.suggestions.find((s: { agentId: string }) => s.agentId === alpha.id);
    expect(mine.domains[0]).toMatchObject({ domain: "api.partner.example", count: 2, blocked: false });
    expect(mine.manifest.network.allowedDomains).toContain("api.partner.example");
    // Another tenant sees nothing of it.
    expect(
      (await callJson("GET", "/api/dashboard/clusters/egress", { token: other.adminToken })).body.suggestions,
    ).toEqual([]);
    await vi.waitFor(async () => {
      expect((await auditRows(t.tenantId)).some((r) => r.action === "egress.mode_changed")).toBe(true);
      expect((await auditRows(t.tenantId)).some((r) => r.action === "egress.would_block")).toBe(true);
    });
    await callJson("PUT", "/api/dashboard/clusters/egress", {
      token: t.adminToken,
      body: { mode: "enforce" },
    });
  });

  it("issues and rotates runtime credentials for agents it runs, and only those", async () => {
    const auth = { authorization: `Bearer ${credential}` };
    const issued = await callJson("POST", `/controller/v1/agents/${alpha.id}/credential`, { headers: auth });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ agentId: alpha.id, version: 1 });
    const token = await callJson("POST", "/v1/auth/token", {
      body: { agentId: alpha.id, credential: issued.body.credential },
    });
    expect(token.status).toBe(200);
    const pushed = (await socket.next(
      (f) =>
        f.op === "desired_state" &&
        (f as Desired).resources.some((r) => r.agentId === alpha.id && r.credentialVersion === 1),
    )) as Desired;
    expect(pushed.generation).toBeGreaterThan(first.generation);

    const rotated = await callJson("POST", `/controller/v1/agents/${alpha.id}/credential`, { headers: auth });
    expect(rotated.body.version).toBe(2);
    const old = await callJson("POST", "/v1/auth/token", {
      body: { agentId: alpha.id, credential: issued.body.credential },
    });
    expect(old.status).toBe(401);
    // The agent's own credential from creation still works.
    expect(
      (
        await callJson("POST", "/v1/auth/token", {
          body: { agentId: alpha.id, credential: alpha.credential },
        })
      ).status,
    ).toBe(200);

    const stranger = await createAgent(other, "Stranger");
    expect(
      (await callJson("POST", `/controller/v1/agents/${stranger.id}/credential`, { headers: auth })).status,
    ).toBe(404);
    expect((await callJson("POST", `/controller/v1/agents/${alpha.id}/credential`)).status).toBe(401);
  });

  it("an agent's egress allowlist gains a skill's domains only once that skill is installed on it", async () => {
    const before = (
      await callJson("GET", "/controller/v1/desired", {
        headers: { authorization: `Bearer ${credential}` },
      })
    ).body as Desired;
    const alphaBefore = before.resources.find((r) => r.kind === "agent" && r.agentId === alpha.id);
    expect(alphaBefore?.allowedDomains).not.toContain("hooks.slack.com");
    const installed = await callJson(
      "POST",
      `/api/dashboard/agents/${alpha.id}/skills/skl_pub_slack_notify/install`,
      {
        token: t.adminToken,
      },
    );
    expect(installed.status, JSON.stringify(installed.body)).toBe(201);
    const pushed = (await socket.next(
      (f) =>
        f.op === "desired_state" &&
        (f as Desired).resources.some(
          (r) => r.agentId === alpha.id && (r.allowedDomains as string[]).includes("hooks.slack.com"),
        ),
    )) as Desired;
    expect(pushed.generation).toBeGreaterThan(before.generation);
    // Only that agent: the others' allowlists did not change.
    for (const r of pushed.resources.filter((x) => x.kind === "agent" && x.agentId !== alpha.id))
      expect(r.allowedDomains).not.toContain("hooks.slack.com");
  });

  it("a second connection replaces the first", async () => {
    const second = await connect(credential);
    await second.next((f) => f.op === "desired_state");
    expect((await socket.waitClosed()).code).toBe(4000);
    second.close();
  });

  it("a refused desired state is recorded and alerted", async () => {
    const s = await connect(credential);
    const d = (await s.next((f) => f.op === "desired_state")) as Desired;
    s.send({ op: "rejected", generation: d.generation, reason: "resources.3.kind: unknown kind" });
    s.send({ op: "ping" });
    await s.next((f) => f.op === "pong");
    const detail = await callJson("GET", `/api/admin/clusters/${clusterId}`, { token: op });
    expect(detail.body.status.rejected).toMatchObject({
      generation: d.generation,
      reason: "resources.3.kind: unknown kind",
    });
    await vi.waitFor(async () => {
      expect((await auditRows(null)).some((r) => r.action === "cluster.desired_state_rejected")).toBe(true);
    });
    s.close();
  });
});

describe("tenants and their clusters", () => {
  it("a tenant sees its cluster with only its own agents; another tenant sees nothing of it", async () => {
    const shared = await newCluster([t.tenantId]);
    const mine = await callJson("GET", "/api/dashboard/clusters", { token: t.adminToken });
    const listed = mine.body.data.find((c: { id: string }) => c.id === shared.cluster.id);
    expect(listed.tenants).toEqual([{ id: t.tenantId, name: expect.any(String), slug: t.slug }]);
    const theirs = await callJson("GET", "/api/dashboard/clusters", { token: other.adminToken });
    expect(theirs.body.data.map((c: { id: string }) => c.id)).not.toContain(shared.cluster.id);
    expect(
      (await callJson("GET", `/api/dashboard/clusters/${shared.cluster.id}`, { token: other.adminToken }))
        .status,
    ).toBe(404);
  });

  it("a tenant admin registers the tenant's own cluster, which then runs its agents; members may not", async () => {
    const member = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: other.adminToken,
      body: { name: "viewer", role: "tenant_member" },
    });
    expect(
      (await callJson("POST", "/api/dashboard/clusters", { token: member.body.key, body: { name: "edge" } }))
        .status,
    ).toBe(403);
    const own = await callJson("POST", "/api/dashboard/clusters", {
      token: other.adminToken,
      body: { name: "edge" },
    });
    expect(own.status).toBe(201);
    expect(own.body.cluster).toMatchObject({ tenantId: other.tenantId, tenants: [{ id: other.tenantId }] });
    const credential = (await register(own.body.registrationToken, "edge-1")).body.credential;
    const s = await connect(credential);
    const d = (await s.next((f) => f.op === "desired_state")) as Desired;
    expect(d.resources.filter((r) => r.kind === "tenant").map((r) => r.tenantId)).toEqual([other.tenantId]);
    s.close();
  });
});
