import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { auditArchives, auditEvents, tenants } from "../worker/db/schema";
import { buildAuditEvent } from "../worker/features/audit/record";
import { verifyChain } from "../worker/features/audit/service";
import worker from "../worker/index";
import { archiveKey, gunzip, runAuditRetention } from "../worker/jobs/audit-retention";
import { writeAuditEvents } from "../worker/jobs/audit-writer";
import { auditRows, callJson, db, env, operatorToken, provisionTenant, type TenantFixture } from "./helpers";
import { createAgent } from "./sockets";

let t: TenantFixture;
const NOW = new Date("2026-11-25T03:00:00.000Z");
const daysAgo = (n: number, h = 12) =>
  new Date(NOW.getTime() - n * 86_400_000 + (h - 12) * 3600_000).toISOString();

beforeAll(async () => {
  t = await provisionTenant(await operatorToken(), { planTier: "starter" });
});

/** A tenant row without provisioning, so its chain starts with the seeded (old) events, in time order. */
async function quietTenant(planTier: "starter" | "growth") {
  const id = `ten_q${crypto.randomUUID().slice(0, 8)}`;
  await db()
    .insert(tenants)
    .values({ id, name: id, slug: id.replace("_", "-"), planTier, status: "active" });
  return id;
}

async function seed(tenantId: string, atList: string[]) {
  const events = atList.map((at, i) => ({
    ...buildAuditEvent({
      action: "test.seeded",
      tenantId,
      actor: { type: "system", id: null, name: "seed" },
      details: { i },
    }),
    at,
  }));
  await writeAuditEvents(db(), events);
  return events;
}

const chainRows = (tenantId: string) =>
  db().select().from(auditEvents).where(eq(auditEvents.chain, tenantId)).all();

