// The kubernetes driver against a recording stand-in API server (scripts/standins/kube-apiserver.mjs):
// exactly what goes over the wire — method, path, field manager, force, content type and body (nothing
// the driver meant to send dropped by the client) — and how 409/422/500 answers are reported while the
// other objects are still applied. The real API server is in driver.k8s.test.ts.
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type KubeApiStandIn, start } from "../../../scripts/standins/kube-apiserver.mjs";
import type { DesiredState } from "../../../worker/features/clusters/protocol";
import type { DriverContext } from "../driver";
import { KubernetesDriver } from "./driver";
import { agentObjectName, clusterObjects } from "./objects";

let api: KubeApiStandIn;
const kubeConfig = new KubeConfig();

beforeAll(async () => {
  api = await start();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "stand-in", server: api.url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "stand-in", user: "u" }],
    currentContext: "c",
  });
});
afterAll(() => api.close());
beforeEach(() => {
  api.requests.length = 0;
});

const state: DesiredState = {
  clusterId: "cls_contract",
  generation: 1,
  resources: [
    {
      kind: "tenant",
      tenantId: "ten_c",
      slug: "contract",
      namespace: "aegis-contract",
      egressMode: "enforce",
      configVersion: 1,
    },
    {
      kind: "agent",
      tenantId: "ten_c",
      agentId: "agt_one",
      name: "One",
      state: "running",
      modelTier: "sonnet",
      thinkingMode: "off",
      skills: [],
      allowedDomains: ["api.example.com"],
      credentialVersion: 1,
    },
    {
      kind: "agent",
      tenantId: "ten_c",
      agentId: "agt_two",
      name: "Two",
      state: "running",
      modelTier: "haiku",
      thinkingMode: "off",
      skills: [],
      allowedDomains: [],
      credentialVersion: 1,
    },
  ],
};
const images = { agentRuntime: "aegis/agent-runtime:test", egressProxy: "aegis/egress-proxy:test" };
const ctx: DriverContext = {
  credentialFor: async (agentId, version) => ({
    credential: `agk_${agentId}`,
    version: Math.max(1, version),
  }),
  onEgress: () => {},
};
const driver = () =>
  new KubernetesDriver({
    kubeConfig,
    platformUrl: "https://aegis.example.com",
    clusterId: "cls_contract",
    images,
    proxyKey: "k".repeat(64),
  });

