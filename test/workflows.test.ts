import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../worker/index";
import { dueInWindow } from "../worker/jobs/workflow-schedules";
import { call, callJson, env, operatorToken, provisionTenant, type TenantFixture } from "./helpers";
import { type AgentFixture, connectAgent, createAgent, setAllowlist } from "./sockets";

let t: TenantFixture;
let lead: AgentFixture;
let b: AgentFixture;
let c: AgentFixture;

beforeAll(async () => {
  const op = await operatorToken();
  t = await provisionTenant(op);
  lead = await createAgent(t, "Lead");
  b = await createAgent(t, "Bee");
  c = await createAgent(t, "Cee");
});

const trigger = (template: string, body: unknown) =>
  callJson("POST", `/api/dashboard/workflows/${template}/trigger`, { token: t.adminToken, body });
const getRun = async (id: string) =>
  (await callJson("GET", `/api/dashboard/workflows/runs/${id}`, { token: t.adminToken })).body.run;

describe("workflow templates", () => {
  it("lists the three templates as data", async () => {
    const res = await callJson("GET", "/api/dashboard/workflows/templates", { token: t.adminToken });
    expect(res.body.data.map((x: { id: string }) => x.id)).toEqual([
      "daily_sync",
      "weekly_standup",
      "sprint_handoff",
    ]);
    expect(res.body.data[0].steps[0]).toMatchObject({
      type: "data_request",
      awaits: "data_response",
      from: "lead",
      to: "participants",
    });
  });

  it("daily_sync runs to completion: requests, threaded answers, then the summary to everyone", async () => {
    await setAllowlist(t, [
      { from: lead.id, to: b.id, direction: "both" },
      { from: lead.id, to: c.id, direction: "both" },
    ]);
    const sb = await connectAgent(b);
    const sc = await connectAgent(c);
    const started = await trigger("daily_sync", { leadAgentId: lead.id, participantIds: [b.id, c.id] });
    expect(started.status).toBe(202);
    expect(started.body.run).toMatchObject({ status: "running", template: "daily_sync" });
    const runId = started.body.run.id;

    for (const [s, answer] of [
      [sb, "Bee shipped the parser"],
      [sc, "Cee fixed the flaky test"],
    ] as const) {
      const req = await s.next((f) => f.op === "message" && f.type === "data_request");
      expect(req.from).toBe(lead.id);
      s.send({ op: "ack", id: req.id });
      s.send({
        op: "send",
        to: lead.id,
        type: "data_response",
        payload: { data: answer },
        correlationId: req.correlationId,
      });
      expect(await s.next((f) => f.op === "sent")).toMatchObject({
        status: expect.stringMatching(/queued|delivered/),
      });
    }
    const summary = await sb.next((f) => f.op === "message" && f.type === "notification");
    expect(summary.payload.body).toContain("Bee shipped the parser");
    expect(summary.payload.body).toContain("Cee fixed the flaky test");
    await vi.waitFor(async () => expect((await getRun(runId)).status).toBe("completed"));
    const run = await getRun(runId);
    expect(run.steps.every((s: { status: string }) => s.status === "completed")).toBe(true);
    expect(run.steps[0].messageId).toMatch(/^msg_/);
    const runs = await callJson("GET", "/api/dashboard/workflows/runs", { token: t.adminToken });
    expect(runs.body.data[0].id).toBe(runId);
    sb.close();
    sc.close();
  });

  it("fails clearly when an agent does not answer in time", async () => {
    await setAllowlist(t, [{ from: lead.id, to: b.id, direction: "both" }]);
    const started = await trigger("sprint_handoff", {
      leadAgentId: lead.id,
      participantIds: [b.id],
      timeoutSeconds: 60,
    });
    const runId = started.body.run.id;
    await vi.waitFor(async () => expect((await getRun(runId)).steps[0].status).toBe("running"));
    const hub = env.TENANT_HUB.get(env.TENANT_HUB.idFromName(t.tenantId));
    // The timeout passes: move the step's deadline into the past instead of sleeping.
    await runInDurableObject(hub, (_o, state) => {
      state.storage.sql.exec(
        "UPDATE workflow_steps SET due_at = ? WHERE run_id = ?",
        new Date(Date.now() - 1000).toISOString(),
        runId,
      );
    });
    await runDurableObjectAlarm(hub);
    const run = await getRun(runId);
    expect(run.status).toBe("failed");
    expect(run.error).toBe("Bee did not answer with status_update within 60 s");
    expect(run.steps[0].status).toBe("failed");
    expect(run.steps[1].status).toBe("pending");
  });

  it("fails at once when the allowlist does not let the lead reach a participant", async () => {
    await setAllowlist(t, [{ from: lead.id, to: b.id, direction: "both" }]);
    const started = await trigger("daily_sync", { leadAgentId: lead.id, participantIds: [b.id, c.id] });
    await vi.waitFor(async () => expect((await getRun(started.body.run.id)).status).toBe("failed"));
    expect((await getRun(started.body.run.id)).error).toBe(
      "Lead could not send data_request to Cee: not_allowed",
    );
  });

  it("validates the trigger: unknown agents, the lead as participant, unknown template, read-only members", async () => {
    const bad = await trigger("daily_sync", { leadAgentId: "agt_nope", participantIds: [lead.id, "agt_x"] });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual({
      leadAgentId: ["Unknown agent"],
      "participantIds.1": ["Unknown agent"],
    });
    const self = await trigger("daily_sync", { leadAgentId: lead.id, participantIds: [lead.id] });
    expect(self.body.details).toEqual({ "participantIds.0": ["The lead cannot also be a participant"] });
    expect((await trigger("nightly_party", { leadAgentId: lead.id, participantIds: [b.id] })).status).toBe(
      400,
    );
    expect((await trigger("daily_sync", { leadAgentId: lead.id, participantIds: [] })).status).toBe(400);
    expect(
      (await call("GET", "/api/dashboard/workflows/runs/run_nope", { token: t.adminToken })).status,
    ).toBe(404);
    expect((await call("POST", "/api/dashboard/workflows/daily_sync/trigger", { body: {} })).status).toBe(
      401,
    );
  });
});

