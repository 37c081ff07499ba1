import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { alerts, auditEvents, loginFailures, webhookDeliveries } from "../worker/db/schema";
import { buildAuditEvent } from "../worker/features/audit/record";
import {
  auditRows,
  call,
  callJson,
  db,
  deliverAudit,
  OPERATOR,
  operatorToken,
  provisionTenant,
  type TenantFixture,
} from "./helpers";
import { openSocket } from "./sockets";
import { mailTo } from "./standins";

let op: string;
let t: TenantFixture;
let other: TenantFixture;

beforeAll(async () => {
  op = await operatorToken();
  t = await provisionTenant(op);
  other = await provisionTenant(op);
});

const alertsByKey = (dedupeKey: string) =>
  db().select().from(alerts).where(eq(alerts.dedupeKey, dedupeKey)).all();

async function waitForAlert(
  dedupeKey: string,
  pred: (a: typeof alerts.$inferSelect) => boolean = () => true,
) {
  let found: Array<typeof alerts.$inferSelect> = [];
  await vi.waitFor(
    async () => {
      found = await alertsByKey(dedupeKey);
      expect(found.some(pred)).toBe(true);
    },
    { timeout: 10_000, interval: 50 },
  );
  return found;
}

function agentEvent(tenant: TenantFixture, action: string, agentId: string, extra: object = {}) {
  return buildAuditEvent({
    action,
    tenantId: tenant.tenantId,
    actor: { type: "agent", id: agentId, name: agentId },
    severity: "high",
    ...extra,
  });
}

/** Raises a fresh `skill_undeclared_permission` alert in the tenant through the real consumer. */
async function raiseSkillAlert(tenant: TenantFixture) {
  const agentId = `agt_${crypto.randomUUID().slice(0, 8)}`;
  const event = agentEvent(tenant, "skill.permission_denied", agentId, {
    target: { type: "skill", id: "web-search" },
    details: { kind: "network", target: "evil.example", allowed: false },
  });
  await deliverAudit([event]);
  const [alert] = await alertsByKey(`skill_undeclared_permission:${agentId}`);
  if (!alert) throw new Error("no alert raised");
  return { alert, event, agentId };
}

