// The kubernetes driver against a real kube-apiserver (1.20, with etcd) on 127.0.0.1:16443, started by
// the k8s suite's global setup from ../shared/k8s. It shows what a real API server does with what the
// driver sends: server-side apply and its managed fields, re-apply, pruning, field conflicts, 422s and a
// CRD round-trip. It cannot show pods running or policies enforced: there is no kubelet or CNI.
import {
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { DesiredAgent, DesiredState } from "../../../worker/features/clusters/protocol";
import type { DriverContext } from "../driver";
import { KubernetesDriver } from "./driver";
import { agentObjectName } from "./objects";

const kubeConfig = new KubeConfig();
let api: KubernetesObjectApi;
const run = Date.now().toString(36);
const clusterId = `cls_${run}`;
const ns = `aegis-k8s-${run}`;

beforeAll(() => {
  kubeConfig.loadFromOptions({
    clusters: [{ name: "local", server: inject("kubeServer"), skipTLSVerify: true }],
    users: [{ name: "admin", token: inject("kubeToken") }],
    contexts: [{ name: "local", cluster: "local", user: "admin" }],
    currentContext: "local",
  });
  api = KubernetesObjectApi.makeApiClient(kubeConfig);
});

const agent = (id: string, extra: Partial<DesiredAgent> = {}): DesiredAgent => ({
  kind: "agent",
  tenantId: "ten_k8s",
  agentId: id,
  name: id,
  state: "running",
  modelTier: "sonnet",
  thinkingMode: "off",
  skills: [],
  allowedDomains: ["api.example.com"],
  credentialVersion: 1,
  ...extra,
});

const stateWith = (generation: number, agents: DesiredAgent[], withTenant = true): DesiredState => ({
  clusterId,
  generation,
  resources: [
    ...(withTenant
      ? [
          {
            kind: "tenant" as const,
            tenantId: "ten_k8s",
            slug: "k8s",
            namespace: ns,
            egressMode: "enforce" as const,
            configVersion: 1,
          },
        ]
      : []),
    ...agents,
  ],
});

/** The platform side of credentials for this layer: the controller's store would ask the platform. */
const issued: string[] = [];
const ctx: DriverContext = {
  credentialFor: async (agentId, version) => {
    issued.push(agentId);
    return { credential: `agk_test_${agentId}`, version: Math.max(version, 1) };
  },
  onEgress: () => {},
};

const driver = (
  images = { agentRuntime: "aegis/agent-runtime:test", egressProxy: "aegis/egress-proxy:test" },
) =>
  new KubernetesDriver({
    kubeConfig,
    platformUrl: "https://aegis.example.com",
    clusterId,
    images,
    proxyKey: "p".repeat(64),
  });

const read = (apiVersion: string, kind: string, name: string, namespace?: string) =>
  api.read({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } }) as Promise<
    KubernetesObject & { spec?: Record<string, unknown>; data?: Record<string, string> }
  >;
const gone = async (apiVersion: string, kind: string, name: string, namespace?: string) => {
  try {
    const o = await read(apiVersion, kind, name, namespace);
    return Boolean(o.metadata?.deletionTimestamp);
  } catch (err) {
    return (err as { code?: number }).code === 404;
  }
};

