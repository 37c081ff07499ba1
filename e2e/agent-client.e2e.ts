import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import WS from "ws";
import { z } from "zod";
import {
  AegisClientError,
  AgentClient,
  type AgentClientOptions,
  type IncomingMessage,
  type LogFn,
  type SendResult,
} from "../sdk/agent-client/src/index";

/**
 * @aegis/agent-client against the real platform (`npm run dev`): two or more live clients in a tenant
 * of their own, every effect checked through the dashboard API.
 */
describe("agent client (sdk/agent-client) against the platform", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  const slug = `sdk-${Date.now().toString(36)}`;
  const adminEmail = `ops@${slug}.test`;
  const clients: AgentClient[] = [];
  const logs: string[] = [];
  let admin = "";
  let alphaAgent: Agent;
  let bravoAgent: Agent;
  let charlieAgent: Agent;
  let deltaAgent: Agent;
  let echoAgent: Agent;
  let alpha: AgentClient;
  let bravo: AgentClient;
  const bravoConfigs: Array<[number, unknown]> = [];

  type Agent = { id: string; credential: string };

  /** Waits for the platform's eventually consistent views (the hub, presence) without fixed sleeps. */
  const eventually = <T>(check: () => T | Promise<T>) =>
    vi.waitFor(check, { timeout: 15_000, interval: 100 });

  async function call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
    expected = 200,
  ): Promise<unknown> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status !== expected) {
      throw new Error(`${method} ${path} → ${response.status}, expected ${expected}: ${text.slice(0, 500)}`);
    }
    return text ? JSON.parse(text) : null;
  }

  async function login(email: string, pass: string): Promise<string> {
    const response = await fetch(`${baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: pass }),
    });
    expect(response.status).toBe(200);
    return z.object({ accessToken: z.string() }).parse(await response.json()).accessToken;
  }

  async function createAgent(name: string): Promise<Agent> {
    const created = z
      .object({ agent: z.object({ id: z.string() }), credential: z.string() })
      .parse(
        await call(
          admin,
          "POST",
          "/api/dashboard/agents",
          { name, modelTier: "sonnet", thinkingMode: "off" },
          201,
        ),
      );
    return { id: created.agent.id, credential: created.credential };
  }

  const Edge = z.object({
    from: z.string(),
    to: z.string(),
    direction: z.enum(["both", "send_only", "receive_only"]),
  });
  async function setEdges(edges: Array<z.infer<typeof Edge>>) {
    const current = z
      .object({ version: z.number() })
      .parse(await call(admin, "GET", "/api/dashboard/allowlist"));
    await call(admin, "PUT", "/api/dashboard/allowlist", { expectedVersion: current.version, edges });
  }

  const MessageView = z.object({
    message: z.object({
      id: z.string(),
      from: z.string(),
      to: z.string(),
      status: z.string(),
      reason: z.string().optional(),
      correlationId: z.string().optional(),
      hop: z.number(),
    }),
    thread: z.array(z.object({ id: z.string(), hop: z.number() })),
  });
  const messageView = async (id: string) =>
    MessageView.parse(await call(admin, "GET", `/api/dashboard/messages/${id}`));
  const statusOf = async (id: string) => (await messageView(id)).message.status;

  const AgentView = z.object({ agent: z.object({ runtime: z.object({ status: z.string() }) }) });
  const runtimeStatus = async (id: string) =>
    AgentView.parse(await call(admin, "GET", `/api/dashboard/agents/${id}`)).agent.runtime.status;

  function client(agent: Agent, options: Partial<AgentClientOptions> = {}): AgentClient {
    const log: LogFn = (level, message, data) => {
      if (level !== "debug") logs.push(`${agent.id} ${level} ${message} ${JSON.stringify(data ?? {})}`);
    };
    const c = new AgentClient({ baseUrl, agentId: agent.id, credential: agent.credential, log, ...options });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    const operator = await login("admin@aegis.local", password);
    const created = z
      .object({ tenant: z.object({ id: z.string() }), admin: z.object({ oneTimePassword: z.string() }) })
      .parse(
        await call(
          operator,
          "POST",
          "/api/admin/tenants",
          { name: "Agent Client Test", slug, planTier: "growth", adminEmail, adminName: "Sam Sdk" },
          202,
        ),
      );
    await vi.waitFor(
      async () => {
        const job = z
          .object({ status: z.string() })
          .parse(await call(operator, "GET", `/api/admin/tenants/${created.tenant.id}/provisioning`));
        expect(job.status).toBe("completed");
      },
      { timeout: 60_000, interval: 250 },
    );
    admin = await login(adminEmail, created.admin.oneTimePassword);
    alphaAgent = await createAgent("Alpha");
    bravoAgent = await createAgent("Bravo");
    charlieAgent = await createAgent("Charlie");
    deltaAgent = await createAgent("Delta");
    echoAgent = await createAgent("Echo");
    await setEdges([
      { from: alphaAgent.id, to: bravoAgent.id, direction: "both" },
      { from: alphaAgent.id, to: deltaAgent.id, direction: "both" },
    ]);

    alpha = client(alphaAgent);
    // Bravo goes through the standard constructor path: the token in `?token=` (Alpha sends it as a header).
    bravo = client(bravoAgent, {
      WebSocket: WS,
      onConfig: (version, config) => {
        bravoConfigs.push([version, config]);
      },
    });
    await Promise.all([alpha.connect(), bravo.connect()]);
  });

  afterAll(() => {
    for (const c of clients) c.close();
    if (logs.length) console.info(`agent client log:\n${logs.join("\n")}`);
  });

  it("A sends to B; B's handler gets it and the automatic ack makes it acknowledged", async () => {
    const received: IncomingMessage[] = [];
    bravo.onMessage((m) => {
      received.push(m);
    });

    const sent = await alpha.send(bravoAgent.id, "task_handoff", {
      title: "Review the Q3 numbers",
      priority: "high",
    });

    expect(sent.status).toBe("delivered");
    expect(sent.id).toMatch(/^msg_/);
    await eventually(() => expect(received.map((m) => m.id)).toEqual([sent.id]));
    expect(received[0]).toMatchObject({
      from: alphaAgent.id,
      type: "task_handoff",
      payload: { title: "Review the Q3 numbers", priority: "high" },
      correlationId: sent.id,
      hop: 1,
    });
    await eventually(async () => expect(await statusOf(sent.id)).toBe("acknowledged"));
  });

  it("a reply is threaded with the request's correlationId at hop 2", async () => {
    bravo.onMessage(async (m, ctx) => {
      if (m.type === "data_request") {
        await ctx.reply("data_response", { data: { answer: 42, asked: m.payload.query }, format: "json" });
      }
    });
    const replies: IncomingMessage[] = [];
    alpha.onMessage((m) => {
      replies.push(m);
    });

    const request = await alpha.send(bravoAgent.id, "data_request", { query: "What is the answer?" });

    await eventually(() => expect(replies).toHaveLength(1));
    const reply = replies[0];
    expect(reply).toMatchObject({
      from: bravoAgent.id,
      type: "data_response",
      correlationId: request.id,
      hop: 2,
      payload: { data: { answer: 42, asked: "What is the answer?" }, format: "json" },
    });
    await eventually(async () => {
      const view = await messageView(reply?.id ?? "");
      expect(view.message).toMatchObject({ correlationId: request.id, hop: 2, status: "acknowledged" });
      expect(view.thread.map((t) => t.id).sort()).toEqual([request.id, reply?.id].sort());
    });
  });

  it("messages sent while B is offline arrive in order, exactly once; a failed handler gets its message again", async () => {
    bravo.close();
    expect(bravo.state).toBe("closed");
    await eventually(async () => expect(await runtimeStatus(bravoAgent.id)).not.toBe("running"));
    const titles = ["first", "second", "third"];
    const sent: SendResult[] = [];
    for (const title of titles) sent.push(await alpha.send(bravoAgent.id, "notification", { title }));
    expect(sent.map((s) => s.status)).toEqual(["queued", "queued", "queued"]);

    const received: IncomingMessage[] = [];
    bravo.onMessage((m) => {
      received.push(m);
    });
    await bravo.connect();
    await eventually(() => expect(received.map((m) => m.id)).toEqual(sent.map((s) => s.id)));
    expect(received.map((m) => (m.type === "notification" ? m.payload.title : ""))).toEqual(titles);
    for (const s of sent) await eventually(async () => expect(await statusOf(s.id)).toBe("acknowledged"));

    // Reconnect, then send a marker: the platform redelivers before anything new, so once the marker is
    // in, any redelivery of the three would have been handled too.
    bravo.close();
    await bravo.connect();
    const marker = await alpha.send(bravoAgent.id, "notification", { title: "marker" });
    await eventually(() => expect(received.at(-1)?.id).toBe(marker.id));
    expect(received.map((m) => m.id)).toEqual([...sent.map((s) => s.id), marker.id]);

    const attempts: string[] = [];
    bravo.onMessage((m) => {
      if (m.type !== "notification" || m.payload.title !== "flaky") return;
      attempts.push(m.id);
      if (attempts.length === 1) throw new Error("the first delivery fails");
    });
    const flaky = await alpha.send(bravoAgent.id, "notification", { title: "flaky" });
    await eventually(() => expect(attempts).toEqual([flaky.id]));
    await eventually(async () => expect(await statusOf(flaky.id)).toBe("delivered"));

    bravo.close();
    await bravo.connect();
    await eventually(() => expect(attempts).toEqual([flaky.id, flaky.id]));
    await eventually(async () => expect(await statusOf(flaky.id)).toBe("acknowledged"));
  });

  it("a config push reaches onConfig, and the platform records the applied version", async () => {
    const Config = z.object({
      version: z.number(),
      config: z.object({ agents: z.record(z.string(), z.unknown()) }).loose(),
    });
    const current = Config.parse(await call(admin, "GET", "/api/dashboard/config"));
    await eventually(() => expect(bravo.configVersion).toBe(current.version));
    expect(bravoConfigs[0]?.[0]).toBe(current.version);

    const events: number[] = [];
    const off = bravo.on("config", (version) => events.push(version));
    const systemPrompt = `Answer in one line. (${slug})`;
    const saved = z.object({ version: z.number(), pushedTo: z.array(z.string()) }).parse(
      await call(admin, "PUT", "/api/dashboard/config", {
        expectedVersion: current.version,
        config: { ...current.config, agents: { ...current.config.agents, systemPrompt } },
      }),
    );
    off();

    expect(saved.version).toBe(current.version + 1);
    expect(saved.pushedTo).toContain(bravoAgent.id);
    await eventually(() => expect(bravo.configVersion).toBe(saved.version));
    expect(bravoConfigs.at(-1)).toEqual([
      saved.version,
      expect.objectContaining({ agents: expect.objectContaining({ systemPrompt }) }),
    ]);
    expect(bravo.config).toEqual(bravoConfigs.at(-1)?.[1]);
    expect(events).toEqual([saved.version]);

    const Status = z.object({
      agents: z.array(z.object({ agentId: z.string(), appliedVersion: z.number().nullable() })),
    });
    await eventually(async () => {
      const status = Status.parse(await call(admin, "GET", "/api/dashboard/config/status"));
      expect(status.agents.find((a) => a.agentId === bravoAgent.id)?.appliedVersion).toBe(saved.version);
    });
  });

  it("a backlog beyond the platform's frame burst arrives and is acknowledged in full", async () => {
    bravo.close();
    await eventually(async () => expect(await runtimeStatus(bravoAgent.id)).not.toBe("running"));
    // More sends, and then more acks, than the mailbox's per-socket budget (600 frames, 300/s) lets
    // through at once: the client paces its frames, so none is dropped as rate_limited.
    const count = 800;
    const sends = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        alpha.send(bravoAgent.id, "status_update", { status: "working", progress: i / count }),
      ),
    );
    expect(new Set(sends.map((s) => s.status))).toEqual(new Set(["queued"]));

    const handled = new Set<string>();
    bravo.onMessage((m) => {
      handled.add(m.id);
    });
    await bravo.connect();
    await eventually(() => expect(handled.size).toBe(count));

    const Page = z.object({
      data: z.array(z.object({ id: z.string() })),
      meta: z.object({ nextCursor: z.string().nullable() }),
    });
    await eventually(async () => {
      const acknowledged = new Set<string>();
      let cursor: string | null = null;
      do {
        const query = `agentId=${bravoAgent.id}&status=acknowledged&limit=200${cursor ? `&cursor=${cursor}` : ""}`;
        const page = Page.parse(await call(admin, "GET", `/api/dashboard/messages?${query}`));
        for (const m of page.data) acknowledged.add(m.id);
        cursor = page.meta.nextCursor;
      } while (cursor);
      expect(sends.filter((s) => !acknowledged.has(s.id))).toEqual([]);
    });
  });

  it("a restart (4001) reconnects by itself with backoff and a fresh token; a pause (4003) stops it", async () => {
    let tokenRequests = 0;
    const charlie = client(charlieAgent, {
      fetch: (input, init) => {
        if (String(input).endsWith("/v1/auth/token")) tokenRequests++;
        return fetch(input, init);
      },
    });
    const events: string[] = [];
    const delays: number[] = [];
    charlie.on("connected", () => events.push("connected"));
    charlie.on("disconnected", (code) => events.push(`disconnected ${code}`));
    charlie.on("reconnecting", (attempt, delayMs) => {
      events.push(`reconnecting ${attempt}`);
      delays.push(delayMs);
    });
    charlie.on("stopped", (reason) => events.push(`stopped ${reason}`));
    await charlie.connect();
    expect(events).toEqual(["connected"]);
    expect(tokenRequests).toBe(1);

    await call(admin, "POST", `/api/dashboard/agents/${charlieAgent.id}/actions/restart`);
    await eventually(() =>
      expect(events).toEqual(["connected", "disconnected 4001", "reconnecting 1", "connected"]),
    );
    expect(delays[0]).toBeGreaterThanOrEqual(200);
    expect(delays[0]).toBeLessThanOrEqual(300);
    expect(tokenRequests).toBe(2);
    expect(charlie.state).toBe("open");
    await eventually(async () => expect(await runtimeStatus(charlieAgent.id)).toBe("running"));

    await call(admin, "POST", `/api/dashboard/agents/${charlieAgent.id}/actions/pause`);
    await eventually(() => expect(events.slice(4)).toEqual(["disconnected 4003", "stopped paused"]));
    expect(charlie.state).toBe("stopped");
    await expect(
      charlie.send(alphaAgent.id, "notification", { title: "still there?" }),
    ).rejects.toMatchObject({
      code: "stopped",
    });

    // While paused the platform accepts the upgrade and closes it with 4003 at once: the client
    // stops again (reason "paused") instead of retrying forever.
    const before = events.length;
    await charlie.connect().catch((e: unknown) => {
      expect(e).toBeInstanceOf(AegisClientError);
    });
    await eventually(() => expect(events.slice(before)).toContain("stopped paused"));
    expect(charlie.state).toBe("stopped");

    await call(admin, "POST", `/api/dashboard/agents/${charlieAgent.id}/actions/resume`);
    await charlie.connect();
    expect(charlie.state).toBe("open");
  });

  it("a second connection of the same agent replaces the first, which stops instead of fighting back", async () => {
    const first = client(echoAgent);
    const stopped: string[] = [];
    first.on("stopped", (reason) => stopped.push(reason));
    await first.connect();
    const second = client(echoAgent);
    await second.connect();
    await eventually(() => expect(stopped).toEqual(["replaced"]));
    expect(first.state).toBe("stopped");
    expect(second.state).toBe("open");
  });

  it("sendHttp: accepted with a link, rejected with not_allowed and the message id once it is revoked", async () => {
    const accepted = await alpha.sendHttp(deltaAgent.id, "escalation", {
      reason: "Disk almost full",
      severity: "high",
    });
    expect(accepted).toEqual({ id: expect.stringMatching(/^msg_/), status: "queued" });

    await setEdges([{ from: alphaAgent.id, to: bravoAgent.id, direction: "both" }]);

    const rejected = await alpha
      .sendHttp(deltaAgent.id, "escalation", { reason: "Disk full", severity: "critical" })
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(AegisClientError);
    expect(rejected).toMatchObject({ code: "not_allowed", status: 403 });
    const id = rejected instanceof AegisClientError ? String(rejected.details?.id) : "";
    expect(id).toMatch(/^msg_/);
    await eventually(async () =>
      expect((await messageView(id)).message).toMatchObject({
        from: alphaAgent.id,
        to: deltaAgent.id,
        status: "rejected",
        reason: "not_allowed",
      }),
    );

    // The socket path reports the same verdict as a result rather than an error.
    const overSocket = await alpha.send(deltaAgent.id, "notification", { title: "anyone?" });
    expect(overSocket).toMatchObject({ status: "rejected", reason: "not_allowed" });
  });

  it("an invalid message is refused locally, before any network call", async () => {
    const fetchSpy = vi.fn<typeof fetch>((input, init) => fetch(input, init));
    const offline = client(alphaAgent, { fetch: fetchSpy });

    const empty = await offline.send(bravoAgent.id, "task_handoff", { title: "" }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(AegisClientError);
    expect(empty).toMatchObject({
      code: "invalid_message",
      details: { "payload.title": [expect.any(String)] },
    });

    const huge = await offline
      .sendHttp(bravoAgent.id, "notification", { title: "big", body: "x".repeat(70 * 1024) })
      .catch((e: unknown) => e);
    expect(huge).toMatchObject({
      code: "invalid_message",
      details: { payload: [expect.stringContaining("65536")] },
    });

    const ttl = await offline
      .send(bravoAgent.id, "notification", { title: "ok" }, { ttlSeconds: 0 })
      .catch((e: unknown) => e);
    expect(ttl).toMatchObject({ code: "invalid_message", details: { ttlSeconds: [expect.any(String)] } });

    // @ts-expect-error: "sleeping" is not a status, and the payload type says so at compile time too
    const wrong = offline.send(bravoAgent.id, "status_update", { status: "sleeping" });
    await expect(wrong).rejects.toMatchObject({
      code: "invalid_message",
      details: { "payload.status": expect.any(Array) },
    });

    expect(fetchSpy).not.toHaveBeenCalled();
    expect(offline.state).toBe("idle");
  });
});
