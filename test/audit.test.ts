import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../worker/app";
import { auditEvents } from "../worker/db/schema";
import { chainOf } from "../worker/features/audit/chain";
import { buildAuditEvent } from "../worker/features/audit/record";
import { csvCell, verifyChain } from "../worker/features/audit/service";
import worker from "../worker/index";
import { writeAuditEvents } from "../worker/jobs/audit-writer";
import {
  auditRows,
  call,
  callJson,
  db,
  env,
  OPERATOR,
  operatorToken,
  provisionTenant,
  type TenantFixture,
} from "./helpers";

let op: string;
let t: TenantFixture;
let other: TenantFixture;

beforeAll(async () => {
  op = await operatorToken();
  t = await provisionTenant(op);
  other = await provisionTenant(op);
});

async function settle(tenantId: string, atLeast: number) {
  await vi.waitFor(async () => expect((await auditRows(tenantId)).length).toBeGreaterThanOrEqual(atLeast), {
    timeout: 5000,
  });
}

describe("hash chain", () => {
  it("chains each tenant's rows and verify detects a changed, a removed and a re-ordered row", async () => {
    const tenant = await provisionTenant(op);
    for (const name of ["One", "Two", "Three", "Four"]) {
      await callJson("POST", "/api/dashboard/agents", {
        token: tenant.adminToken,
        body: { name, modelTier: "sonnet", thinkingMode: "off" },
      });
    }
    await settle(tenant.tenantId, 6);
    const ok = await callJson("GET", "/api/dashboard/audit/verify", { token: tenant.adminToken });
    expect(ok.body).toMatchObject({ valid: true, firstBrokenId: null });
    expect(ok.body.checked).toBe((await auditRows(tenant.tenantId)).length);

    const rows = await db()
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.chain, tenant.tenantId))
      .orderBy(auditEvents.seq)
      .all();
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const [r1, r2, r3] = [rows[1], rows[2], rows[3]];
    if (!r1 || !r2 || !r3) throw new Error("not enough rows");

    // changed
    await db().update(auditEvents).set({ actorName: "someone else" }).where(eq(auditEvents.id, r2.id));
    expect(await verifyChain(db(), tenant.tenantId)).toMatchObject({
      valid: false,
      firstBrokenId: r2.id,
      reason: "content does not match its hash",
    });
    await db().update(auditEvents).set({ actorName: r2.actorName }).where(eq(auditEvents.id, r2.id));
    expect((await verifyChain(db(), tenant.tenantId)).valid).toBe(true);

    // re-ordered pair: swap the seq of two neighbours
    await db().update(auditEvents).set({ seq: -1 }).where(eq(auditEvents.id, r1.id));
    await db().update(auditEvents).set({ seq: r1.seq }).where(eq(auditEvents.id, r2.id));
    await db().update(auditEvents).set({ seq: r2.seq }).where(eq(auditEvents.id, r1.id));
    const swapped = await verifyChain(db(), tenant.tenantId);
    expect(swapped.valid).toBe(false);
    expect(swapped.firstBrokenId).toBe(r2.id);
    await db().update(auditEvents).set({ seq: -1 }).where(eq(auditEvents.id, r1.id));
    await db().update(auditEvents).set({ seq: r2.seq }).where(eq(auditEvents.id, r2.id));
    await db().update(auditEvents).set({ seq: r1.seq }).where(eq(auditEvents.id, r1.id));
    expect((await verifyChain(db(), tenant.tenantId)).valid).toBe(true);

    // removed from the middle
    await db().delete(auditEvents).where(eq(auditEvents.id, r2.id));
    expect(await verifyChain(db(), tenant.tenantId)).toMatchObject({
      valid: false,
      firstBrokenId: r3.id,
      reason: `row(s) missing before seq ${r3.seq}`,
    });
  });

  it("detects the newest rows being removed (the chain head no longer matches)", async () => {
    const tenant = await provisionTenant(op);
    await callJson("POST", "/api/dashboard/agents", {
      token: tenant.adminToken,
      body: { name: "Solo", modelTier: "sonnet", thinkingMode: "off" },
    });
    await settle(tenant.tenantId, 3);
    const last = await db()
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.chain, tenant.tenantId))
      .orderBy(sql`${auditEvents.seq} DESC`)
      .get();
    await db()
      .delete(auditEvents)
      .where(eq(auditEvents.id, last?.id ?? ""));
    const res = await verifyChain(db(), tenant.tenantId);
    expect(res.valid).toBe(false);
    expect(res.reason).toBe("the newest 1 row(s) were removed");
  });

  it("a redelivered batch writes nothing twice and keeps the chain valid", async () => {
    const events = ["a", "b", "c"].map((n) =>
      buildAuditEvent({
        action: `test.${n}`,
        tenantId: other.tenantId,
        actor: { type: "system", id: null, name: "test" },
      }),
    );
    const before = (await auditRows(other.tenantId)).length;
    const batch = () =>
      createMessageBatch(
        "aegis-audit",
        events.map((event, i) => ({
          id: `m${i}`,
          timestamp: new Date(),
          attempts: 1,
          body: { kind: "audit", event },
        })),
      );
    for (let i = 0; i < 2; i++) {
      const b = batch();
      const ctx = createExecutionContext();
      await worker.queue(b, env, ctx);
      const result = await getQueueResult(b, ctx);
      expect(result.explicitAcks.length).toBe(3);
    }
    expect((await auditRows(other.tenantId)).length).toBe(before + 3);
    expect(await writeAuditEvents(db(), events)).toBe(0);
    expect((await verifyChain(db(), chainOf(other.tenantId))).valid).toBe(true);
  });
});

