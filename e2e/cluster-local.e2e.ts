import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { z } from "zod";

const ROOT = resolve(import.meta.dirname, "..");
const CONTROLLER = join(ROOT, "controller/bin/aegis-controller.mjs");

/**
 * The controller with its local driver against the real platform (`npm run dev`): an operator
 * registers a cluster for a fresh tenant, `aegis-controller register` exchanges the token, and
 * `aegis-controller run` starts a real agent runtime process per agent, which connects to its mailbox
 * and answers a data_request through the model gateway (the model stand-in).
 */
describe("controller, local driver, against the platform", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  const slug = `cl-${Date.now().toString(36)}`;
  let admin = "";
  let operator = "";
  let tenantId = "";
  let clusterId = "";
  let state = "";
  /** The Asker agent's credential (shown once at creation), for sending as it. */
  let askerSecret = "";
  let controller: ChildProcess | null = null;
  const output: string[] = [];

  async function call(token: string, method: string, path: string, body?: unknown, expected = 200) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 400)}`);
    return text ? JSON.parse(text) : null;
  }

  async function login(email: string, pass: string) {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: pass }),
    });
    return z.object({ accessToken: z.string() }).parse(await res.json()).accessToken;
  }

  const createAgent = async (name: string) => {
    const created = await call(
      admin,
      "POST",
      "/api/dashboard/agents",
      { name, modelTier: "sonnet", thinkingMode: "off" },
      201,
    );
    return { id: created.agent.id as string, credential: created.credential as string };
  };
  const runtimeStatus = async (id: string) =>
    (await call(admin, "GET", `/api/dashboard/agents/${id}`)).agent.runtime.status as string;
  const clusterStatus = async () => (await call(operator, "GET", `/api/admin/clusters/${clusterId}`)).status;

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(ROOT, "controller/build.mjs")], { encoding: "utf8" });
    expect(build.status, build.stderr).toBe(0);
    operator = await login("admin@aegis.local", password);
    const created = await call(
      operator,
      "POST",
      "/api/admin/tenants",
      { name: "Cluster Test", slug, planTier: "growth", adminEmail: `ops@${slug}.test`, adminName: "Cleo" },
      202,
    );
    tenantId = created.tenant.id;
    await vi.waitFor(
      async () =>
        expect((await call(operator, "GET", `/api/admin/tenants/${tenantId}/provisioning`)).status).toBe(
          "completed",
        ),
      { timeout: 60_000, interval: 250 },
    );
    admin = await login(`ops@${slug}.test`, created.admin.oneTimePassword);
    state = await mkdtemp(join(tmpdir(), "aegis-controller-"));
  }, 90_000);

  afterAll(async () => {
    if (controller && controller.exitCode === null) {
      const exited = new Promise((done) => controller?.once("exit", done));
      controller.kill("SIGTERM");
      await exited;
    }
    if (state) await rm(state, { recursive: true, force: true });
  });

  it("registers once with the token from the API, and a second time is refused", async () => {
    const existing = await createAgent("Resident");
    const cluster = await call(
      operator,
      "POST",
      "/api/admin/clusters",
      { name: "local", tenantIds: [tenantId] },
      201,
    );
    clusterId = cluster.cluster.id;
    const register = (token: string) =>
      spawnSync(
        process.execPath,
        [
          CONTROLLER,
          "register",
          "--url",
          baseUrl,
          "--token",
          token,
          "--name",
          "laptop",
          "--state-dir",
          state,
        ],
        { encoding: "utf8" },
      );
    const first = register(cluster.registrationToken);
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain(`registered as ${clusterId}`);
    const second = register(cluster.registrationToken);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain("registration refused (401 invalid_registration_token)");

    controller = spawn(process.execPath, [CONTROLLER, "run", "--state-dir", state, "--driver", "local"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [controller.stdout, controller.stderr])
      stream?.on("data", (d) => output.push(String(d)));

    // The existing agent's runtime starts, connects to its mailbox, and shows as running.
    await vi.waitFor(async () => expect(await runtimeStatus(existing.id)).toBe("running"), {
      timeout: 30_000,
      interval: 200,
    });
    await vi.waitFor(
      async () => {
        const s = await clusterStatus();
        expect(s.connected).toBe(true);
        expect(s.appliedGeneration).toBe(s.desiredGeneration);
        expect(s.agents).toContainEqual(expect.objectContaining({ agentId: existing.id, status: "running" }));
      },
      { timeout: 30_000, interval: 200 },
    );
  }, 90_000);

  it("a new agent gets a runtime by itself, which answers a data_request with its model", async () => {
    const worker = await createAgent("Worker");
    await vi.waitFor(async () => expect(await runtimeStatus(worker.id)).toBe("running"), {
      timeout: 30_000,
      interval: 100,
    });

    // The asker is an agent of the same tenant (its own runtime holds its mailbox and acks the answer);
    // this test sends for it over HTTP with its token.
    const asker = await createAgent("Asker");
    askerSecret = asker.credential;
    const current = await call(admin, "GET", "/api/dashboard/allowlist");
    await call(admin, "PUT", "/api/dashboard/allowlist", {
      expectedVersion: current.version,
      edges: [{ from: asker.id, to: worker.id, direction: "both" }],
    });
    const token = (await fetch(`${baseUrl}/v1/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ agentId: asker.id, credential: asker.credential }),
    }).then((r) => r.json())) as { token: string };
    const sent = await call(
      token.token,
      "POST",
      "/v1/messages",
      {
        to: worker.id,
        type: "data_request",
        payload: { query: "What is the weekly revenue?", format: "text" },
      },
      202,
    );
    await vi.waitFor(
      async () => {
        const thread = (await call(admin, "GET", `/api/dashboard/messages/${sent.id}`)).thread as Array<{
          type: string;
          from: string;
        }>;
        expect(thread.some((m) => m.type === "data_response" && m.from === worker.id)).toBe(true);
      },
      { timeout: 30_000, interval: 200 },
    );
    // The model call went through the gateway: it is in the worker's usage.
    await vi.waitFor(
      async () => {
        const events = await call(admin, "GET", `/api/dashboard/audit?actorId=${worker.id}`);
        expect(JSON.stringify(events)).toContain("answer_data_request");
      },
      { timeout: 30_000, interval: 250 },
    );
  }, 90_000);

  it("a task naming one of the agent's skills runs it in the runtime; an undeclared permission is refused and alerted", async () => {
    const list = await call(admin, "GET", "/api/dashboard/agents");
    const worker = list.data.find((a: { name: string }) => a.name === "Worker");
    const asker = list.data.find((a: { name: string }) => a.name === "Asker");
    const login = async (agentId: string, credential: string) =>
      (
        (await fetch(`${baseUrl}/v1/auth/token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ agentId, credential }),
        }).then((r) => r.json())) as { token: string }
      ).token;
    const token = await login(asker.id, askerSecret);
    const task = async (skill: string, input: unknown) => {
      const sent = await call(
        token,
        "POST",
        "/v1/messages",
        {
          to: worker.id,
          type: "task_handoff",
          payload: { title: `run ${skill}`, context: { skill, input } },
        },
        202,
      );
      let replyId = "";
      await vi.waitFor(
        async () => {
          const thread = (await call(admin, "GET", `/api/dashboard/messages/${sent.id}`)).thread as Array<{
            id: string;
            type: string;
            from: string;
            payloadPreview: string;
          }>;
          const reply = thread.find(
            (m) =>
              m.type === "status_update" && m.from === worker.id && !m.payloadPreview.includes("Accepted"),
          );
          expect(reply).toBeDefined();
          replyId = reply?.id ?? "";
        },
        { timeout: 30_000, interval: 200 },
      );
      const payload = (await call(admin, "GET", `/api/dashboard/messages/${replyId}`)).message.payload as {
        status: string;
        summary: string;
      };
      return payload;
    };
    // A core skill, installed on every agent, runs with its input.
    const transformed = await task("json-transform", {
      data: { a: { b: 42 } },
      operations: [{ op: "select", path: "a.b" }],
    });
    expect(transformed.status).toBe("done");
    expect(JSON.parse(transformed.summary)).toEqual({ result: 42 });
    // http-fetch declares no domains: its request is refused by the context, reported, and alerted.
    const refused = await task("http-fetch", { url: "https://exfil.example.org/steal" });
    expect(refused.status).toBe("error");
    expect(refused.summary).toMatch(/^permission_denied: Permission denied \(network exfil\.example\.org\)/);
    await vi.waitFor(
      async () => {
        const alerts = await call(admin, "GET", "/api/dashboard/alerts");
        expect(alerts.data.some((a: { rule: string }) => a.rule === "skill_undeclared_permission")).toBe(
          true,
        );
      },
      { timeout: 30_000, interval: 250 },
    );
  }, 90_000);

  it("pausing an agent stops its runtime; the cluster reports the new generation applied", async () => {
    const list = await call(admin, "GET", "/api/dashboard/agents");
    const resident = list.data.find((a: { name: string }) => a.name === "Resident");
    await call(admin, "POST", `/api/dashboard/agents/${resident.id}/actions/pause`);
    await vi.waitFor(
      async () => {
        const s = await clusterStatus();
        expect(s.appliedGeneration).toBe(s.desiredGeneration);
        expect(s.agents.find((a: { agentId: string }) => a.agentId === resident.id)).toBeUndefined();
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(await runtimeStatus(resident.id)).toBe("stopped");
  }, 60_000);
});
