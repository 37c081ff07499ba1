// S8-05: installing private skill versions — pinning, rollback, no auto-upgrade on wider permissions,
// tenant-approved upgrades, and deprecation.
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  auditRows,
  call,
  callJson,
  type Json,
  ORIGIN,
  operatorToken,
  provisionTenant,
  type TenantFixture,
} from "./helpers";
import { skillPackage } from "./skill-fixtures";

const pkg = (name: string, version: string, domains: string[]) => skillPackage(name, version, { domains });

async function uploadVersion(t: TenantFixture, name: string, version: string, domains: string[]) {
  const form = new FormData();
  form.set("package", new File([await pkg(name, version, domains)], "skill.tgz"));
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}/api/dashboard/skills/package/upload`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}` },
      body: form,
    }),
  );
  const body: Json = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body as { skill: Json; version: Json };
}

async function approved(t: TenantFixture, name: string, version: string, domains: string[]) {
  const up = await uploadVersion(t, name, version, domains);
  const submitted = await callJson("POST", `/api/dashboard/skills/package/${up.version.id}/submit`, {
    token: t.adminToken,
  });
  expect(submitted.status).toBe(200);
  const ok = await callJson("PUT", `/api/admin/skills/review/${up.version.id}/approve`, {
    token: op,
    body: {},
  });
  expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  return up;
}

