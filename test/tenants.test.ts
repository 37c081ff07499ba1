import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { configVersions, provisioningJobs, tenants, users } from "../worker/db/schema";
import {
  auditRows,
  call,
  callJson,
  db,
  env,
  login,
  operatorToken,
  provisionTenant,
  runProvisioning,
} from "./helpers";

let op: string;
beforeAll(async () => {
  op = await operatorToken();
});

const newTenant = (slug: string, extra: Record<string, unknown> = {}) => ({
  name: `Company ${slug}`,
  slug,
  planTier: "growth",
  adminEmail: `admin@${slug}.test`,
  adminName: "Ada Admin",
  ...extra,
});

describe("POST /api/admin/tenants (provisioning wizard)", () => {
  it("answers 202 at once with pending steps and a one-time password, then the queue job completes every step", async () => {
    const created = await callJson("POST", "/api/admin/tenants", { token: op, body: newTenant("acme") });
    expect(created.status).toBe(202);
    expect(created.body.tenant).toMatchObject({ slug: "acme", status: "provisioning", planTier: "growth" });
    expect(created.body.tenant).toMatchObject({ overageBillingEnabled: false, monthlyTokenQuota: 2_500_000 });
    expect(created.body.provisioning.status).toBe("pending");
    expect(created.body.provisioning.steps.map((s: { name: string }) => s.name)).toEqual([
      "tenant_record",
      "admin_user",
      "default_config",
      "tenant_hub",
      "core_skills",
    ]);
    expect(created.body.admin.oneTimePassword.length).toBeGreaterThanOrEqual(12);
    const id = created.body.tenant.id;

    await runProvisioning(id);

    const progress = await callJson("GET", `/api/admin/tenants/${id}/provisioning`, { token: op });
    expect(progress.body.status).toBe("completed");
    expect(progress.body.steps.every((s: { status: string }) => s.status === "completed")).toBe(true);
    const detail = await callJson("GET", `/api/admin/tenants/${id}`, { token: op });
    expect(detail.body.tenant.status).toBe("active");

    // the admin can log in with the one-time password; the password is stored only as a PBKDF2 hash
    const session = await login("admin@acme.test", created.body.admin.oneTimePassword);
    expect(session.user.role).toBe("tenant_admin");
    const admin = await db().select().from(users).where(eq(users.email, "admin@acme.test")).get();
    expect(admin?.passwordHash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(admin?.passwordHash).not.toContain(created.body.admin.oneTimePassword);

    const config = await callJson("GET", "/api/dashboard/config", { token: session.accessToken });
    expect(config.body.version).toBe(1);
    expect(config.body.config.messaging.maxHops).toBe(16);

    const hub = env.TENANT_HUB.get(env.TENANT_HUB.idFromName(id));
    expect(await hub.describe()).toMatchObject({ tenantId: id, slug: "acme" });

    const skills = await callJson("GET", "/api/dashboard/skills", { token: session.accessToken });
    expect(skills.body.data.filter((s: { isCore: boolean }) => s.isCore)).toHaveLength(10);

    await vi.waitFor(async () => {
      const actions = (await auditRows(id)).map((r) => r.action);
      expect(actions).toEqual(expect.arrayContaining(["tenant.created", "tenant.provisioned"]));
    });
    // the one-time password never reaches the audit log
    expect(JSON.stringify(await auditRows(id))).not.toContain(created.body.admin.oneTimePassword);
  });

  it("running the same queue message twice creates nothing twice", async () => {
    const created = await callJson("POST", "/api/admin/tenants", { token: op, body: newTenant("twice") });
    const id = created.body.tenant.id;
    await runProvisioning(id, 2);
    const d = db();
    expect(await d.select().from(users).where(eq(users.tenantId, id)).all()).toHaveLength(1);
    expect(await d.select().from(configVersions).where(eq(configVersions.tenantId, id)).all()).toHaveLength(
      1,
    );
    const job = await d.select().from(provisioningJobs).where(eq(provisioningJobs.tenantId, id)).get();
    expect(job?.status).toBe("completed");
  });

  it("a failing step leaves the tenant failed with the step's error; retry resumes from that step", async () => {
    const created = await callJson("POST", "/api/admin/tenants", { token: op, body: newTenant("clash") });
    const id = created.body.tenant.id;
    // Between the request and the job, someone else takes the admin's email.
    await db().insert(users).values({
      id: "usr_squatter",
      email: "admin@clash.test",
      name: "Squatter",
      role: "platform_admin",
      passwordHash: "x",
    });
    await runProvisioning(id);

    const failed = await callJson("GET", `/api/admin/tenants/${id}/provisioning`, { token: op });
    expect(failed.body.status).toBe("failed");
    const byName = Object.fromEntries(failed.body.steps.map((s: { name: string }) => [s.name, s]));
    expect(byName.tenant_record.status).toBe("completed");
    expect(byName.admin_user).toMatchObject({
      status: "failed",
      error: "The email admin@clash.test already belongs to another account",
    });
    expect(byName.default_config.status).toBe("pending");
    expect((await callJson("GET", `/api/admin/tenants/${id}`, { token: op })).body.tenant.status).toBe(
      "failed",
    );
    // nothing half-created: no config was written after the failing step
    expect(
      await db().select().from(configVersions).where(eq(configVersions.tenantId, id)).all(),
    ).toHaveLength(0);

    // a retry while the cause persists fails again at the same step, attempts count up
    const again = await callJson("POST", `/api/admin/tenants/${id}/provisioning/retry`, { token: op });
    expect(again.status).toBe(202);
    expect(again.body.attempts).toBe(1);
    expect(again.body.steps.find((s: { name: string }) => s.name === "tenant_record").status).toBe(
      "completed",
    );

    await runProvisioning(id);
    const stillFailing = await callJson("GET", `/api/admin/tenants/${id}/provisioning`, { token: op });
    expect(stillFailing.body.status).toBe("failed");

    await db().delete(users).where(eq(users.id, "usr_squatter"));
    const resumed = await callJson("POST", `/api/admin/tenants/${id}/provisioning/retry`, { token: op });
    expect(resumed.body.attempts).toBe(2);
    await runProvisioning(id);
    const done = await callJson("GET", `/api/admin/tenants/${id}/provisioning`, { token: op });
    expect(done.body.status).toBe("completed");
    expect((await callJson("GET", `/api/admin/tenants/${id}`, { token: op })).body.tenant.status).toBe(
      "active",
    );
    await login("admin@clash.test", created.body.admin.oneTimePassword);

    // only a failed job can be retried
    const notFailed = await callJson("POST", `/api/admin/tenants/${id}/provisioning/retry`, { token: op });
    expect(notFailed.status).toBe(409);
  });

  it("refuses a taken slug and a taken email with 409 and writes nothing", async () => {
    await callJson("POST", "/api/admin/tenants", { token: op, body: newTenant("dupe") });
    const slug = await callJson("POST", "/api/admin/tenants", {
      token: op,
      body: newTenant("dupe", { adminEmail: "x@y.test" }),
    });
    expect(slug.status).toBe(409);
    expect(slug.body).toMatchObject({ code: "slug_taken", details: { slug: ["This slug is taken"] } });
    const email = await callJson("POST", "/api/admin/tenants", {
      token: op,
      body: newTenant("other", { adminEmail: "admin@aegis.test" }),
    });
    expect(email.status).toBe(409);
    expect(email.body.code).toBe("email_taken");
    expect(await db().select().from(tenants).where(eq(tenants.slug, "other")).all()).toHaveLength(0);
  });

  it("rejects bad input with field paths and writes nothing", async () => {
    const before = (await db().select().from(tenants).all()).length;
    const bad = await callJson("POST", "/api/admin/tenants", {
      token: op,
      body: { name: "", slug: "Bad Slug!", planTier: "platinum", adminEmail: "not-an-email", adminName: "" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("validation_failed");
    expect(Object.keys(bad.body.details).sort()).toEqual([
      "adminEmail",
      "adminName",
      "name",
      "planTier",
      "slug",
    ]);
    const reserved = await callJson("POST", "/api/admin/tenants", { token: op, body: newTenant("admin") });
    expect(reserved.body.details.slug).toEqual(["This slug is reserved"]);
    expect((await db().select().from(tenants).all()).length).toBe(before);
  });

  it("is for operators only: 401 without a token, 403 for a tenant admin (and recorded)", async () => {
    expect((await call("GET", "/api/admin/tenants")).status).toBe(401);
    const t = await provisionTenant(op);
    const denied = await callJson("POST", "/api/admin/tenants", {
      token: t.adminToken,
      body: newTenant("sneaky"),
    });
    expect(denied.status).toBe(403);
    expect((await call("GET", "/api/admin/dashboard/stats", { token: t.adminToken })).status).toBe(403);
    await vi.waitFor(async () => {
      expect((await auditRows(t.tenantId)).some((r) => r.action === "auth.permission_denied")).toBe(true);
    });
  });
});

describe("operator tenant management", () => {
  it("lists with paging and search, reads, and 404s an unknown id", async () => {
    await provisionTenant(op, { slug: "searchable-co" });
    const list = await callJson("GET", "/api/admin/tenants?limit=2&page=1", { token: op });
    expect(list.status).toBe(200);
    expect(list.body.data.length).toBeLessThanOrEqual(2);
    expect(list.body.meta).toMatchObject({ page: 1, limit: 2 });
    const found = await callJson("GET", "/api/admin/tenants?q=searchable", { token: op });
    expect(found.body.data.map((t: { slug: string }) => t.slug)).toEqual(["searchable-co"]);
    expect((await callJson("GET", "/api/admin/tenants?limit=1000", { token: op })).status).toBe(400);
    const missing = await callJson("GET", "/api/admin/tenants/ten_nope", { token: op });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("not_found");
  });

  it("changes the plan and refuses overage on starter", async () => {
    const t = await provisionTenant(op, { planTier: "growth" });
    const starterOverage = await callJson("PATCH", `/api/admin/tenants/${t.tenantId}`, {
      token: op,
      body: { planTier: "starter", overageBillingEnabled: true },
    });
    expect(starterOverage.status).toBe(403);
    expect(starterOverage.body.code).toBe("plan_not_eligible");
    const ok = await callJson("PATCH", `/api/admin/tenants/${t.tenantId}`, {
      token: op,
      body: { overageBillingEnabled: true, monthlyTokenQuota: 5_000_000 },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.tenant).toMatchObject({ overageBillingEnabled: true, monthlyTokenQuota: 5_000_000 });
    expect(
      (await callJson("PATCH", `/api/admin/tenants/${t.tenantId}`, { token: op, body: {} })).status,
    ).toBe(400);
  });

  it("suspending a tenant logs its users out and blocks login", async () => {
    const t = await provisionTenant(op);
    await callJson("PATCH", `/api/admin/tenants/${t.tenantId}`, { token: op, body: { status: "suspended" } });
    expect((await call("GET", "/api/auth/me", { token: t.adminToken })).status).toBe(401);
    const denied = await callJson("POST", "/api/auth/login", {
      body: { email: t.adminEmail, password: t.adminPassword },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("tenant_suspended");
  });

  it("plans come from pricing.md", async () => {
    const plans = await callJson("GET", "/api/admin/plans", { token: op });
    const growth = plans.body.data.find((p: { tier: string }) => p.tier === "growth");
    expect(growth).toMatchObject({
      platformFeeUsd: 299,
      includedAgents: 5,
      maxAgents: 20,
      models: ["sonnet", "opus"],
    });
    expect(plans.body.agentFeesUsd).toEqual({ haiku: 19, sonnet: 49, opus: 99 });
  });
});
