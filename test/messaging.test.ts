import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { mailboxName } from "../durable-objects/agent-mailbox";
import { migrateMessageHistory, type TenantHub } from "../durable-objects/tenant-hub";
import {
  auditRows,
  call,
  callJson,
  env,
  operatorToken,
  provisionTenant,
  type TenantFixture,
} from "./helpers";
import { type AgentFixture, connectAgent, createAgent, openSocket, setAllowlist, upgrade } from "./sockets";

let op: string;
let t: TenantFixture;
let other: TenantFixture;
let a: AgentFixture;
let b: AgentFixture;
let c: AgentFixture;
let stranger: AgentFixture;

beforeAll(async () => {
  op = await operatorToken();
  t = await provisionTenant(op, { planTier: "growth" });
  other = await provisionTenant(op, { planTier: "growth" });
  a = await createAgent(t, "Alpha");
  b = await createAgent(t, "Bravo");
  c = await createAgent(t, "Charlie");
  stranger = await createAgent(other, "Stranger");
});

const task = (title: string) => ({ title, priority: "normal" });

async function timeline(query = "") {
  return (await callJson("GET", `/api/dashboard/messages${query}`, { token: t.adminToken })).body;
}

describe("allowlist", () => {
  it("validates edges with field paths, refuses stale versions with who changed it, and members cannot edit", async () => {
    const start = await callJson("GET", "/api/dashboard/allowlist", { token: t.adminToken });
    expect(start.status).toBe(200);
    const bad = await callJson("PUT", "/api/dashboard/allowlist", {
      token: t.adminToken,
      body: {
        expectedVersion: start.body.version,
        edges: [
          { from: a.id, to: stranger.id, direction: "both" },
          { from: a.id, to: a.id, direction: "both" },
          { from: a.id, to: b.id, direction: "sideways" },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details)).toEqual(["edges.2.direction"]);
    const unknown = await callJson("PUT", "/api/dashboard/allowlist", {
      token: t.adminToken,
      body: {
        expectedVersion: start.body.version,
        edges: [
          { from: a.id, to: stranger.id, direction: "both" },
          { from: b.id, to: b.id, direction: "both" },
        ],
      },
    });
    expect(unknown.body.details).toEqual({
      "edges.0.to": ["Unknown agent"],
      "edges.1.to": ["An agent cannot link to itself"],
    });

    const saved = await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    expect(saved.version).toBe(start.body.version + 1);
    expect(saved.appliedTo).toBe(2);
    const stale = await callJson("PUT", "/api/dashboard/allowlist", {
      token: t.adminToken,
      body: { expectedVersion: start.body.version, edges: [] },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe("version_conflict");
    expect(stale.body.details.current).toMatchObject({ version: saved.version, updatedBy: t.adminEmail });

    expect(
      (await call("PUT", "/api/dashboard/allowlist", { body: { expectedVersion: 0, edges: [] } })).status,
    ).toBe(401);
    // another tenant sees its own (empty) graph
    const theirs = await callJson("GET", "/api/dashboard/allowlist", { token: other.adminToken });
    expect(theirs.body.edges).toEqual([]);
  });
});

describe("delivery over mailbox sockets", () => {
  it("delivers A → B live, acknowledges, and shows the whole life of the message in the timeline", async () => {
    await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    const sa = await connectAgent(a);
    const sb = await connectAgent(b);
    await sa.next((f) => f.op === "config");
    await sb.next((f) => f.op === "config");

    sa.send({
      op: "send",
      clientId: "c1",
      to: b.id,
      type: "task_handoff",
      payload: task("Write the report"),
    });
    const sent = await sa.next((f) => f.op === "sent");
    expect(sent).toMatchObject({ clientId: "c1", status: "delivered" });
    const msg = await sb.next((f) => f.op === "message");
    expect(msg).toMatchObject({
      id: sent.id,
      from: a.id,
      type: "task_handoff",
      hop: 1,
      correlationId: sent.id,
    });
    expect(msg.payload).toMatchObject({ title: "Write the report" });

    sb.send({ op: "ack", id: msg.id });
    expect(await sb.next((f) => f.op === "acked")).toEqual({ op: "acked", id: msg.id });

    await vi.waitFor(async () => {
      const page = await timeline();
      const row = page.data.find((m: { id: string }) => m.id === sent.id);
      expect(row).toMatchObject({ from: a.id, to: b.id, status: "acknowledged", type: "task_handoff" });
    });
    const detail = await callJson("GET", `/api/dashboard/messages/${sent.id}`, { token: t.adminToken });
    expect(detail.body.history.map((h: { status: string }) => h.status)).toEqual([
      "queued",
      "delivered",
      "acknowledged",
    ]);
    expect(detail.body.message.payload).toMatchObject({ title: "Write the report" });
    expect(
      (await call("GET", `/api/dashboard/messages/${sent.id}`, { token: other.adminToken })).status,
    ).toBe(404);
    sa.close();
    sb.close();
  });

  it("queues for an offline agent and redelivers in order until each message is acked", async () => {
    await setAllowlist(t, [{ from: a.id, to: c.id, direction: "send_only" }]);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await callJson("POST", "/v1/messages", {
        token: a.token,
        body: { to: c.id, type: "notification", payload: { title: `n${n}` } },
      });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe("queued");
      ids.push(res.body.id);
    }
    const first = await connectAgent(c);
    const got = [
      await first.next((f) => f.op === "message"),
      await first.next((f) => f.op === "message"),
      await first.next((f) => f.op === "message"),
    ];
    expect(got.map((m) => m.id)).toEqual(ids);
    first.send({ op: "ack", id: ids[0] });
    await first.next((f) => f.op === "acked");
    first.close();

    const second = await connectAgent(c);
    const again = [
      await second.next((f) => f.op === "message"),
      await second.next((f) => f.op === "message"),
    ];
    expect(again.map((m) => m.id)).toEqual(ids.slice(1));
    for (const id of ids.slice(1)) {
      second.send({ op: "ack", id });
      await second.next((f) => f.op === "acked" && f.id === id);
    }
    second.close();
    const third = await connectAgent(c);
    third.send({ op: "ping", t: 1 });
    const pong = await third.next((f) => f.op === "pong" || f.op === "message");
    expect(pong.op).toBe("pong");
    third.close();
  });

  it("send_only is one-way: C cannot answer A", async () => {
    await setAllowlist(t, [{ from: a.id, to: c.id, direction: "send_only" }]);
    const res = await callJson("POST", "/v1/messages", {
      token: c.token,
      body: { to: a.id, type: "notification", payload: { title: "hi" } },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("not_allowed");
  });

  it("a revoked link blocks the very next message, and it shows as rejected", async () => {
    await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    const ok = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: b.id, type: "notification", payload: { title: "before" } },
    });
    expect(ok.status).toBe(202);
    await setAllowlist(t, []);
    const blocked = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: b.id, type: "notification", payload: { title: "after" } },
    });
    expect(blocked.status).toBe(403);
    expect(blocked.body).toMatchObject({ code: "not_allowed" });
    const id = blocked.body.details.id;
    await vi.waitFor(async () => {
      const row = (await timeline("?status=rejected")).data.find((m: { id: string }) => m.id === id);
      expect(row).toMatchObject({ status: "rejected", reason: "not_allowed" });
    });
    // and the rejection is in the audit log, as the sending agent's action
    await vi.waitFor(async () => {
      const rows = await auditRows(t.tenantId);
      expect(rows.find((r) => r.action === "message.rejected" && r.id === `aud_rej_${id}`)).toMatchObject({
        actorId: a.id,
        targetId: b.id,
      });
    });
  });

  it("unknown agents and agents of another tenant are rejected the same way, revealing nothing", async () => {
    await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    const unknown = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: "agt_nope", type: "notification", payload: { title: "x" } },
    });
    const foreign = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: stranger.id, type: "notification", payload: { title: "x" } },
    });
    expect(unknown.status).toBe(403);
    expect(foreign.status).toBe(403);
    expect(unknown.body.code).toBe(foreign.body.code);
    expect(unknown.body.message).toBe(foreign.body.message);
    // the stranger's mailbox was never touched: no message of tenant A reaches tenant B's timeline
    const theirs = await callJson("GET", "/api/dashboard/messages", { token: other.adminToken });
    expect(theirs.body.data).toEqual([]);
  });
});

