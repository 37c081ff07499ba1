// The controller's reconciler at its input boundary: a WebSocket on loopback speaks the platform's
// side of /controller/v1/connect (frames from protocol.ts) so that a test can send what the real
// platform never would — a desired state that fails the schema — and watch the answers. The drivers are
// the real ones: the kubernetes driver against the recording API server stand-in, which fails an object
// once to drive the retry. The real platform is in e2e/cluster-local.e2e.ts and cluster-restart.e2e.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { type KubeApiStandIn, start } from "../../scripts/standins/kube-apiserver.mjs";
import { Controller } from "./controller";
import { CredentialStore } from "./credentials";
import { KubernetesDriver } from "./kubernetes/driver";
import { agentObjectName } from "./kubernetes/objects";
import { LocalDriver } from "./local/driver";

let wss: WebSocketServer;
let platformUrl = "";
let socket: WebSocket | null = null;
const frames: Array<Record<string, unknown>> = [];
const waiters: Array<() => void> = [];
let work = "";
let api: KubeApiStandIn;
const controllers: Controller[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "aegis-controller-test-"));
  api = await start();
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((ok) => wss.once("listening", ok));
  platformUrl = `http://127.0.0.1:${(wss.address() as { port: number }).port}`;
  wss.on("connection", (ws, req) => {
    expect(req.url).toBe("/controller/v1/connect");
    expect(req.headers.authorization).toBe("Bearer aegis_cc_test");
    socket = ws;
    ws.on("message", (data) => {
      frames.push(JSON.parse(String(data)));
      for (const w of waiters.splice(0)) w();
    });
    for (const w of waiters.splice(0)) w();
  });
});
afterEach(async () => {
  for (const c of controllers.splice(0)) await c.stop();
  socket = null;
  frames.length = 0;
});
afterAll(async () => {
  await new Promise((ok) => wss.close(ok));
  await api.close();
  await rm(work, { recursive: true, force: true });
});

async function next(pred: (f: Record<string, unknown>) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = frames.findIndex(pred);
    if (i >= 0) return frames.splice(i, 1)[0] as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`no such frame; got ${JSON.stringify(frames)}`);
    await new Promise<void>((ok) => {
      const t = setTimeout(ok, Math.max(1, deadline - Date.now()));
      waiters.push(() => {
        clearTimeout(t);
        ok();
      });
    });
  }
}
const connected = async () => {
  while (!socket) await new Promise<void>((ok) => waiters.push(ok));
  return socket;
};

const tenant = {
  kind: "tenant",
  tenantId: "ten_r",
  slug: "reconcile",
  namespace: "aegis-reconcile",
  egressMode: "enforce",
  configVersion: 1,
};
const agent = {
  kind: "agent",
  tenantId: "ten_r",
  agentId: "agt_r1",
  name: "R1",
  state: "running",
  modelTier: "sonnet",
  thinkingMode: "off",
  skills: [],
  allowedDomains: [],
  credentialVersion: 1,
};

describe("controller reconciler", () => {
  it("refuses a desired state that fails the schema, says why, and applies nothing", async () => {
    const driver = new LocalDriver({
      platformUrl,
      runtimeCommand: [process.execPath, "-e", "process.exit(3)"],
    });
    const controller = new Controller({
      url: platformUrl,
      clusterId: "cls_r",
      credential: "aegis_cc_test",
      driver,
      credentials: new CredentialStore(join(work, "c1.json"), {
        url: platformUrl,
        credential: "aegis_cc_test",
      }),
      log: () => {},
      statusIntervalMs: 60_000,
    });
    controllers.push(controller);
    controller.start();
    const ws = await connected();
    ws.send(
      JSON.stringify({
        op: "desired_state",
        generation: 3,
        resources: [tenant, { ...agent, kind: "robot" }],
      }),
    );
    const rejected = await next((f) => f.op === "rejected");
    expect(rejected.generation).toBe(3);
    expect(String(rejected.reason)).toContain("resources.1.kind");
    expect(frames.some((f) => f.op === "applied")).toBe(false);
    expect(await driver.status()).toEqual([]);
  });

  it("reports an object the API server refused, retries with backoff, and reports the generation applied", async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: "s", server: api.url, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "c", cluster: "s", user: "u" }],
      currentContext: "c",
    });
    const controller = new Controller({
      url: platformUrl,
      clusterId: "cls_r",
      credential: "aegis_cc_test",
      driver: new KubernetesDriver({
        kubeConfig,
        platformUrl: "https://aegis.example.com",
        clusterId: "cls_r",
        images: { agentRuntime: "a:1", egressProxy: "p:1" },
        proxyKey: "k".repeat(64),
      }),
      // The runtime credential is already held (as after an earlier run), so no platform call is needed.
      credentials: new CredentialStore(join(work, "c2.json"), {
        url: platformUrl,
        credential: "aegis_cc_test",
      }),
      log: () => {},
      statusIntervalMs: 60_000,
    });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      join(work, "c2.json"),
      JSON.stringify({ agt_r1: { credential: "agk_held", version: 1 } }),
    );
    controllers.push(controller);
    api.fail("deployments", agentObjectName("agt_r1"), 500, "etcdserver: request timed out", "InternalError");
    controller.start();
    const ws = await connected();
    ws.send(JSON.stringify({ op: "desired_state", generation: 5, resources: [tenant, agent] }));
    const failed = await next(
      (f) => f.op === "status" && Array.isArray(f.errors) && (f.errors as unknown[]).length > 0,
    );
    expect(failed.errors).toEqual([
      {
        resource: `Deployment aegis-reconcile/${agentObjectName("agt_r1")}`,
        message: "500: etcdserver: request timed out",
      },
    ]);
    // The other objects went in on the first try.
    expect(api.store.has(`v1/aegis-reconcile/configmaps/${agentObjectName("agt_r1")}`)).toBe(true);
    // The retry (after about a second) applies the rest, and the generation is reported applied.
    expect(await next((f) => f.op === "applied", 15_000)).toEqual({ op: "applied", generation: 5 });
    expect(api.store.has(`apps/v1/aegis-reconcile/deployments/${agentObjectName("agt_r1")}`)).toBe(true);
  });
});