describe("kubernetes driver against a real API server", () => {
  it("applies every object server-side as aegis-controller, and a re-apply changes nothing", async () => {
    const d = driver();
    const first = await d.apply(stateWith(1, [agent("agt_alpha"), agent("agt_beta")]), ctx);
    expect(first.errors).toEqual([]);
    const deployment = await read("apps/v1", "Deployment", agentObjectName("agt_alpha"), ns);
    expect(deployment.spec?.replicas).toBe(1);
    const managers = (deployment.metadata?.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
    expect(managers).toContain("aegis-controller/Apply");
    const secret = await read("v1", "Secret", `${agentObjectName("agt_alpha")}-credential`, ns);
    expect(Buffer.from(secret.data?.credential ?? "", "base64").toString()).toBe("agk_test_agt_alpha");
    expect(
      (await read("networking.k8s.io/v1", "NetworkPolicy", agentObjectName("agt_alpha"), ns)).spec,
    ).toMatchObject({
      policyTypes: ["Ingress", "Egress"],
    });
    // The proxy admits agent pods only: its stored ingress rule kept its `from`. The client names it
    // `_from` (also when reading back); sent under the wire name it was dropped, and the rule admitted
    // every pod, until the driver went through the client's model (toClientModel).
    expect(
      (await read("networking.k8s.io/v1", "NetworkPolicy", "aegis-egress-proxy", ns)).spec,
    ).toMatchObject({
      ingress: [{ _from: [{ podSelector: { matchLabels: { "app.kubernetes.io/component": "agent" } } }] }],
    });
    // Nothing the controller meant to send was dropped by the client: the stored Deployment has the
    // security context and the secretKeyRef env it was given.
    const container = (
      deployment.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }
    ).template.spec.containers[0];
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(JSON.stringify(container?.env)).toContain("secretKeyRef");

    const before = deployment.metadata?.resourceVersion;
    issued.length = 0;
    const again = await d.apply(stateWith(1, [agent("agt_alpha"), agent("agt_beta")]), ctx);
    expect(again.errors).toEqual([]);
    expect(
      (await read("apps/v1", "Deployment", agentObjectName("agt_alpha"), ns)).metadata?.resourceVersion,
    ).toBe(before);
    // The credentials came back from the agents' Secrets: none was asked for (or rotated) again.
    expect(issued).toEqual([]);
  });

  it("takes back a field another manager changed, on the next apply", async () => {
    const name = agentObjectName("agt_alpha");
    await api.patch(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: ns },
        spec: { replicas: 5 },
      } as KubernetesObject,
      undefined,
      undefined,
      "someone-else",
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((await read("apps/v1", "Deployment", name, ns)).spec?.replicas).toBe(5);
    expect((await driver().apply(stateWith(2, [agent("agt_alpha"), agent("agt_beta")]), ctx)).errors).toEqual(
      [],
    );
    expect((await read("apps/v1", "Deployment", name, ns)).spec?.replicas).toBe(1);
  });

  it("a paused agent is scaled to zero; a removed one is pruned with everything it had", async () => {
    const d = driver();
    const paused = await d.apply(
      stateWith(3, [agent("agt_alpha", { state: "stopped" }), agent("agt_beta")]),
      ctx,
    );
    expect(paused.errors).toEqual([]);
    expect((await read("apps/v1", "Deployment", agentObjectName("agt_alpha"), ns)).spec?.replicas).toBe(0);

    const removed = await d.apply(stateWith(4, [agent("agt_beta")]), ctx);
    expect(removed.errors).toEqual([]);
    const name = agentObjectName("agt_alpha");
    for (const [apiVersion, kind, n] of [
      ["apps/v1", "Deployment", name],
      ["v1", "ConfigMap", name],
      ["v1", "Secret", `${name}-credential`],
      ["networking.k8s.io/v1", "NetworkPolicy", name],
    ] as const) {
      expect(await gone(apiVersion, kind, n, ns), `${kind} ${n}`).toBe(true);
    }
    expect(await gone("apps/v1", "Deployment", agentObjectName("agt_beta"), ns)).toBe(false);
  });

  it("reports what the server refuses (422) with its message and still applies the rest", async () => {
    const d = driver({ agentRuntime: "", egressProxy: "aegis/egress-proxy:test" });
    const result = await d.apply(stateWith(5, [agent("agt_beta"), agent("agt_gamma")]), ctx);
    const deployments = result.errors.filter((e) => e.resource.startsWith("Deployment"));
    expect(deployments.map((e) => e.resource).sort()).toEqual([
      `Deployment ${ns}/${agentObjectName("agt_beta")}`,
      `Deployment ${ns}/${agentObjectName("agt_gamma")}`,
    ]);
    expect(deployments[0]?.message).toMatch(/^422: .*image/);
    // The new agent's other objects are there.
    expect(await gone("v1", "ConfigMap", agentObjectName("agt_gamma"), ns)).toBe(false);
    expect(await gone("networking.k8s.io/v1", "NetworkPolicy", agentObjectName("agt_gamma"), ns)).toBe(false);
  });

  it("adds the CiliumNetworkPolicy once the cluster has Cilium's CRD (CRD round-trip)", async () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "ciliumnetworkpolicies.cilium.io" },
      spec: {
        group: "cilium.io",
        names: {
          kind: "CiliumNetworkPolicy",
          plural: "ciliumnetworkpolicies",
          singular: "ciliumnetworkpolicy",
          listKind: "CiliumNetworkPolicyList",
        },
        scope: "Namespaced",
        versions: [
          {
            name: "v2",
            served: true,
            storage: true,
            // The client serializes built-in kinds (a CRD is one) from its own property names: the
            // wire's x-kubernetes-preserve-unknown-fields is x_kubernetes_preserve_unknown_fields here.
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: { spec: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
              },
            },
          },
        ],
      },
    };
    await api.patch(
      crd as KubernetesObject,
      undefined,
      undefined,
      "test-setup",
      true,
      PatchStrategy.ServerSideApply,
    );
    // A new CRD is served once it is established.
    for (let i = 0; i < 100; i++) {
      const c = (await read("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd.metadata.name)) as {
        status?: { conditions?: Array<{ type: string; status: string }> };
      };
      if (c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const result = await driver().apply(
      stateWith(6, [agent("agt_beta", { allowedDomains: ["*.example.net"] })]),
      ctx,
    );
    expect(result.errors).toEqual([]);
    const policy = (await read("cilium.io/v2", "CiliumNetworkPolicy", "aegis-egress-proxy-fqdn", ns)) as {
      spec?: { egress?: Array<{ toFQDNs?: unknown[] }> };
    };
    expect(policy.spec?.egress?.[1]?.toFQDNs).toEqual([
      { matchPattern: "*.example.net" },
      { matchName: "aegis.example.com" },
    ]);
  });

  it("a tenant no longer desired goes, namespace and all", async () => {
    const result = await driver().apply(stateWith(7, [], false), ctx);
    expect(result.errors).toEqual([]);
    expect(await gone("v1", "Namespace", ns)).toBe(true);
  });
});