describe("bad input on the socket and the HTTP path", () => {
  it("answers every bad frame with an error frame and keeps the socket usable", async () => {
    await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    const s = await connectAgent(a);
    const cases: Array<[unknown, string]> = [
      ["not json", "invalid_frame"],
      [{ op: "teleport" }, "invalid_frame"],
      [{ op: "send", clientId: "t1", to: b.id, type: "gossip", payload: {} }, "invalid_message"],
      [
        { op: "send", clientId: "t2", to: b.id, type: "task_handoff", payload: { priority: "normal" } },
        "invalid_message",
      ],
      [
        {
          op: "send",
          clientId: "t3",
          to: b.id,
          type: "notification",
          payload: { title: "x", body: "y".repeat(66_000) },
        },
        "invalid_message",
      ],
      [
        {
          op: "send",
          clientId: "t4",
          to: b.id,
          type: "notification",
          payload: { title: "x", body: "y".repeat(90_000) },
        },
        "frame_too_large",
      ],
      [{ op: "ack", id: "msg_unknown" }, "unknown_message"],
    ];
    for (const [frame, code] of cases) {
      s.send(frame);
      const err = await s.next((f) => f.op === "error");
      expect(err.code, JSON.stringify(frame).slice(0, 60)).toBe(code);
    }
    const missingTitle = s.frames.find((f) => f.clientId === "t2");
    expect(Object.keys(missingTitle.details)).toContain("payload.title");
    expect(s.frames.find((f) => f.clientId === "t3").details.payload[0]).toMatch(/exceeds 65536 bytes/);
    s.send({ op: "send", clientId: "ok", to: b.id, type: "notification", payload: { title: "still works" } });
    expect(await s.next((f) => f.op === "sent")).toMatchObject({ clientId: "ok" });
    s.close();
    // nothing half-stored: the invalid messages never reached the timeline
    await vi.waitFor(async () => {
      expect(
        (await timeline()).data.some((m: { payloadPreview: string }) =>
          m.payloadPreview.includes("still works"),
        ),
      ).toBe(true);
    });
    expect(
      (await timeline()).data.some((m: { payloadPreview: string }) => m.payloadPreview.includes("yyyy")),
    ).toBe(false);
  });

  it("a burst of 1,000 frames gets 1,000 answers: sends or rate_limited errors; the socket stays open", async () => {
    await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    const s = await connectAgent(a);
    await s.next((f) => f.op === "config");
    for (let i = 0; i < 1000; i++) s.send({ op: "ping", t: i });
    let answers = 0;
    let limited = 0;
    while (answers < 1000) {
      const f = await s.next((x) => x.op === "pong" || x.op === "error");
      answers++;
      if (f.op === "error") {
        expect(f.code).toBe("rate_limited");
        limited++;
      }
    }
    expect(limited).toBeGreaterThan(0);
    expect(s.closed).toBeNull();
    s.close();
  });

  it("POST /v1/messages: 400 invalid_message with paths, 401 without or with a stale or user token", async () => {
    const bad = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: b.id, type: "escalation", payload: { reason: "x" } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("invalid_message");
    expect(bad.body.details["payload.severity"]).toBeDefined();
    expect(
      (
        await call("POST", "/v1/messages", {
          body: { to: b.id, type: "notification", payload: { title: "x" } },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await call("POST", "/v1/messages", {
          token: t.adminToken,
          body: { to: b.id, type: "notification", payload: {} },
        })
      ).status,
    ).toBe(401);
    const { sign } = await import("hono/jwt");
    const stale = await sign(
      { typ: "agent", sub: a.id, tid: t.tenantId, iat: 1, exp: Math.floor(Date.now() / 1000) - 60 },
      env.AUTH_SECRET,
      "HS256",
    );
    const expired = await callJson("POST", "/v1/messages", {
      token: stale,
      body: { to: b.id, type: "notification", payload: { title: "x" } },
    });
    expect(expired.status).toBe(401);
    const upgradeStale = await upgrade("/v1/mailbox", { authorization: `Bearer ${stale}` });
    expect(upgradeStale.status).toBe(401);
    // a token for another tenant's agent cannot be turned against this tenant's mailbox
    const forged = await sign(
      { typ: "agent", sub: a.id, tid: other.tenantId, iat: 1, exp: Math.floor(Date.now() / 1000) + 60 },
      env.AUTH_SECRET,
      "HS256",
    );
    expect((await upgrade("/v1/mailbox", { authorization: `Bearer ${forged}` })).status).toBe(401);
  });
});

describe("loop guard", () => {
  it("rejects a chain that repeats the same sender → recipient → type", async () => {
    await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    const first = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: b.id, type: "data_request", payload: { query: "q0" } },
    });
    const corr = first.body.id;
    const statuses: number[] = [first.status];
    for (let i = 1; i < 6; i++) {
      const r = await callJson("POST", "/v1/messages", {
        token: a.token,
        body: { to: b.id, type: "data_request", payload: { query: `q${i}` }, correlationId: corr },
      });
      statuses.push(r.status);
      if (r.status === 403) expect(r.body.code).toBe("loop_detected");
    }
    expect(statuses).toEqual([202, 202, 202, 202, 403, 403]);
  });

  it("rejects a chain longer than the tenant's hop limit (set through config hot reload)", async () => {
    const cfg = await callJson("GET", "/api/dashboard/config", { token: t.adminToken });
    const saved = await callJson("PUT", "/api/dashboard/config", {
      token: t.adminToken,
      body: {
        expectedVersion: cfg.body.version,
        config: { ...cfg.body.config, messaging: { ...cfg.body.config.messaging, maxHops: 4 } },
      },
    });
    expect(saved.status).toBe(200);
    await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    const sa = await connectAgent(a);
    const sb = await connectAgent(b);
    const types = ["task_handoff", "status_update", "notification"] as const;
    const payloads = {
      task_handoff: task("t"),
      status_update: { status: "working" },
      notification: { title: "n" },
    };
    let corr: string | undefined;
    const results: string[] = [];
    for (let hop = 1; hop <= 5; hop++) {
      const [from, to, recv] = hop % 2 === 1 ? [sa, b, sb] : [sb, a, sa];
      const type = types[hop % 3] ?? "notification";
      from.send({
        op: "send",
        clientId: `h${hop}`,
        to: to.id,
        type,
        payload: payloads[type],
        ...(corr ? { correlationId: corr } : {}),
      });
      const sent = await from.next((f) => f.op === "sent" && f.clientId === `h${hop}`);
      results.push(sent.reason ?? sent.status);
      if (sent.status === "delivered") {
        const m = await recv.next((f) => f.op === "message" && f.id === sent.id);
        expect(m.hop).toBe(hop);
        corr = m.correlationId;
      }
    }
    expect(results).toEqual(["delivered", "delivered", "delivered", "delivered", "loop_detected"]);
    sa.close();
    sb.close();
    const loops = await timeline("?status=rejected");
    await vi.waitFor(async () => {
      expect(
        (await timeline("?status=rejected")).data.some(
          (m: { reason?: string }) => m.reason === "loop_detected",
        ),
      ).toBe(true);
    });
    expect(loops).toBeDefined();
    await callJson("POST", "/api/dashboard/config/rollback", {
      token: t.adminToken,
      body: { version: cfg.body.version },
    });
  });
});

