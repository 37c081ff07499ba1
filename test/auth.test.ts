import { describe, expect, it, vi } from "vitest";
import { sessions } from "../worker/db/schema";
import {
  auditRows,
  call,
  callJson,
  db,
  login,
  OPERATOR,
  ORIGIN,
  operatorToken,
  provisionTenant,
} from "./helpers";

describe("POST /api/auth/login", () => {
  it("logs the bootstrap operator in and sets HttpOnly cookies", async () => {
    const { status, body, res } = await callJson("POST", "/api/auth/login", { body: OPERATOR });
    expect(status).toBe(200);
    expect(body.user).toMatchObject({ email: OPERATOR.email, role: "platform_admin", tenantId: null });
    expect(body.expiresIn).toBe(900);
    expect(body.accessToken).toMatch(/^eyJ/);
    const cookies: string[] = res.headers.getAll("set-cookie");
    expect(
      cookies.some(
        (c) => c.startsWith("aegis_session=") && /HttpOnly/i.test(c) && /SameSite=Strict/i.test(c),
      ),
    ).toBe(true);
    expect(cookies.some((c) => c.startsWith("aegis_refresh=") && /Path=\/api\/auth/.test(c))).toBe(true);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("answers an unknown email and a wrong password identically", async () => {
    const unknown = await callJson("POST", "/api/auth/login", {
      body: { email: "nobody@x.test", password: "whatever-password" },
    });
    const wrong = await callJson("POST", "/api/auth/login", {
      body: { email: OPERATOR.email, password: "wrong-password-123" },
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined, timestamp: undefined });
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
    expect(unknown.body.code).toBe("invalid_credentials");
  });

  it("rejects a malformed body with field paths", async () => {
    const { status, body } = await callJson("POST", "/api/auth/login", { body: { email: "" } });
    expect(status).toBe(400);
    expect(body.code).toBe("validation_failed");
    expect(Object.keys(body.details)).toEqual(expect.arrayContaining(["email", "password"]));
  });

  it("rejects invalid JSON as validation_failed, not 500", async () => {
    const res = await call("POST", "/api/auth/login", {
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    const body = await res.json<{ code: string; message: string }>();
    expect(body.code).toBe("validation_failed");
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|stack/i);
  });

  it("locks an account after 5 failures in 5 minutes with 429 and Retry-After, and records it", async () => {
    const email = "locked@x.test";
    for (let i = 0; i < 5; i++) {
      const r = await call("POST", "/api/auth/login", { body: { email, password: `wrong-password-${i}` } });
      expect(r.status).toBe(401);
    }
    const locked = await call("POST", "/api/auth/login", { body: { email, password: "wrong-password-x" } });
    expect(locked.status).toBe(429);
    const retry = Number(locked.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(300);
    // another account is not affected
    expect((await call("POST", "/api/auth/login", { body: OPERATOR })).status).toBe(200);
    await vi.waitFor(async () => {
      const actions = (await auditRows(null)).map((r) => r.action);
      expect(actions.filter((a) => a === "auth.login_failed").length).toBeGreaterThanOrEqual(5);
      expect(actions).toContain("auth.login_locked");
    });
  });
});

describe("refresh, logout and me", () => {
  it("rotates refresh tokens; reusing a rotated one revokes the whole family", async () => {
    const first = await login(OPERATOR.email, OPERATOR.password);
    const second = await callJson("POST", "/api/auth/refresh", {
      body: { refreshToken: first.refreshToken },
    });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    // the new access token works
    expect((await call("GET", "/api/auth/me", { token: second.body.accessToken })).status).toBe(200);

    const replay = await callJson("POST", "/api/auth/refresh", {
      body: { refreshToken: first.refreshToken },
    });
    expect(replay.status).toBe(401);
    // the family is revoked: the newest refresh token and the access tokens of the session stop working
    expect(
      (await call("POST", "/api/auth/refresh", { body: { refreshToken: second.body.refreshToken } })).status,
    ).toBe(401);
    expect((await call("GET", "/api/auth/me", { token: second.body.accessToken })).status).toBe(401);
    await vi.waitFor(async () => {
      expect(
        (await auditRows(null)).some(
          (r) => r.action === "auth.refresh_token_reused" && r.severity === "high",
        ),
      ).toBe(true);
    });
  });

  it("refreshes from the HttpOnly cookie when the body has no token", async () => {
    const first = await login(OPERATOR.email, OPERATOR.password);
    const res = await call("POST", "/api/auth/refresh", {
      headers: { cookie: `aegis_refresh=${first.refreshToken}` },
    });
    expect(res.status).toBe(200);
  });

  it("logout revokes the session: access and refresh tokens stop working", async () => {
    const s = await login(OPERATOR.email, OPERATOR.password);
    expect((await call("POST", "/api/auth/logout", { token: s.accessToken })).status).toBe(204);
    expect((await call("GET", "/api/auth/me", { token: s.accessToken })).status).toBe(401);
    expect((await call("POST", "/api/auth/refresh", { body: { refreshToken: s.refreshToken } })).status).toBe(
      401,
    );
    const revoked = (await db().select().from(sessions).all()).filter((r) => r.revokedReason === "logout");
    expect(revoked.length).toBeGreaterThan(0);
  });

  it("me requires authentication and returns the user with its tenant", async () => {
    const none = await callJson("GET", "/api/auth/me");
    expect(none.status).toBe(401);
    expect(none.body.code).toBe("unauthenticated");
    expect((await call("GET", "/api/auth/me", { token: "garbage.token.value" })).status).toBe(401);
    const op = await operatorToken();
    const t = await provisionTenant(op, { planTier: "starter" });
    const me = await callJson("GET", "/api/auth/me", { token: t.adminToken });
    expect(me.body.user).toMatchObject({ email: t.adminEmail, role: "tenant_admin", tenantId: t.tenantId });
    expect(me.body.tenant).toMatchObject({ slug: t.slug, planTier: "starter", status: "active" });
  });

  it("accepts the session cookie for reads but refuses cookie mutations from another origin", async () => {
    const s = await login(OPERATOR.email, OPERATOR.password);
    const cookie = `aegis_session=${s.accessToken}`;
    expect((await call("GET", "/api/admin/tenants", { headers: { cookie } })).status).toBe(200);
    const body = {
      name: "Evil Co",
      slug: "evil-co",
      planTier: "starter",
      adminEmail: "a@evil.test",
      adminName: "E",
    };
    const noOrigin = await callJson("POST", "/api/admin/tenants", { headers: { cookie }, body });
    expect(noOrigin.status).toBe(403);
    expect(noOrigin.body.code).toBe("origin_mismatch");
    const evil = await call("POST", "/api/admin/tenants", {
      headers: { cookie, origin: "https://evil.example" },
      body,
    });
    expect(evil.status).toBe(403);
    const same = await call("POST", "/api/admin/tenants", { headers: { cookie, origin: ORIGIN }, body });
    expect(same.status).toBe(202);
  });

  it("changing the password requires the current one and ends other sessions", async () => {
    const op = await operatorToken();
    const t = await provisionTenant(op);
    const other = await login(t.adminEmail, t.adminPassword);
    const bad = await callJson("POST", "/api/auth/password", {
      token: t.adminToken,
      body: { currentPassword: "not-the-password", newPassword: "a-new-password-123" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.currentPassword).toBeDefined();
    const short = await callJson("POST", "/api/auth/password", {
      token: t.adminToken,
      body: { currentPassword: t.adminPassword, newPassword: "short" },
    });
    expect(short.status).toBe(400);
    expect(short.body.details.newPassword).toBeDefined();
    const ok = await call("POST", "/api/auth/password", {
      token: t.adminToken,
      body: { currentPassword: t.adminPassword, newPassword: "a-new-password-123" },
    });
    expect(ok.status).toBe(204);
    expect((await call("GET", "/api/auth/me", { token: t.adminToken })).status).toBe(200);
    expect((await call("GET", "/api/auth/me", { token: other.accessToken })).status).toBe(401);
    expect(
      (await call("POST", "/api/auth/login", { body: { email: t.adminEmail, password: t.adminPassword } }))
        .status,
    ).toBe(401);
    await login(t.adminEmail, "a-new-password-123");
  });
});