describe("kubernetes driver, killed in the middle of an apply", () => {
  it("a fresh start applies the latest generation fully", async () => {
    const { build } = await import("esbuild");
    const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { spawn } = await import("node:child_process");
    const { pathToFileURL } = await import("node:url");
    // Inside the repository, so the scripts resolve @kubernetes/client-node from its node_modules.
    const cache = join(import.meta.dirname, "../../../node_modules/.cache");
    await (await import("node:fs/promises")).mkdir(cache, { recursive: true });
    const work = await mkdtemp(join(cache, "aegis-k8s-kill-"));
    try {
      // The driver in a process of its own, as the controller runs it, applying a state of 20 agents.
      const bundle = join(work, "driver.mjs");
      await build({
        entryPoints: [join(import.meta.dirname, "driver.ts")],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: bundle,
        packages: "external",
        logLevel: "silent",
        nodePaths: [join(import.meta.dirname, "../../../node_modules")],
      });
      const killNs = `aegis-kill-${run}`;
      const big: DesiredState = {
        clusterId,
        generation: 10,
        resources: [
          {
            kind: "tenant",
            tenantId: "ten_kill",
            slug: "kill",
            namespace: killNs,
            egressMode: "enforce",
            configVersion: 1,
          },
          ...Array.from({ length: 20 }, (_, i) => agent(`agt_kill_${i}`, { tenantId: "ten_kill" })),
        ],
      };
      const script = join(work, "apply.mjs");
      await writeFile(
        script,
        `import { KubeConfig } from "@kubernetes/client-node";
import { KubernetesDriver } from ${JSON.stringify(pathToFileURL(bundle).href)};
const kc = new KubeConfig();
kc.loadFromOptions(${JSON.stringify({
          clusters: [{ name: "local", server: inject("kubeServer"), skipTLSVerify: true }],
          users: [{ name: "admin", token: inject("kubeToken") }],
          contexts: [{ name: "local", cluster: "local", user: "admin" }],
          currentContext: "local",
        })});
const d = new KubernetesDriver({ kubeConfig: kc, platformUrl: "https://aegis.example.com", clusterId: ${JSON.stringify(clusterId)},
  images: { agentRuntime: "aegis/agent-runtime:test", egressProxy: "aegis/egress-proxy:test" }, proxyKey: "${"p".repeat(64)}" });
process.stdout.write("start\\n");
await d.apply(${JSON.stringify(big)}, { credentialFor: async (id, v) => ({ credential: "agk_" + id, version: Math.max(v, 1) }), onEgress: () => {} });
process.stdout.write("done\\n");
`,
      );
      const child = spawn(process.execPath, [script], {
        cwd: join(import.meta.dirname, "../../.."),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout?.on("data", (d) => {
        out += d;
      });
      child.stderr?.on("data", (d) => {
        out += d;
      });
      // Kill it as soon as the first agent's Deployment exists: the apply is under way, not finished.
      for (let i = 0; i < 300; i++) {
        if (!(await gone("apps/v1", "Deployment", agentObjectName("agt_kill_0"), killNs))) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGKILL");
        await exited;
      }
      expect(out, out).toContain("start");
      expect(out).not.toContain("done");
      expect(await gone("apps/v1", "Deployment", agentObjectName("agt_kill_19"), killNs)).toBe(true);

      // The restarted controller applies the same generation again: everything is there, once.
      const result = await driver().apply(big, ctx);
      expect(result.errors).toEqual([]);
      for (let i = 0; i < 20; i++)
        expect(
          await gone("apps/v1", "Deployment", agentObjectName(`agt_kill_${i}`), killNs),
          `agent ${i}`,
        ).toBe(false);
      await driver().apply({ ...big, generation: 11, resources: [] }, ctx);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
