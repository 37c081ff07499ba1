import { beforeAll, describe, expect, it, vi } from "vitest";
import { apiKeys } from "../worker/db/schema";
import {
  auditRows,
  call,
  callJson,
  db,
  login,
  operatorToken,
  provisionTenant,
  type TenantFixture,
} from "./helpers";

let op: string;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  op = await operatorToken();
  a = await provisionTenant(op);
  b = await provisionTenant(op);
});

describe("API keys", () => {
  it("shows the key once, stores only its hash, authenticates as the tenant with its role, and stops on revoke", async () => {
    const created = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: a.adminToken,
      body: { name: "CI pipeline", role: "tenant_admin" },
    });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^aegis_[a-z0-9]{8}_[a-z0-9]{40}$/);
    expect(key.startsWith(created.body.apiKey.prefix)).toBe(true);

    const list = await callJson("GET", "/api/dashboard/settings/api-keys", { token: a.adminToken });
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect(list.body.data[0]).toMatchObject({ name: "CI pipeline", role: "tenant_admin", revokedAt: null });
    const stored = await db().select().from(apiKeys).all();
    expect(JSON.stringify(stored)).not.toContain(key);

    // the key acts as tenant A
    const agents = await callJson("GET", "/api/dashboard/agents", { token: key });
    expect(agents.status).toBe(200);
    const made = await callJson("POST", "/api/dashboard/agents", {
      token: key,
      body: { name: "Keyed", modelTier: "sonnet", thinkingMode: "off" },
    });
    expect(made.status).toBe(201);
    expect(made.body.agent.tenantId).toBe(a.tenantId);
    // but is not an operator and cannot create more keys (only admins' sessions can? keys with admin role can)
    expect((await call("GET", "/api/admin/tenants", { token: key })).status).toBe(403);
    const used = await callJson("GET", "/api/dashboard/settings/api-keys", { token: a.adminToken });
    expect(used.body.data[0].lastUsedAt).not.toBeNull();

    const revoked = await call("DELETE", `/api/dashboard/settings/api-keys/${created.body.apiKey.id}`, {
      token: a.adminToken,
    });
    expect(revoked.status).toBe(204);
    expect((await call("GET", "/api/dashboard/agents", { token: key })).status).toBe(401);
    expect(
      (
        await call("DELETE", `/api/dashboard/settings/api-keys/${created.body.apiKey.id}`, {
          token: a.adminToken,
        })
      ).status,
    ).toBe(404);
    await vi.waitFor(async () => {
      const actions = (await auditRows(a.tenantId)).map((r) => r.action);
      expect(actions).toEqual(expect.arrayContaining(["api_key.created", "api_key.revoked"]));
    });
    expect(JSON.stringify(await auditRows(a.tenantId))).not.toContain(key);
  });

  it("a member-role key reads but cannot mutate", async () => {
    const created = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: a.adminToken,
      body: { name: "Read only", role: "tenant_member" },
    });
    const key = created.body.key;
    expect((await call("GET", "/api/dashboard/stats", { token: key })).status).toBe(200);
    const denied = await callJson("POST", "/api/dashboard/agents", {
      token: key,
      body: { name: "Nope", modelTier: "sonnet", thinkingMode: "off" },
    });
    expect(denied.status).toBe(403);
  });

  it("validates input, and tenant B cannot revoke or see tenant A's keys", async () => {
    const bad = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: a.adminToken,
      body: { name: "", role: "platform_admin" },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details).sort()).toEqual(["name", "role"]);
    const key = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: a.adminToken,
      body: { name: "A's key", role: "tenant_admin" },
    });
    const listB = await callJson("GET", "/api/dashboard/settings/api-keys", { token: b.adminToken });
    expect(listB.body.data.some((k: { name: string }) => k.name === "A's key")).toBe(false);
    expect(
      (
        await call("DELETE", `/api/dashboard/settings/api-keys/${key.body.apiKey.id}`, {
          token: b.adminToken,
        })
      ).status,
    ).toBe(404);
    expect((await call("GET", "/api/dashboard/agents", { token: key.body.key })).status).toBe(200);
    expect((await call("GET", "/api/dashboard/settings/api-keys")).status).toBe(401);
    expect((await call("GET", "/api/dashboard/agents", { token: "aegis_fake_key" })).status).toBe(401);
  });
});