describe("every mutating route is audited, by construction", () => {
  it("each mutating route of the route table leaves an event with the request's id", async () => {
    const mutating = app.routes.filter(
      (r) =>
        ["POST", "PUT", "PATCH", "DELETE"].includes(r.method) &&
        (r.path.startsWith("/api/") || r.path.startsWith("/v1/")),
    );
    const routes = [...new Map(mutating.map((r) => [`${r.method} ${r.path}`, r])).values()];
    expect(routes.length).toBeGreaterThan(25);
    // Its own tenant: the walk calls logout and password change with this session.
    const walker = await provisionTenant(op);
    const missing: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, (_m, name: string) =>
        name === "action" ? "pause" : name === "template" ? "daily_sync" : `x_${name}`,
      );
      const token = path.startsWith("/api/admin") ? op : walker.adminToken;
      const res = await call(r.method, path, { token, body: {} });
      const requestId = res.headers.get("x-request-id");
      await res.arrayBuffer();
      try {
        await vi.waitFor(
          async () => {
            const rows = await db()
              .select()
              .from(auditEvents)
              .where(eq(auditEvents.requestId, requestId ?? ""))
              .all();
            expect(rows.length).toBeGreaterThan(0);
          },
          { timeout: 3000 },
        );
      } catch {
        missing.push(`${r.method} ${r.path} (${res.status})`);
      }
    }
    expect(missing).toEqual([]);
    // One request and one consumed audit batch per route: the walk grows with the route table.
  }, 30_000);
});