describe("expiry", () => {
  it("an unacknowledged message past its TTL expires and is not redelivered", async () => {
    await setAllowlist(t, [{ from: a.id, to: c.id, direction: "both" }]);
    const res = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: c.id, type: "notification", payload: { title: "short-lived" }, ttlSeconds: 60 },
    });
    expect(res.body.status).toBe("queued");
    const stub = env.AGENT_MAILBOX.get(env.AGENT_MAILBOX.idFromName(mailboxName(t.tenantId, c.id)));
    // Time passes: move the message's expiry into the past instead of sleeping through the TTL.
    await runInDurableObject(stub, (_obj, state) => {
      state.storage.sql.exec(
        "UPDATE inbox SET expires_at = ? WHERE id = ?",
        new Date(Date.now() - 1000).toISOString(),
        res.body.id,
      );
    });
    // Run the armed alarm now. Under load the mailbox's own outbox-retry alarm may already be running
    // (then there is nothing to run here); either way the message must end up expired.
    await runDurableObjectAlarm(stub);
    await vi.waitFor(async () => {
      const status = await runInDurableObject(
        stub,
        (_obj, state) =>
          state.storage.sql
            .exec<{ status: string }>("SELECT status FROM inbox WHERE id = ?", res.body.id)
            .one().status,
      );
      expect(status).toBe("expired");
    });
    const sc = await connectAgent(c);
    sc.send({ op: "ping" });
    const first = await sc.next((f) => f.op === "pong" || (f.op === "message" && f.id === res.body.id));
    expect(first.op).toBe("pong");
    sc.close();
    await vi.waitFor(async () => {
      const d = await callJson("GET", `/api/dashboard/messages/${res.body.id}`, { token: t.adminToken });
      expect(d.body.message.status).toBe("expired");
      expect(d.body.history.map((h: { status: string }) => h.status)).toEqual(["queued", "expired"]);
    });
  });
});