describe("kubernetes driver, on the wire", () => {
  it("applies each object with PATCH apply-patch, field manager aegis-controller, force, and the whole body", async () => {
    const result = await driver().apply(state, ctx);
    expect(result.errors).toEqual([]);
    const applies = api.requests.filter((r) => r.method === "PATCH");
    const expected = clusterObjects(state, {
      platformUrl: "https://aegis.example.com",
      images,
      proxyKey: "k".repeat(64),
      credentials: new Map([
        ["agt_one", { credential: "agk_agt_one", version: 1 }],
        ["agt_two", { credential: "agk_agt_two", version: 1 }],
      ]),
      cilium: false,
    });
    expect(applies).toHaveLength(expected.length);
    for (const r of applies) {
      expect(r.contentType).toBe("application/apply-patch+yaml");
      expect(r.query).toMatchObject({ fieldManager: "aegis-controller", force: "true" });
    }
    // Paths: cluster-scoped Namespace, namespaced plurals.
    expect(applies[0]?.path).toBe("/api/v1/namespaces/aegis-contract");
    expect(applies.map((r) => r.path)).toContain(
      `/apis/apps/v1/namespaces/aegis-contract/deployments/${agentObjectName("agt_one")}`,
    );
    expect(applies.map((r) => r.path)).toContain(
      `/apis/networking.k8s.io/v1/namespaces/aegis-contract/networkpolicies/${agentObjectName("agt_two")}`,
    );
    // Nothing dropped or renamed on the way: each body is the object the driver built.
    for (const [i, object] of expected.entries())
      expect(applies[i]?.body, `${object.kind} ${object.metadata.name}`).toEqual(object);
  });

  it("a 409, a 422 and a 500 are reported with the server's message; every other object is still applied", async () => {
    api.fail(
      "configmaps",
      "aegis-egress-policy",
      409,
      'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas',
      "Conflict",
    );
    api.fail(
      "deployments",
      agentObjectName("agt_one"),
      422,
      'Deployment.apps "agent-agt-one" is invalid: spec.template.spec.containers[0].image: Required value',
    );
    api.fail(
      "secrets",
      `${agentObjectName("agt_two")}-credential`,
      500,
      "etcdserver: request timed out",
      "InternalError",
    );
    const result = await driver().apply(state, ctx);
    expect(result.errors.map((e) => [e.resource, e.message.slice(0, 4)])).toEqual([
      ["ConfigMap aegis-contract/aegis-egress-policy", "409:"],
      ["Deployment aegis-contract/agent-agt-one", "422:"],
      ["Secret aegis-contract/agent-agt-two-credential", "500:"],
    ]);
    expect(result.errors[1]?.message).toContain("containers[0].image: Required value");
    const applied = api.requests.filter((r) => r.method === "PATCH").length;
    expect(applied).toBe(
      clusterObjects(state, {
        platformUrl: "https://aegis.example.com",
        images,
        proxyKey: "k".repeat(64),
        credentials: new Map(),
        cilium: false,
      }).length,
    );
  });

  it("prunes what it applied before and is no longer desired, by its owner labels only", async () => {
    // Something of someone else in the same namespace, without our labels, stays.
    api.store.set("v1/aegis-contract/configmaps/not-ours", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "not-ours", namespace: "aegis-contract", labels: { app: "other" } },
    });
    await driver().apply(state, ctx);
    api.requests.length = 0;
    const withoutTwo = {
      ...state,
      generation: 2,
      resources: state.resources.filter((r) => r.kind !== "agent" || r.agentId !== "agt_two"),
    };
    expect((await driver().apply(withoutTwo, ctx)).errors).toEqual([]);
    const deletes = api.requests
      .filter((r) => r.method === "DELETE")
      .map((r) => r.path)
      .sort();
    const two = agentObjectName("agt_two");
    expect(deletes).toEqual(
      [
        `/api/v1/namespaces/aegis-contract/configmaps/${two}`,
        `/api/v1/namespaces/aegis-contract/secrets/${two}-credential`,
        `/apis/apps/v1/namespaces/aegis-contract/deployments/${two}`,
        `/apis/networking.k8s.io/v1/namespaces/aegis-contract/networkpolicies/${two}`,
      ].sort(),
    );
    const lists = api.requests.filter((r) => r.method === "GET" && r.query.labelSelector);
    expect(
      lists.every(
        (r) =>
          r.query.labelSelector ===
          "app.kubernetes.io/managed-by=aegis-controller,aegis.dev/cluster=cls_contract",
      ),
    ).toBe(true);
    expect(api.store.has("v1/aegis-contract/configmaps/not-ours")).toBe(true);
  });
});

describe("kubernetes driver, egress reports", () => {
  it("forwards each block the tenant's egress proxy logged, once, and ignores other lines", async () => {
    const events: unknown[] = [];
    const d = driver();
    await d.apply(state, { ...ctx, onEgress: (e) => events.push(e) });
    api.store.set("v1/aegis-contract/pods/aegis-egress-proxy-abc", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "aegis-egress-proxy-abc",
        namespace: "aegis-contract",
        labels: { "app.kubernetes.io/component": "egress-proxy" },
      },
    });
    const blocked = {
      event: "egress",
      agentId: "agt_one",
      domain: "exfil.example.org",
      at: "2026-11-25T12:00:00.000Z",
      wouldBlock: false,
      reason: "not_declared",
    };
    api.logs.set(
      "aegis-contract/aegis-egress-proxy-abc",
      [
        JSON.stringify({ event: "listening", port: 3128 }),
        JSON.stringify(blocked),
        "not json at all",
        "",
      ].join("\n"),
    );
    await d.status();
    await d.status(); // the same log window again: nothing twice
    expect(events).toEqual([
      {
        agentId: "agt_one",
        domain: "exfil.example.org",
        at: "2026-11-25T12:00:00.000Z",
        wouldBlock: false,
        reason: "not_declared",
      },
    ]);
    const logReads = api.requests.filter((r) => r.path.endsWith("/log"));
    expect(logReads[0]?.path).toBe("/api/v1/namespaces/aegis-contract/pods/aegis-egress-proxy-abc/log");
    expect(logReads[0]?.query.sinceSeconds).toBe("120");
  });
});