describe("team members and invites", () => {
  it("invites, lists the pending invite, accepts once, and refuses a taken email", async () => {
    const invite = await callJson("POST", "/api/dashboard/team/invites", {
      token: a.adminToken,
      body: { email: "New.Person@Example.test", name: "New Person", role: "tenant_admin" },
    });
    expect(invite.status).toBe(201);
    expect(invite.body.invite.email).toBe("new.person@example.test");
    const team = await callJson("GET", "/api/dashboard/team", { token: a.adminToken });
    expect(team.body.invites.map((i: { email: string }) => i.email)).toContain("new.person@example.test");
    expect(JSON.stringify(team.body)).not.toContain(new URL(invite.body.inviteUrl).searchParams.get("token"));

    const token = new URL(invite.body.inviteUrl).searchParams.get("token");
    const weak = await callJson("POST", "/api/auth/invites/accept", {
      body: { token, name: "N", password: "short" },
    });
    expect(weak.status).toBe(400);
    expect(weak.body.details.password).toBeDefined();
    const accepted = await callJson("POST", "/api/auth/invites/accept", {
      body: { token, name: "New Person", password: "new-person-password" },
    });
    expect(accepted.body.user).toMatchObject({
      email: "new.person@example.test",
      role: "tenant_admin",
      tenantId: a.tenantId,
    });
    const after = await callJson("GET", "/api/dashboard/team", { token: a.adminToken });
    expect(after.body.invites).toHaveLength(0);
    expect(after.body.members).toHaveLength(2);

    const dupe = await callJson("POST", "/api/dashboard/team/invites", {
      token: a.adminToken,
      body: { email: "new.person@example.test", role: "tenant_member" },
    });
    expect(dupe.status).toBe(409);
  });

  it("revokes an invite so its link stops working", async () => {
    const invite = await callJson("POST", "/api/dashboard/team/invites", {
      token: a.adminToken,
      body: { email: "revoked@example.test", role: "tenant_member" },
    });
    expect(
      (await call("DELETE", `/api/dashboard/team/invites/${invite.body.invite.id}`, { token: b.adminToken }))
        .status,
    ).toBe(404);
    expect(
      (await call("DELETE", `/api/dashboard/team/invites/${invite.body.invite.id}`, { token: a.adminToken }))
        .status,
    ).toBe(204);
    const token = new URL(invite.body.inviteUrl).searchParams.get("token");
    const res = await callJson("POST", "/api/auth/invites/accept", {
      body: { token, name: "R", password: "revoked-password-1" },
    });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("invite_invalid");
  });

  it("changing a member's role ends their sessions; the last admin cannot be demoted or removed", async () => {
    const t = await provisionTenant(op);
    const team = await callJson("GET", "/api/dashboard/team", { token: t.adminToken });
    const self = team.body.members[0];
    const demote = await callJson("PATCH", `/api/dashboard/team/members/${self.id}`, {
      token: t.adminToken,
      body: { role: "tenant_member" },
    });
    expect(demote.status).toBe(409);
    expect(demote.body.code).toBe("last_admin");
    expect(
      (await call("DELETE", `/api/dashboard/team/members/${self.id}`, { token: t.adminToken })).status,
    ).toBe(409);

    const invite = await callJson("POST", "/api/dashboard/team/invites", {
      token: t.adminToken,
      body: { email: `second@${t.slug}.test`, role: "tenant_admin" },
    });
    const second = await callJson("POST", "/api/auth/invites/accept", {
      body: {
        token: new URL(invite.body.inviteUrl).searchParams.get("token"),
        name: "Second",
        password: "second-password-1",
      },
    });
    const secondId = second.body.user.id;
    const changed = await callJson("PATCH", `/api/dashboard/team/members/${secondId}`, {
      token: t.adminToken,
      body: { role: "tenant_member" },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.member.role).toBe("tenant_member");
    // the old token carried the admin role: it no longer works
    expect((await call("GET", "/api/auth/me", { token: second.body.accessToken })).status).toBe(401);
    const relogin = await login(`second@${t.slug}.test`, "second-password-1");
    expect(relogin.user.role).toBe("tenant_member");

    expect(
      (await call("DELETE", `/api/dashboard/team/members/${secondId}`, { token: t.adminToken })).status,
    ).toBe(204);
    expect(
      (
        await call("POST", "/api/auth/login", {
          body: { email: `second@${t.slug}.test`, password: "second-password-1" },
        })
      ).status,
    ).toBe(401);
    expect(
      (await callJson("PATCH", `/api/dashboard/team/members/${secondId}`, { token: t.adminToken, body: {} }))
        .status,
    ).toBe(400);
    expect(
      (
        await call("PATCH", "/api/dashboard/team/members/usr_nope", {
          token: t.adminToken,
          body: { role: "tenant_admin" },
        })
      ).status,
    ).toBe(404);
  });
});