describe("audit retention and archival (S6-01)", () => {
  it("moves whole days older than the plan's retention to R2, deletes them only after reading back, and the chain still verifies", async () => {
    const tenantId = await quietTenant("starter");
    await seed(tenantId, [daysAgo(40, 9), daysAgo(40, 10), daysAgo(40, 11), daysAgo(35, 8), daysAgo(10, 8)]);
    const day40 = daysAgo(40, 9).slice(0, 10);
    await runAuditRetention(env, NOW);

    const object = await env.ARCHIVE.get(archiveKey(tenantId, day40));
    expect(object).not.toBeNull();
    const lines = (await gunzip(await (object as R2ObjectBody).arrayBuffer())).trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(object?.customMetadata?.rowCount).toBe("3");
    const manifest = await db()
      .select()
      .from(auditArchives)
      .where(and(eq(auditArchives.tenantId, tenantId), eq(auditArchives.day, day40)))
      .get();
    expect(manifest).toMatchObject({
      rowCount: 3,
      firstSeq: 1,
      lastSeq: 3,
      chainHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    const left = await chainRows(tenantId);
    expect(left.map((r) => r.at)).toEqual([daysAgo(10, 8)]);
    expect(await verifyChain(db(), tenantId)).toMatchObject({ valid: true, checked: 1 });

    const op = await operatorToken();
    const back = await callJson("GET", `/api/admin/audit/archive?tenantId=${tenantId}&date=${day40}`, {
      token: op,
    });
    expect(back.status).toBe(200);
    expect(back.body.data).toHaveLength(3);
    expect(back.body.manifest.rowCount).toBe(3);
    expect(
      (await callJson("GET", "/api/dashboard/audit/archive?date=2020-01-01", { token: t.adminToken })).status,
    ).toBe(404);
    expect(
      (await callJson("GET", "/api/dashboard/audit/archive?date=yesterday", { token: t.adminToken })).status,
    ).toBe(400);
    // tampering with the archive in R2 is caught when it is read back
    await env.ARCHIVE.put(archiveKey(tenantId, day40), "not the archive");
    const tampered = await callJson("GET", `/api/admin/audit/archive?tenantId=${tenantId}&date=${day40}`, {
      token: op,
    });
    expect(tampered.status).toBe(500);
    expect(tampered.body.code).toBe("archive_integrity_failed");
  });

  it("is safe to re-run, and a run that crashed after writing the archive finishes without duplicating it", async () => {
    const tenantId = await quietTenant("starter");
    const day = daysAgo(50, 9).slice(0, 10);
    await seed(tenantId, [daysAgo(50, 9), daysAgo(50, 10), daysAgo(5)]);
    await runAuditRetention(env, NOW);
    const first = await db()
      .select()
      .from(auditArchives)
      .where(and(eq(auditArchives.tenantId, tenantId), eq(auditArchives.day, day)))
      .get();
    expect(first?.rowCount).toBe(2);

    // The crash: the rows are back in D1 as if the deletes never ran.
    const object = await env.ARCHIVE.get(archiveKey(tenantId, day));
    const rows = (await gunzip(await (object as R2ObjectBody).arrayBuffer()))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    await db().insert(auditEvents).values(rows);
    await runAuditRetention(env, NOW);
    const again = await db().select().from(auditArchives).where(eq(auditArchives.tenantId, tenantId)).all();
    expect(again).toHaveLength(1);
    expect(again[0]?.sha256).toBe(first?.sha256);
    expect((await chainRows(tenantId)).map((r) => r.at)).toEqual([daysAgo(5)]);
    await runAuditRetention(env, NOW);
    expect(
      await db().select().from(auditArchives).where(eq(auditArchives.tenantId, tenantId)).all(),
    ).toHaveLength(1);
    expect(await verifyChain(db(), tenantId)).toMatchObject({ valid: true });
  });

  it("keeps events inside the plan's window (growth: 90 days)", async () => {
    const tenantId = await quietTenant("growth");
    await seed(tenantId, [daysAgo(100), daysAgo(60), daysAgo(1)]);
    await runAuditRetention(env, NOW);
    expect((await chainRows(tenantId)).map((r) => r.at)).toEqual([daysAgo(60), daysAgo(1)]);
  });

  it("a chain with a hole that no archive explains does not verify", async () => {
    const tenantId = await quietTenant("growth");
    await seed(tenantId, [daysAgo(3), daysAgo(2), daysAgo(1)]);
    const rows = await chainRows(tenantId);
    await db()
      .delete(auditEvents)
      .where(eq(auditEvents.id, rows[0]?.id ?? ""));
    expect(await verifyChain(db(), tenantId)).toMatchObject({ valid: false, firstBrokenId: rows[1]?.id });
  });
});

describe("agent actions: POST /v1/events (S5-03)", () => {
  it("records tool invocations and permission use as the agent, sanitised; an undeclared use is high severity", async () => {
    const agent = await createAgent(t, "Reporter");
    const res = await callJson("POST", "/v1/events", {
      token: agent.token,
      body: {
        events: [
          {
            type: "tool_invocation",
            skill: "http-fetch",
            tool: "get",
            outcome: "ok",
            durationMs: 42,
            input: { url: "https://api.example.com", apiKey: "sk_live_abcdefghijklmnop" },
          },
          {
            type: "permission_use",
            skill: "http-fetch",
            permission: { kind: "network", target: "evil.example", allowed: false },
          },
          { type: "status_change", status: "running" },
        ],
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(3);
    await vi.waitFor(async () => {
      const rows = (await auditRows(t.tenantId)).filter(
        (r) => r.actorId === agent.id && r.action !== "agent.token_issued",
      );
      expect(rows.map((r) => r.action).sort()).toEqual([
        "agent.status_changed",
        "skill.permission_denied",
        "skill.tool_invoked",
      ]);
    });
    const rows = (await auditRows(t.tenantId)).filter(
      (r) => r.actorId === agent.id && r.action !== "agent.token_issued",
    );
    expect(rows.find((r) => r.action === "skill.permission_denied")?.severity).toBe("high");
    expect(rows.every((r) => r.actorType === "agent")).toBe(true);
    expect(JSON.stringify(rows)).not.toContain("sk_live_abcdefghijklmnop");

    const bad = await callJson("POST", "/v1/events", {
      token: agent.token,
      body: { events: [{ type: "teleport" }] },
    });
    expect(bad.status).toBe(400);
    expect((await callJson("POST", "/v1/events", { body: { events: [] } })).status).toBe(401);
    expect(
      (
        await callJson("POST", "/v1/events", {
          token: t.adminToken,
          body: { events: [{ type: "status_change", status: "idle" }] },
        })
      ).status,
    ).toBe(401);
  });
});

describe("scheduled chain verification", () => {
  it("the daily Cron verifies every chain and records a broken one as audit.verify_failed", async () => {
    const tenantId = await quietTenant("growth");
    await seed(tenantId, [daysAgo(3), daysAgo(2), daysAgo(1)]);
    const rows = await chainRows(tenantId);
    await db()
      .update(auditEvents)
      .set({ actorName: "forger" })
      .where(eq(auditEvents.id, rows[1]?.id ?? ""));
    const ctrl = createScheduledController({ cron: "0 3 * * *", scheduledTime: NOW.getTime() });
    const ctx = createExecutionContext();
    await worker.scheduled(ctrl, env, ctx);
    await waitOnExecutionContext(ctx);
    await vi.waitFor(async () => {
      const failed = (
        await db().select().from(auditEvents).where(eq(auditEvents.action, "audit.verify_failed")).all()
      ).find((r) => r.tenantId === tenantId);
      expect(failed).toMatchObject({ severity: "critical", targetId: rows[1]?.id });
    });
  });
});