describe("scheduled workflows", () => {
  it("a schedule fires once in its window: the Cron trigger starts it and a re-run is deduplicated", async () => {
    await setAllowlist(t, [{ from: lead.id, to: b.id, direction: "both" }]);
    const cfg = await callJson("GET", "/api/dashboard/config", { token: t.adminToken });
    const saved = await callJson("PUT", "/api/dashboard/config", {
      token: t.adminToken,
      body: {
        expectedVersion: cfg.body.version,
        config: {
          ...cfg.body.config,
          workflows: {
            schedules: [
              { template: "daily_sync", leadAgentId: lead.id, participantIds: [b.id], at: "09:00" },
            ],
          },
        },
      },
    });
    expect(saved.status).toBe(200);
    const before = (await callJson("GET", "/api/dashboard/workflows/runs", { token: t.adminToken })).body.data
      .length;
    const fire = async () => {
      const ctrl = createScheduledController({
        cron: "*/15 * * * *",
        scheduledTime: Date.parse("2026-11-25T09:10:00Z"),
      });
      const ctx = createExecutionContext();
      await worker.scheduled(ctrl, env, ctx);
      await waitOnExecutionContext(ctx);
    };
    await fire();
    await fire();
    const runs = (await callJson("GET", "/api/dashboard/workflows/runs", { token: t.adminToken })).body.data;
    expect(runs.length).toBe(before + 1);
    expect(runs[0]).toMatchObject({ template: "daily_sync", trigger: "schedule" });
  });

  it("dueInWindow: fires only for a time inside the last 15 minutes and on the listed weekdays", () => {
    const now = new Date("2026-11-25T09:10:00Z"); // a Wednesday
    expect(dueInWindow("09:00", undefined, now)).toBe("2026-11-25T09:00:00.000Z");
    expect(dueInWindow("08:55", undefined, now)).toBeNull();
    expect(dueInWindow("09:11", undefined, now)).toBeNull();
    expect(dueInWindow("09:00", [1], now)).toBeNull();
    expect(dueInWindow("09:00", [3], now)).toBe("2026-11-25T09:00:00.000Z");
  });
});