describe("audit viewer API", () => {
  it("filters, pages with a cursor, and keeps tenants apart", async () => {
    for (let i = 0; i < 5; i++) {
      await callJson("POST", "/api/dashboard/agents", {
        token: t.adminToken,
        body: { name: `Viewer ${i}`, modelTier: "sonnet", thinkingMode: "off" },
      });
    }
    await settle(t.tenantId, 7);
    const first = await callJson("GET", "/api/dashboard/audit?action=agent.created&limit=2", {
      token: t.adminToken,
    });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.data.every((e: { action: string }) => e.action === "agent.created")).toBe(true);
    expect(first.body.data[0].details.after.modelTier).toBe("sonnet");
    const second = await callJson(
      "GET",
      `/api/dashboard/audit?action=agent.created&limit=2&cursor=${first.body.meta.nextCursor}`,
      {
        token: t.adminToken,
      },
    );
    expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
    expect(second.body.data[0].at <= first.body.data[1].at).toBe(true);

    const theirs = await callJson("GET", "/api/dashboard/audit?limit=200", { token: other.adminToken });
    expect(theirs.body.data.some((e: { tenantId: string }) => e.tenantId === t.tenantId)).toBe(false);
    // a cursor taken from tenant A's page gives tenant B only B's rows
    const crossCursor = await callJson("GET", `/api/dashboard/audit?cursor=${first.body.meta.nextCursor}`, {
      token: other.adminToken,
    });
    expect(crossCursor.body.data.every((e: { tenantId: string }) => e.tenantId === other.tenantId)).toBe(
      true,
    );

    const all = await callJson("GET", `/api/admin/audit?tenantId=${t.tenantId}&limit=200`, { token: op });
    expect(all.body.data.length).toBeGreaterThan(5);
    expect(all.body.data.every((e: { tenantId: string }) => e.tenantId === t.tenantId)).toBe(true);
    expect((await call("GET", "/api/admin/audit", { token: t.adminToken })).status).toBe(403);
    expect((await call("GET", "/api/dashboard/audit")).status).toBe(401);
    const actions = await callJson("GET", "/api/dashboard/audit/actions", { token: t.adminToken });
    expect(actions.body.data).toContain("agent.created");
  });

  it("refuses bad filters: dates, enums, limit over 200, forged cursors", async () => {
    const bad = await callJson("GET", "/api/dashboard/audit?from=yesterday&severity=apocalyptic&limit=500", {
      token: t.adminToken,
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details).sort()).toEqual(["query.from", "query.limit", "query.severity"]);
    const forged = await callJson("GET", `/api/dashboard/audit?cursor=${btoa("' OR 1=1 --")}`, {
      token: t.adminToken,
    });
    expect(forged.status).toBe(400);
    expect(forged.body.details["query.cursor"]).toBeDefined();
  });

  it("exports CSV and JSON with formula injection neutralised, and the export is itself audited", async () => {
    await callJson("POST", "/api/dashboard/agents", {
      token: t.adminToken,
      body: { name: "=cmd Calc", modelTier: "sonnet", thinkingMode: "off" },
    });
    await settle(t.tenantId, 8);
    const csv = await call("GET", "/api/dashboard/audit/export?format=csv&action=agent.created", {
      token: t.adminToken,
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.headers.get("content-disposition")).toMatch(/attachment; filename="aegis-audit-.*\.csv"/);
    const text = await csv.text();
    const lines = text.trim().split("\r\n");
    expect(lines[0]?.startsWith("id,at,tenantId,seq,actorType")).toBe(true);
    expect(lines.length).toBeGreaterThan(2);
    expect(text).not.toMatch(/(^|,)=cmd/m);
    const json = await call("GET", "/api/dashboard/audit/export?format=json&action=agent.created", {
      token: t.adminToken,
    });
    const parsed = (await json.json()) as Array<{ action: string }>;
    expect(parsed.every((e) => e.action === "agent.created")).toBe(true);
    await vi.waitFor(async () =>
      expect((await auditRows(t.tenantId)).some((r) => r.action === "audit.exported")).toBe(true),
    );
  });

  it("caps an export at 10,000 rows", async () => {
    const tenant = other.tenantId;
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10005)
       INSERT INTO audit_events (id, tenant_id, chain, seq, prev_hash, hash, actor_type, action, severity, at)
       SELECT printf('aud_bulk%06d', i), ?1, 'bulk-' || ?1, i, '', '', 'system', 'bulk.seeded', 'info',
              strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' seconds') FROM n`,
    )
      .bind(tenant)
      .run();
    const res = await call("GET", "/api/dashboard/audit/export?format=csv&action=bulk.seeded", {
      token: other.adminToken,
    });
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines.length).toBe(10_001);
  });

  it("csvCell quotes per RFC 4180 and neutralises formulas", () => {
    expect(csvCell('he said "hi", then left')).toBe('"he said ""hi"", then left"');
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("@SUM")).toBe("'@SUM");
    expect(csvCell("line\nbreak")).toBe('"line\nbreak"');
    expect(csvCell(null)).toBe("");
  });
});

describe("no secrets in the audit log", () => {
  it("passwords, tokens and keys sent through the API never reach an audit row", async () => {
    const secretPassword = "correct-horse-battery-staple";
    await call("POST", "/api/auth/login", { body: { email: OPERATOR.email, password: secretPassword } });
    const key = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: t.adminToken,
      body: { name: "k", role: "tenant_admin" },
    });
    const invite = await callJson("POST", "/api/dashboard/team/invites", {
      token: t.adminToken,
      body: { email: "s@x.test", role: "tenant_member" },
    });
    await call("POST", "/api/auth/password", {
      token: t.adminToken,
      body: { currentPassword: "wrong-current-pw", newPassword: secretPassword },
    });
    await settle(t.tenantId, 10);
    await vi.waitFor(async () =>
      expect((await auditRows(null)).some((r) => r.action === "auth.login_failed")).toBe(true),
    );
    const everything = JSON.stringify(await db().select().from(auditEvents).all());
    // and the exports of that log, in both formats
    const csv = await (
      await call("GET", "/api/dashboard/audit/export?format=csv", { token: t.adminToken })
    ).text();
    const json = await (
      await call("GET", "/api/dashboard/audit/export?format=json", { token: t.adminToken })
    ).text();
    for (const secret of [
      secretPassword,
      key.body.key,
      new URL(invite.body.inviteUrl).searchParams.get("token"),
      t.adminToken,
    ]) {
      expect(everything).not.toContain(secret);
      expect(csv).not.toContain(secret);
      expect(json).not.toContain(secret);
    }
  });
});

describe("update diffs", () => {
  it("an update records only the changed fields on each side", async () => {
    const created = await callJson("POST", "/api/dashboard/agents", {
      token: t.adminToken,
      body: { name: "Differ", role: "old role", modelTier: "sonnet", thinkingMode: "off" },
    });
    const id = created.body.agent.id;
    await callJson("PATCH", `/api/dashboard/agents/${id}`, {
      token: t.adminToken,
      body: { role: "new role" },
    });
    await vi.waitFor(async () =>
      expect(
        (await auditRows(t.tenantId)).some((r) => r.action === "agent.updated" && r.targetId === id),
      ).toBe(true),
    );
    const row = (await auditRows(t.tenantId)).find((r) => r.action === "agent.updated" && r.targetId === id);
    const details = JSON.parse(row?.details ?? "{}");
    expect(details.before.role).toBe("old role");
    expect(details.after.role).toBe("new role");
    expect(details.before.name).toBeUndefined();
    expect(details.before.modelTier).toBeUndefined();
  });
});

describe("cross-tenant probes on alerts and webhooks", () => {
  it("answer 404 and are recorded in the prober's tenant", async () => {
    const hook = await callJson("POST", "/api/dashboard/webhooks", {
      token: other.adminToken,
      body: { url: "http://127.0.0.1:9/hook", events: ["alert.raised"] },
    });
    expect(hook.status).toBe(201);
    const id = hook.body.webhook.id;
    expect((await call("DELETE", `/api/dashboard/webhooks/${id}`, { token: t.adminToken })).status).toBe(404);
    await vi.waitFor(async () => {
      const row = (await auditRows(t.tenantId)).find(
        (r) => r.action === "security.cross_tenant_attempt" && r.targetId === id,
      );
      expect(row).toMatchObject({ targetType: "webhooks", severity: "high" });
    });
    // the owner still has it
    const list = await callJson("GET", "/api/dashboard/webhooks", { token: other.adminToken });
    expect(list.body.data.some((w: { id: string }) => w.id === id)).toBe(true);
  });
});

describe("no secrets in log lines", () => {
  it("what the Worker logs while handling secrets never contains them", async () => {
    const lines: string[] = [];
    const capture = (...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    };
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(capture),
    );
    try {
      const password = "log-sweep-password-123";
      await call("POST", "/api/auth/login", { body: { email: OPERATOR.email, password } });
      await call("POST", "/api/auth/login", { body: `{"email":"x@y.test","password":"${password}"` });
      await call("POST", "/api/auth/refresh", { body: { refreshToken: `rt_${"z".repeat(48)}` } });
      const key = await callJson("POST", "/api/dashboard/settings/api-keys", {
        token: t.adminToken,
        body: { name: "log", role: "tenant_admin" },
      });
      await call("GET", "/api/dashboard/agents", { token: key.body.key });
      await call("POST", "/v1/auth/token", {
        body: { agentId: "agt_x", credential: `agk_${"q".repeat(44)}` },
      });
      await settle(t.tenantId, 1);
      // Control: the capture sees the Worker's own log lines (a malformed queue message is logged).
      const bad = createMessageBatch("aegis-audit", [
        { id: "bad", timestamp: new Date(), attempts: 1, body: { kind: "nonsense" } },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(bad, env, ctx);
      await getQueueResult(bad, ctx);
      expect(lines.some((l) => l.includes("dropping malformed queue message"))).toBe(true);
      for (const secret of [
        password,
        key.body.key,
        `rt_${"z".repeat(48)}`,
        `agk_${"q".repeat(44)}`,
        t.adminToken,
      ]) {
        expect(lines.join("\n")).not.toContain(secret);
      }
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });
});