const newAgent = async (t: TenantFixture, name: string): Promise<string> => {
  const res = await callJson("POST", "/api/dashboard/agents", {
    token: t.adminToken,
    body: { name, modelTier: "sonnet", thinkingMode: "off" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.agent.id;
};

const install = (t: TenantFixture, agentId: string, skillId: string, body: unknown = {}) =>
  callJson("POST", `/api/dashboard/agents/${agentId}/skills/${skillId}/install`, {
    token: t.adminToken,
    body,
  });

const versionOn = async (t: TenantFixture, agentId: string, skillId: string) => {
  const res = await callJson("GET", `/api/dashboard/skills/installed?agentId=${agentId}`, {
    token: t.adminToken,
  });
  return res.body.data.find((i: Json) => i.skillId === skillId)?.version as string | undefined;
};

const detail = async (t: TenantFixture, skillId: string) =>
  (await callJson("GET", `/api/dashboard/skills/private/${skillId}`, { token: t.adminToken })).body.skill;

let op: string;
let tenant: TenantFixture;
let other: TenantFixture;
let memberKey: string;
let skillId: string;
let agentA: string;
let agentB: string;
let draftVersion: string;

beforeAll(async () => {
  op = await operatorToken();
  tenant = await provisionTenant(op, { planTier: "growth" });
  other = await provisionTenant(op, { planTier: "growth" });
  const member = await callJson("POST", "/api/dashboard/settings/api-keys", {
    token: tenant.adminToken,
    body: { name: "skills-viewer", role: "tenant_member" },
  });
  memberKey = member.body.key;
  const v1 = await approved(tenant, "pinner", "1.0.0", ["api.a.test"]);
  skillId = v1.skill.id;
  await approved(tenant, "pinner", "1.1.0", ["api.a.test"]);
  draftVersion = (await uploadVersion(tenant, "pinner", "1.5.0-beta", [])).version.version;
  agentA = await newAgent(tenant, "Agent A");
  agentB = await newAgent(tenant, "Agent B");
});

describe("install with a version", () => {
  it("defaults to the latest approved version and pins an older approved one", async () => {
    const a = await install(tenant, agentA, skillId);
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(a.body.installed).toMatchObject({ skillId, version: "1.1.0" });
    const b = await install(tenant, agentB, skillId, { version: "1.0.0" });
    expect(b.status).toBe(201);
    expect(b.body.installed.version).toBe("1.0.0");
    expect(await versionOn(tenant, agentA, skillId)).toBe("1.1.0");
    expect(await versionOn(tenant, agentB, skillId)).toBe("1.0.0");
  });

  it("409 version_not_approved for a draft, 404 for an unknown version or another tenant's skill", async () => {
    const agentC = await newAgent(tenant, "Agent C");
    const draft = await install(tenant, agentC, skillId, { version: draftVersion });
    expect(draft.status).toBe(409);
    expect(draft.body.code).toBe("version_not_approved");
    expect((await install(tenant, agentC, skillId, { version: "9.9.9" })).status).toBe(404);
    const otherAgent = await newAgent(other, "Other");
    expect((await install(other, otherAgent, skillId)).status).toBe(404);
    expect(
      (
        await call("POST", `/api/dashboard/agents/${agentC}/skills/${skillId}/install`, {
          token: memberKey,
          body: {} as never,
        })
      ).status,
    ).toBe(403);
  });
});

describe("approval of a new version", () => {
  it("narrower permissions: agents on the previous version move, audited as the system", async () => {
    await approved(tenant, "pinner", "1.2.0", []);
    expect(await versionOn(tenant, agentA, skillId)).toBe("1.2.0");
    // a pinned agent on an older version is not the previous version: it stays
    expect(await versionOn(tenant, agentB, skillId)).toBe("1.0.0");
    expect((await detail(tenant, skillId)).pendingUpgrade).toBeNull();
    await vi.waitFor(
      async () => {
        const row = (await auditRows(tenant.tenantId)).find(
          (r) => r.action === "skill.auto_upgraded" && r.targetId === agentA,
        );
        expect(row?.actorType).toBe("system");
        expect(JSON.parse(String(row?.details))).toMatchObject({
          before: { version: "1.1.0" },
          after: { version: "1.2.0" },
        });
      },
      { timeout: 5000, interval: 100 },
    );
  });

  it("wider permissions: agents stay, the tenant sees a pending upgrade and approves it", async () => {
    await approved(tenant, "pinner", "2.0.0", ["api.a.test", "api.b.test"]);
    expect(await versionOn(tenant, agentA, skillId)).toBe("1.2.0");
    expect(await versionOn(tenant, agentB, skillId)).toBe("1.0.0");
    const skill = await detail(tenant, skillId);
    expect(skill.latestApprovedVersion).toBe("2.0.0");
    expect(skill.pendingUpgrade).toMatchObject({
      version: "2.0.0",
      permissionDiff: { against: "1.2.0", added: { domains: ["api.a.test", "api.b.test"] }, changed: true },
    });
    expect(skill.pendingUpgrade.agents).toEqual(
      expect.arrayContaining([
        { agentId: agentA, version: "1.2.0" },
        { agentId: agentB, version: "1.0.0" },
      ]),
    );

    const path = `/api/dashboard/skills/private/${skillId}/upgrade`;
    expect((await call("POST", path, { token: memberKey, body: { version: "2.0.0" } as never })).status).toBe(
      403,
    );
    expect((await call("POST", path, { body: { version: "2.0.0" } as never })).status).toBe(401);
    expect(
      (await callJson("POST", path, { token: other.adminToken, body: { version: "2.0.0" } })).status,
    ).toBe(404);
    const notApproved = await callJson("POST", path, {
      token: tenant.adminToken,
      body: { version: draftVersion },
    });
    expect(notApproved.status).toBe(409);
    expect(notApproved.body.code).toBe("version_not_approved");

    const up = await callJson("POST", path, { token: tenant.adminToken, body: { version: "2.0.0" } });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body.moved.map((m: Json) => m.agentId).sort()).toEqual([agentA, agentB].sort());
    expect(await versionOn(tenant, agentA, skillId)).toBe("2.0.0");
    expect(await versionOn(tenant, agentB, skillId)).toBe("2.0.0");
    expect((await detail(tenant, skillId)).pendingUpgrade).toBeNull();
    await vi.waitFor(
      async () => {
        const row = (await auditRows(tenant.tenantId)).find(
          (r) => r.action === "skill.upgrade_approved" && r.targetId === agentB,
        );
        expect(row?.actorType).toBe("user");
        expect(JSON.parse(String(row?.details))).toMatchObject({
          permissionDiff: { added: { domains: ["api.b.test"] } },
          before: { version: "1.0.0" },
          after: { version: "2.0.0" },
        });
      },
      { timeout: 5000, interval: 100 },
    );
  });
});

describe("POST /api/dashboard/skills/private/:skillId/rollback", () => {
  const path = () => `/api/dashboard/skills/private/${skillId}/rollback`;

  it("401 / 403 / 404 / 409 before anything moves", async () => {
    expect((await call("POST", path(), { body: { version: "1.2.0" } as never })).status).toBe(401);
    expect(
      (await call("POST", path(), { token: memberKey, body: { version: "1.2.0" } as never })).status,
    ).toBe(403);
    expect(
      (await callJson("POST", path(), { token: other.adminToken, body: { version: "1.2.0" } })).status,
    ).toBe(404);
    expect(
      (await callJson("POST", path(), { token: tenant.adminToken, body: { version: "0.0.1" } })).status,
    ).toBe(404);
    const draft = await callJson("POST", path(), {
      token: tenant.adminToken,
      body: { version: draftVersion },
    });
    expect(draft.status).toBe(409);
    expect(draft.body.code).toBe("version_not_approved");
    expect(await versionOn(tenant, agentA, skillId)).toBe("2.0.0");
  });

  it("moves every agent to the earlier approved version, audited per agent", async () => {
    const res = await callJson("POST", path(), { token: tenant.adminToken, body: { version: "1.2.0" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.moved).toHaveLength(2);
    expect(await versionOn(tenant, agentA, skillId)).toBe("1.2.0");
    expect(await versionOn(tenant, agentB, skillId)).toBe("1.2.0");
    // 2.0.0 is still wider than what they run: shown again as an upgrade awaiting approval
    expect((await detail(tenant, skillId)).pendingUpgrade).toMatchObject({ version: "2.0.0" });
    await vi.waitFor(
      async () => {
        const rows = (await auditRows(tenant.tenantId)).filter((r) => r.action === "skill.rolled_back");
        for (const agent of [agentA, agentB]) {
          const row = rows.find((r) => r.targetId === agent);
          expect(JSON.parse(String(row?.details))).toMatchObject({
            before: { version: "2.0.0" },
            after: { version: "1.2.0" },
          });
        }
      },
      { timeout: 5000, interval: 100 },
    );
  });
});

describe("deprecation", () => {
  it("the tenant deprecates an installed version: agents keep it, it cannot be newly installed", async () => {
    const path = `/api/dashboard/skills/private/${skillId}/versions/1.2.0/deprecate`;
    expect((await call("POST", path, { token: memberKey })).status).toBe(403);
    expect((await call("POST", path)).status).toBe(401);
    expect((await call("POST", path, { token: other.adminToken })).status).toBe(404);
    const res = await callJson("POST", path, { token: tenant.adminToken });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ version: "1.2.0", status: "deprecated" });
    expect(res.body.installedAgents.sort()).toEqual([agentA, agentB].sort());
    expect((await callJson("POST", path, { token: tenant.adminToken })).body.code).toBe("invalid_transition");

    expect(await versionOn(tenant, agentA, skillId)).toBe("1.2.0");
    const agentD = await newAgent(tenant, "Agent D");
    const refused = await install(tenant, agentD, skillId, { version: "1.2.0" });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("version_deprecated");
    const rollback = await callJson("POST", `/api/dashboard/skills/private/${skillId}/rollback`, {
      token: tenant.adminToken,
      body: { version: "1.2.0" },
    });
    expect(rollback.status).toBe(409);
    expect(rollback.body.code).toBe("version_deprecated");
    const versions = (await detail(tenant, skillId)).versions.map((v: Json) => [v.version, v.status]);
    expect(versions).toContainEqual(["1.2.0", "deprecated"]);
  });

  it("an operator deprecates a version; the catalogue moves off a deprecated latest version", async () => {
    const v = (await detail(tenant, skillId)).versions.find((x: Json) => x.version === "2.0.0");
    expect(
      (await call("PUT", `/api/admin/skills/review/${v.id}/deprecate`, { token: tenant.adminToken })).status,
    ).toBe(403);
    const res = await callJson("PUT", `/api/admin/skills/review/${v.id}/deprecate`, { token: op });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.item.status).toBe("deprecated");
    const catalogue = await callJson("GET", "/api/dashboard/skills", { token: tenant.adminToken });
    expect(catalogue.body.data.find((s: Json) => s.id === skillId)?.latestVersion).toBe("1.1.0");
    // agents on 1.2.0 (deprecated) keep it; nothing is pending against a deprecated version
    expect(await versionOn(tenant, agentA, skillId)).toBe("1.2.0");
    await vi.waitFor(
      async () => {
        const rows = (await auditRows(tenant.tenantId)).filter(
          (r) => r.action === "skill.version_deprecated",
        );
        expect(rows.length).toBeGreaterThanOrEqual(2);
      },
      { timeout: 5000, interval: 100 },
    );
  });
});

describe("package download for agent runtimes", () => {
  it("an agent downloads the package of a private version installed on it, and nothing else", async () => {
    const up = await approved(tenant, "runtime-pkg", "1.0.0", ["api.runtime.example"]);
    const sha256 = up.version.sha256 as string;
    const created = await callJson("POST", "/api/dashboard/agents", {
      token: tenant.adminToken,
      body: { name: "pkg-holder", modelTier: "sonnet", thinkingMode: "off" },
    });
    const holder = created.body.agent.id as string;
    const token = async (agentId: string, credential: string) =>
      (await callJson("POST", "/v1/auth/token", { body: { agentId, credential } })).body.token as string;
    const holderToken = await token(holder, created.body.credential);
    const download = (t?: string, digest = sha256) =>
      call("GET", `/v1/skills/packages/${digest}`, t ? { token: t } : {});

    // Not installed yet: the same 404 as an unknown digest.
    expect((await download(holderToken)).status).toBe(404);
    const installed = await callJson(
      "POST",
      `/api/dashboard/agents/${holder}/skills/${up.skill.id}/install`,
      {
        token: tenant.adminToken,
        body: { version: "1.0.0" },
      },
    );
    expect(installed.status, JSON.stringify(installed.body)).toBe(201);
    const res = await download(holderToken);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/gzip");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const { sha256Hex } = await import("../sdk/skill-sdk/src/package/index");
    expect(await sha256Hex(bytes)).toBe(sha256);

    // Another agent of the tenant without it, another tenant's agent, no token, a malformed digest.
    const otherAgent = await callJson("POST", "/api/dashboard/agents", {
      token: tenant.adminToken,
      body: { name: "pkg-none", modelTier: "sonnet", thinkingMode: "off" },
    });
    expect((await download(await token(otherAgent.body.agent.id, otherAgent.body.credential))).status).toBe(
      404,
    );
    const stranger = await callJson("POST", "/api/dashboard/agents", {
      token: other.adminToken,
      body: { name: "pkg-stranger", modelTier: "sonnet", thinkingMode: "off" },
    });
    expect((await download(await token(stranger.body.agent.id, stranger.body.credential))).status).toBe(404);
    expect((await download()).status).toBe(401);
    expect((await download(tenant.adminToken)).status).toBe(401);
    const bad = await download(holderToken, "not-a-digest");
    expect(bad.status).toBe(400);
  });
});