describe("message history", () => {
  it("a hub from before the history moved onto the message row keeps every message's history", async () => {
    const hub = env.TENANT_HUB.get(env.TENANT_HUB.idFromName("history-migration"));
    const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 12, 0, s)).toISOString();
    await runInDurableObject(hub, (_obj, state) => {
      const sql = state.storage.sql;
      // The old shape: no state columns on the row, a row per state in message_events.
      sql.exec("DROP TABLE messages");
      sql.exec(`CREATE TABLE messages (
        id TEXT PRIMARY KEY, from_agent TEXT NOT NULL, to_agent TEXT NOT NULL, type TEXT NOT NULL,
        status TEXT NOT NULL, status_rank INTEGER NOT NULL, reason TEXT, correlation_id TEXT, hop INTEGER NOT NULL DEFAULT 0,
        payload TEXT, payload_preview TEXT NOT NULL DEFAULT '', ttl_seconds INTEGER, expires_at TEXT,
        sent_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
      sql.exec(`CREATE TABLE message_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, at TEXT NOT NULL,
        UNIQUE (message_id, status))`);
      const insert = (id: string, status: string, rank: number, reason: string | null) =>
        sql.exec(
          `INSERT INTO messages (id, from_agent, to_agent, type, status, status_rank, reason, sent_at, updated_at)
           VALUES (?, 'agt_a', 'agt_b', 'notification', ?, ?, ?, ?, ?)`,
          id,
          status,
          rank,
          reason,
          at(0),
          at(9),
        );
      insert("msg_acked", "acknowledged", 2, null);
      insert("msg_refused", "rejected", 3, "not_allowed");
      const event = (id: string, status: string, s: number, reason: string | null = null) =>
        sql.exec(
          "INSERT INTO message_events (message_id, status, reason, at) VALUES (?, ?, ?, ?)",
          id,
          status,
          reason,
          at(s),
        );
      event("msg_acked", "queued", 0);
      event("msg_acked", "delivered", 1);
      event("msg_acked", "acknowledged", 5);
      event("msg_refused", "queued", 0);
      event("msg_refused", "rejected", 0, "not_allowed");
      migrateMessageHistory(sql);
      const left = sql.exec("SELECT name FROM sqlite_master WHERE name = 'message_events'").toArray();
      expect(left).toEqual([]);
    });
    const acked = await runInDurableObject(hub, (obj: TenantHub) => obj.getMessage("msg_acked"));
    expect(acked?.history).toEqual([
      { status: "queued", at: at(0) },
      { status: "delivered", at: at(1) },
      { status: "acknowledged", at: at(5) },
    ]);
    const refused = await runInDurableObject(hub, (obj: TenantHub) => obj.getMessage("msg_refused"));
    expect(refused?.history).toEqual([
      { status: "queued", at: at(0) },
      { status: "rejected", at: at(0), reason: "not_allowed" },
    ]);
  });
});

describe("live feed /ws/messages", () => {
  it("streams message and status events of the tenant only, honouring filters", async () => {
    await setAllowlist(t, [
      { from: a.id, to: b.id, direction: "both" },
      { from: a.id, to: c.id, direction: "both" },
    ]);
    const feed = await openSocket(`/ws/messages?token=${t.adminToken}`);
    expect(await feed.next()).toMatchObject({ event: "subscribed" });
    const filtered = await openSocket(`/ws/messages?agentId=${c.id}`, {
      "sec-websocket-protocol": `aegis.v1, ${t.adminToken}`,
    });
    await filtered.next((f) => f.event === "subscribed");
    const foreign = await openSocket(`/ws/messages?token=${other.adminToken}`);
    await foreign.next((f) => f.event === "subscribed");

    const sb = await connectAgent(b);
    const res = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: b.id, type: "notification", payload: { title: "feed me" } },
    });
    const ev = await feed.next((f) => f.event === "message" && f.message.id === res.body.id);
    expect(ev.message).toMatchObject({ from: a.id, to: b.id, status: "delivered" });
    const m = await sb.next((f) => f.op === "message" && f.id === res.body.id);
    sb.send({ op: "ack", id: m.id });
    expect(await feed.next((f) => f.event === "message_status" && f.id === res.body.id)).toMatchObject({
      status: "acknowledged",
    });

    const toC = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: c.id, type: "notification", payload: { title: "for c" } },
    });
    const onlyC = await filtered.next((f) => f.event === "message");
    expect(onlyC.message.id).toBe(toC.body.id);
    expect(foreign.frames.filter((f) => f.event === "message")).toEqual([]);

    feed.send({ op: "subscribe", filters: { types: ["escalation"] } });
    expect(await feed.next((f) => f.event === "subscribed")).toMatchObject({
      filters: { types: ["escalation"] },
    });
    feed.send("garbage");
    expect(await feed.next((f) => f.event === "error")).toMatchObject({ code: "invalid_frame" });
    for (const s of [feed, filtered, foreign, sb]) s.close();
  });

  it("requires authentication, and a cookie only from our own origin", async () => {
    expect((await upgrade("/ws/messages")).status).toBe(401);
    expect((await upgrade("/ws/messages?token=bogus")).status).toBe(401);
    expect((await upgrade(`/ws/messages?token=${a.token}`)).status).toBe(401);
    const cookie = `aegis_session=${t.adminToken}`;
    expect((await upgrade("/ws/messages", { cookie, origin: "https://evil.example" })).status).toBe(403);
    const ok = await upgrade("/ws/messages", { cookie, origin: "http://aegis.test" });
    expect(ok.status).toBe(101);
    ok.webSocket?.accept();
    ok.webSocket?.close();
    expect((await upgrade(`/ws/messages?token=${op}`)).status).toBe(400);
    expect((await upgrade(`/ws/messages?token=${op}&tenantId=${t.tenantId}`)).status).toBe(101);
  });
});

describe("config hot reload", () => {
  it("pushes a saved version to connected agents at once and to offline ones on connect; config_applied shows up", async () => {
    const sa = await connectAgent(a);
    const initial = await sa.next((f) => f.op === "config");
    const feed = await openSocket(`/ws/messages?token=${t.adminToken}`);
    await feed.next((f) => f.event === "subscribed");
    const cfg = await callJson("GET", "/api/dashboard/config", { token: t.adminToken });
    expect(initial.version).toBe(cfg.body.version);

    const next = { ...cfg.body.config, agents: { ...cfg.body.config.agents, systemPrompt: "Be terse." } };
    const saved = await callJson("PUT", "/api/dashboard/config", {
      token: t.adminToken,
      body: { expectedVersion: cfg.body.version, config: next },
    });
    expect(saved.status).toBe(200);
    expect(saved.body.version).toBe(cfg.body.version + 1);
    expect(saved.body.pushedTo).toContain(a.id);
    expect(saved.body.pending).toContain(c.id);
    const pushed = await sa.next((f) => f.op === "config" && f.version === saved.body.version);
    expect(pushed.config.agents.systemPrompt).toBe("Be terse.");
    sa.send({ op: "config_applied", version: saved.body.version });
    expect(await feed.next((f) => f.event === "config_applied" && f.agentId === a.id)).toMatchObject({
      version: saved.body.version,
    });
    await vi.waitFor(async () => {
      const status = await callJson("GET", "/api/dashboard/config/status", { token: t.adminToken });
      expect(status.body.agents.find((x: { agentId: string }) => x.agentId === a.id)).toMatchObject({
        connected: true,
        appliedVersion: saved.body.version,
      });
    });

    const sc = await connectAgent(c);
    expect(await sc.next((f) => f.op === "config")).toMatchObject({ version: saved.body.version });

    const stale = await callJson("PUT", "/api/dashboard/config", {
      token: t.adminToken,
      body: { expectedVersion: cfg.body.version, config: next },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe("version_conflict");
    const bad = await callJson("PUT", "/api/dashboard/config", {
      token: t.adminToken,
      body: {
        expectedVersion: saved.body.version,
        config: { ...next, messaging: { maxHops: 1000 }, surprise: true },
      },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details).sort()).toEqual(["config", "config.messaging.maxHops"]);

    const versions = await callJson("GET", "/api/dashboard/config/versions", { token: t.adminToken });
    expect(versions.body.data[0].version).toBe(saved.body.version);
    const rolled = await callJson("POST", "/api/dashboard/config/rollback", {
      token: t.adminToken,
      body: { version: cfg.body.version },
    });
    expect(rolled.body.version).toBe(saved.body.version + 1);
    const restored = await sc.next((f) => f.op === "config" && f.version === rolled.body.version);
    expect(restored.config.agents.systemPrompt).toBe(cfg.body.config.agents.systemPrompt);
    expect((await call("GET", "/api/dashboard/config/versions/999", { token: t.adminToken })).status).toBe(
      404,
    );
    expect(sc.frames.filter((f) => f.op === "config")).toHaveLength(2);
    for (const s of [sa, sc, feed]) s.close();
  });
});

describe("agent lifecycle on the mailbox", () => {
  it("pausing closes the socket and refuses reconnects; resuming allows them; presence shows in the agent", async () => {
    const d = await createAgent(t, "Delta");
    const sd = await connectAgent(d);
    await sd.next((f) => f.op === "config");
    await vi.waitFor(async () => {
      const got = await callJson("GET", `/api/dashboard/agents/${d.id}`, { token: t.adminToken });
      expect(got.body.agent.runtime.status).toBe("running");
    });
    await callJson("POST", `/api/dashboard/agents/${d.id}/actions/pause`, { token: t.adminToken });
    expect((await sd.waitClosed()).code).toBe(4003);
    // A paused agent's socket is accepted and closed with 4003, a code every WebSocket client can read.
    const refused = await connectAgent(d);
    expect((await refused.waitClosed()).code).toBe(4003);
    expect(
      (
        await call("POST", "/v1/messages", {
          token: d.token,
          body: { to: a.id, type: "notification", payload: { title: "x" } },
        })
      ).status,
    ).toBe(403);
    // restarting a paused agent does not resume it
    const restarted = await callJson("POST", `/api/dashboard/agents/${d.id}/actions/restart`, {
      token: t.adminToken,
    });
    expect(restarted.body.agent.status).toBe("paused");
    await callJson("POST", `/api/dashboard/agents/${d.id}/actions/resume`, { token: t.adminToken });
    const again = await connectAgent(d);
    await again.next((f) => f.op === "config");
    await callJson("POST", `/api/dashboard/agents/${d.id}/actions/restart`, { token: t.adminToken });
    expect((await again.waitClosed()).code).toBe(4001);
  });

  it("deleting an agent removes its links from the allowlist", async () => {
    const e = await createAgent(t, "Echo");
    await setAllowlist(t, [
      { from: a.id, to: e.id, direction: "both" },
      { from: a.id, to: b.id, direction: "both" },
    ]);
    expect((await call("DELETE", `/api/dashboard/agents/${e.id}`, { token: t.adminToken })).status).toBe(204);
    const after = await callJson("GET", "/api/dashboard/allowlist", { token: t.adminToken });
    expect(after.body.edges).toEqual([{ from: a.id, to: b.id, direction: "both" }]);
    const res = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: e.id, type: "notification", payload: { title: "gone" } },
    });
    expect(res.status).toBe(403);
  });
});

describe("auditing messages", () => {
  it("rejections are always audited; with audit.messages = all, delivered messages are too", async () => {
    await setAllowlist(t, [{ from: a.id, to: b.id, direction: "both" }]);
    const quiet = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: b.id, type: "notification", payload: { title: "not audited" } },
    });
    expect(quiet.status).toBe(202);
    const cfg = await callJson("GET", "/api/dashboard/config", { token: t.adminToken });
    const saved = await callJson("PUT", "/api/dashboard/config", {
      token: t.adminToken,
      body: { expectedVersion: cfg.body.version, config: { ...cfg.body.config, audit: { messages: "all" } } },
    });
    expect(saved.status).toBe(200);
    const loud = await callJson("POST", "/v1/messages", {
      token: a.token,
      body: { to: b.id, type: "notification", payload: { title: "audited" } },
    });
    await vi.waitFor(async () => {
      const row = (await auditRows(t.tenantId)).find((r) => r.id === `aud_msg_${loud.body.id}`);
      expect(row).toMatchObject({ action: "message.sent", actorId: a.id, targetId: b.id });
    });
    expect((await auditRows(t.tenantId)).some((r) => r.id === `aud_msg_${quiet.body.id}`)).toBe(false);
    await callJson("POST", "/api/dashboard/config/rollback", {
      token: t.adminToken,
      body: { version: cfg.body.version },
    });
  });
});