describe("rules in the audit consumer", () => {
  it("5 failed logins for one email raise one high alert with the 5 events as evidence; a 6th within 15 minutes updates it", async () => {
    const email = `victim-${crypto.randomUUID().slice(0, 8)}@aegis.test`;
    for (let i = 0; i < 4; i++) {
      expect(
        (await call("POST", "/api/auth/login", { body: { email, password: `nope-${i}-nope` } })).status,
      ).toBe(401);
    }
    const failedRows = async () =>
      (await auditRows(null)).filter(
        (r) => r.action === "auth.login_failed" && r.details && JSON.parse(r.details).email === email,
      );
    await vi.waitFor(async () => expect(await failedRows()).toHaveLength(4));
    expect(await alertsByKey(`login_failed_burst:${email}`)).toEqual([]);

    expect((await call("POST", "/api/auth/login", { body: { email, password: "nope-4-nope" } })).status).toBe(
      401,
    );
    const [raised, ...more] = await waitForAlert(`login_failed_burst:${email}`);
    expect(more).toEqual([]);
    const five = (await failedRows()).map((r) => r.id).sort();
    expect(five).toHaveLength(5);
    expect(raised).toMatchObject({
      rule: "login_failed_burst",
      severity: "high",
      status: "open",
      tenantId: null,
      count: 5,
      title: `Repeated failed logins for ${email}`,
    });
    expect(JSON.parse(raised?.evidence ?? "[]").sort()).toEqual(five);

    // The lock lasts 5 minutes, the suppression 15: a failure after the lock is lifted is the same incident.
    await db().delete(loginFailures).where(eq(loginFailures.email, email));
    expect((await call("POST", "/api/auth/login", { body: { email, password: "nope-5-nope" } })).status).toBe(
      401,
    );
    const [updated, ...none] = await waitForAlert(`login_failed_burst:${email}`, (a) => a.count === 6);
    expect(none).toEqual([]);
    expect(updated?.id).toBe(raised?.id);
    const six = (await failedRows()).map((r) => r.id).sort();
    expect(JSON.parse(updated?.evidence ?? "[]").sort()).toEqual(six);
    expect(updated?.lastAt).toBe((await failedRows()).map((r) => r.at).sort()[5]);

    // Platform-level: operators see it, and were emailed once.
    const list = await callJson("GET", "/api/admin/alerts?tenantId=platform&limit=200", { token: op });
    expect(list.body.data.find((a: { id: string }) => a.id === raised?.id)).toMatchObject({ count: 6 });
    await vi.waitFor(async () => {
      const mails = (await mailTo(OPERATOR.email)).filter((m) => m.subject.includes(email));
      expect(mails).toHaveLength(1);
      expect(mails[0].subject).toBe(`[Aegis] HIGH alert: Repeated failed logins for ${email}`);
    });
  });

  it("a redelivered batch raises nothing twice, and notifies once; 4 permission denials are not enough", async () => {
    const hook = await callJson("POST", "/api/dashboard/webhooks", {
      token: t.adminToken,
      body: { url: "http://127.0.0.1:9/never-called", events: ["alert.raised"] },
    });
    expect(hook.status).toBe(201);
    const actorId = `key_${crypto.randomUUID().slice(0, 8)}`;
    const events = Array.from({ length: 5 }, (_, i) =>
      buildAuditEvent({
        action: "auth.permission_denied",
        tenantId: t.tenantId,
        actor: { type: "system", id: actorId, name: "api-key:ci" },
        severity: "medium",
        details: { method: "POST", path: "/api/dashboard/agents", reason: `try ${i}` },
      }),
    );
    await deliverAudit(events.slice(0, 4));
    expect(await alertsByKey(`permission_denied_burst:${actorId}`)).toEqual([]);

    for (let round = 0; round < 3; round++) {
      const result = await deliverAudit(events, round + 1);
      expect(result.explicitAcks).toHaveLength(5);
    }
    const found = await alertsByKey(`permission_denied_burst:${actorId}`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: "medium", count: 5, tenantId: t.tenantId, status: "open" });
    expect(JSON.parse(found[0]?.evidence ?? "[]").sort()).toEqual(events.map((e) => e.id).sort());
    const deliveries = await db()
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.webhookId, hook.body.webhook.id))
      .all();
    expect(deliveries.filter((d) => d.payload.includes(found[0]?.id ?? "?"))).toHaveLength(1);
    expect(
      (await call("DELETE", `/api/dashboard/webhooks/${hook.body.webhook.id}`, { token: t.adminToken }))
        .status,
    ).toBe(204);
  });

  it("a cross-tenant attempt raises a high alert in the attacker's tenant, pushed on its live feed", async () => {
    const attacker = await provisionTenant(op);
    const victim = await provisionTenant(op);
    const feed = await openSocket(`/ws/messages?token=${attacker.adminToken}`);
    await feed.next((f) => f.event === "subscribed");
    const victimFeed = await openSocket(`/ws/messages?token=${victim.adminToken}`);
    await victimFeed.next((f) => f.event === "subscribed");
    const agent = await callJson("POST", "/api/dashboard/agents", {
      token: victim.adminToken,
      body: { name: "Target", modelTier: "sonnet", thinkingMode: "off" },
    });
    const probe = await call("GET", `/api/dashboard/agents/${agent.body.agent.id}`, {
      token: attacker.adminToken,
    });
    expect(probe.status).toBe(404);

    const frame = await feed.next(
      (f) => f.event === "alert" && f.alert.rule === "cross_tenant_attempt",
      10_000,
    );
    expect(frame.change).toBe("raised");
    expect(frame.alert).toMatchObject({
      tenantId: attacker.tenantId,
      severity: "high",
      status: "open",
      count: 1,
      title: `Cross-tenant access attempt by ${attacker.adminEmail}`,
    });
    const [evidence] = frame.alert.evidence;
    const row = await db().select().from(auditEvents).where(eq(auditEvents.id, evidence)).get();
    expect(row).toMatchObject({ action: "security.cross_tenant_attempt", tenantId: attacker.tenantId });

    const mine = await callJson("GET", "/api/dashboard/alerts", { token: attacker.adminToken });
    expect(mine.status).toBe(200);
    expect(mine.body.data.map((a: { id: string }) => a.id)).toContain(frame.alert.id);
    const theirs = await callJson("GET", "/api/dashboard/alerts", { token: victim.adminToken });
    expect(theirs.body.data.map((a: { id: string }) => a.id)).not.toContain(frame.alert.id);
    expect(victimFeed.frames.filter((f) => f.event === "alert")).toEqual([]);
    feed.close();
    victimFeed.close();
  });

  it("an undeclared skill permission raises a high alert and emails the tenant admin", async () => {
    const { alert, event } = await raiseSkillAlert(t);
    expect(alert).toMatchObject({ severity: "high", tenantId: t.tenantId, count: 1, status: "open" });
    expect(JSON.parse(alert.evidence)).toEqual([event.id]);
    expect(alert.title).toBe(
      `Agent ${event.actorId} used a permission its skill web-search does not declare`,
    );
    await vi.waitFor(
      async () => {
        const mails = (await mailTo(t.adminEmail)).filter((m) => m.text.includes(alert.id));
        expect(mails).toHaveLength(1);
        expect(mails[0]).toMatchObject({
          from: "Aegis Alerts <alerts@aegis.local>",
          to: t.adminEmail,
          subject: `[Aegis] HIGH alert: ${alert.title}`,
        });
        expect(mails[0].text).toContain(event.id);
      },
      { timeout: 10_000 },
    );
    // Nobody outside the tenant's admins hears about it.
    expect((await mailTo(other.adminEmail)).filter((m) => m.text.includes(alert.id))).toEqual([]);
  });

  it("rejected messages: 20 within 5 minutes raise a medium alert, 19 (and one 6 minutes older) do not", async () => {
    const reason = `loop_guard_${crypto.randomUUID().slice(0, 6)}`;
    const now = Date.now();
    const rejected = (secondsAgo: number) => {
      const e = agentEvent(t, "message.rejected", "agt_sender", { details: { reason, to: "agt_x" } });
      return { ...e, at: new Date(now - secondsAgo * 1000).toISOString() };
    };
    await deliverAudit([rejected(400), ...Array.from({ length: 19 }, (_, i) => rejected(60 - i))]);
    expect(await alertsByKey(`message_rejected_rate:${reason}`)).toEqual([]);
    const last = rejected(0);
    await deliverAudit([last]);
    const [alert, ...more] = await alertsByKey(`message_rejected_rate:${reason}`);
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ severity: "medium", count: 20, tenantId: t.tenantId, lastAt: last.at });
    expect(JSON.parse(alert?.evidence ?? "[]")).toHaveLength(20);
  });

  it("a broken hash chain found by GET /audit/verify raises a critical alert", async () => {
    const tenant = await provisionTenant(op);
    await callJson("POST", "/api/dashboard/agents", {
      token: tenant.adminToken,
      body: { name: "Chained", modelTier: "sonnet", thinkingMode: "off" },
    });
    await vi.waitFor(async () => expect((await auditRows(tenant.tenantId)).length).toBeGreaterThanOrEqual(3));
    const ok = await callJson("GET", "/api/dashboard/audit/verify", { token: tenant.adminToken });
    expect(ok.body.valid).toBe(true);
    const [row] = await auditRows(tenant.tenantId);
    await db()
      .update(auditEvents)
      .set({ actorName: "rewritten history" })
      .where(eq(auditEvents.id, row?.id ?? ""));
    const broken = await callJson("GET", "/api/dashboard/audit/verify", { token: tenant.adminToken });
    expect(broken.body.valid).toBe(false);
    const [alert] = await waitForAlert(`audit_chain_broken:${tenant.tenantId}`);
    expect(alert).toMatchObject({ severity: "critical", tenantId: tenant.tenantId, status: "open" });
    const evidence = await db()
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.id, JSON.parse(alert?.evidence ?? "[]")[0]))
      .get();
    expect(evidence).toMatchObject({ action: "audit.verify_failed", severity: "critical" });
  });
});

describe("alerts API", () => {
  it("acknowledge then resolve; 409 when already there; 404 for another tenant; 403 for a member", async () => {
    const { alert, agentId } = await raiseSkillAlert(t);
    const member = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: t.adminToken,
      body: { name: "viewer", role: "tenant_member" },
    });
    const memberKey: string = member.body.key;

    const seen = await callJson("GET", "/api/dashboard/alerts?status=open&severity=high", {
      token: memberKey,
    });
    expect(seen.status).toBe(200);
    expect(seen.body.data.find((a: { id: string }) => a.id === alert.id)).toMatchObject({
      status: "open",
      evidence: JSON.parse(alert.evidence),
    });
    const denied = await callJson("POST", `/api/dashboard/alerts/${alert.id}/acknowledge`, {
      token: memberKey,
    });
    expect(denied.status).toBe(403);
    const foreign = await callJson("POST", `/api/dashboard/alerts/${alert.id}/acknowledge`, {
      token: other.adminToken,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe("not_found");
    expect((await call("POST", `/api/dashboard/alerts/${alert.id}/resolve`)).status).toBe(401);
    expect(
      (await call("POST", "/api/dashboard/alerts/alr_nope/acknowledge", { token: t.adminToken })).status,
    ).toBe(404);

    const acked = await callJson("POST", `/api/dashboard/alerts/${alert.id}/acknowledge`, {
      token: t.adminToken,
    });
    expect(acked.status).toBe(200);
    expect(acked.body.alert).toMatchObject({ status: "acknowledged", acknowledgedBy: t.adminEmail });
    expect(acked.body.alert.acknowledgedAt).toEqual(expect.any(String));
    const again = await callJson("POST", `/api/dashboard/alerts/${alert.id}/acknowledge`, {
      token: t.adminToken,
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "conflict", details: { status: "acknowledged" } });

    // still suppressing while acknowledged: a repeat updates it
    const repeat = agentEvent(t, "skill.permission_denied", agentId, {
      target: { type: "skill", id: "web-search" },
    });
    await deliverAudit([repeat]);
    expect(await alertsByKey(`skill_undeclared_permission:${agentId}`)).toMatchObject([
      { id: alert.id, count: 2, status: "acknowledged" },
    ]);

    const resolved = await callJson("POST", `/api/dashboard/alerts/${alert.id}/resolve`, {
      token: t.adminToken,
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body.alert).toMatchObject({ status: "resolved", resolvedBy: t.adminEmail });
    expect(
      (await call("POST", `/api/dashboard/alerts/${alert.id}/resolve`, { token: t.adminToken })).status,
    ).toBe(409);
    expect(
      (await call("POST", `/api/dashboard/alerts/${alert.id}/acknowledge`, { token: t.adminToken })).status,
    ).toBe(409);

    const open = await callJson("GET", "/api/dashboard/alerts?status=open&limit=200", {
      token: t.adminToken,
    });
    expect(open.body.data.map((a: { id: string }) => a.id)).not.toContain(alert.id);
    const done = await callJson("GET", "/api/dashboard/alerts?status=resolved", { token: t.adminToken });
    expect(done.body.data.map((a: { id: string }) => a.id)).toContain(alert.id);

    // once resolved, the same subject raises a new alert
    await deliverAudit([
      agentEvent(t, "skill.permission_denied", agentId, { target: { type: "skill", id: "x" } }),
    ]);
    const all = await alertsByKey(`skill_undeclared_permission:${agentId}`);
    expect(all.map((a) => a.status).sort()).toEqual(["open", "resolved"]);

    await vi.waitFor(async () => {
      const actions = (await auditRows(t.tenantId))
        .filter((r) => r.targetId === alert.id)
        .map((r) => r.action)
        .sort();
      expect(actions).toEqual(["alert.acknowledged", "alert.resolved"]);
    });
  });

  it("a member's repeated writes raise a permission-denial alert (5 within 10 minutes)", async () => {
    const member = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: t.adminToken,
      body: { name: `probe-${crypto.randomUUID().slice(0, 6)}`, role: "tenant_member" },
    });
    for (let i = 0; i < 5; i++) {
      const res = await call("POST", "/api/dashboard/agents", {
        token: member.body.key,
        body: { name: `Nope ${i}`, modelTier: "sonnet", thinkingMode: "off" },
      });
      expect(res.status).toBe(403);
    }
    const [alert] = await waitForAlert(`permission_denied_burst:${member.body.apiKey.id}`);
    expect(alert).toMatchObject({ severity: "medium", count: 5, tenantId: t.tenantId });
    const denials = await db()
      .select({ id: auditEvents.id })
      .from(auditEvents)
      .where(
        and(eq(auditEvents.action, "auth.permission_denied"), eq(auditEvents.actorId, member.body.apiKey.id)),
      )
      .all();
    expect(JSON.parse(alert?.evidence ?? "[]").sort()).toEqual(denials.map((d) => d.id).sort());
  });

  it("validates filters, and operators list platform-level alerts", async () => {
    const bad = await callJson("GET", "/api/dashboard/alerts?status=snoozed&severity=apocalyptic&limit=0", {
      token: t.adminToken,
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details).sort()).toEqual(["query.limit", "query.severity", "query.status"]);
    expect((await call("GET", "/api/dashboard/alerts")).status).toBe(401);
    expect((await call("GET", "/api/admin/alerts", { token: t.adminToken })).status).toBe(403);
    const all = await callJson("GET", `/api/admin/alerts?tenantId=${t.tenantId}`, { token: op });
    expect(all.status).toBe(200);
    expect(all.body.data.every((a: { tenantId: string }) => a.tenantId === t.tenantId)).toBe(true);
  });
});
