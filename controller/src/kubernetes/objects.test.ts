// Desired state → Kubernetes objects, each validated against the official schemas (kubernetes-models,
// @kubernetes-models/cilium): what the kubernetes driver will apply.
import { CiliumNetworkPolicy } from "@kubernetes-models/cilium/cilium.io/v2";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import type { DesiredState } from "../../../worker/features/clusters/protocol";
import {
  agentObjectName,
  clusterObjects,
  type KubeObject,
  LABEL_CLUSTER,
  LABEL_MANAGED,
  PROXY_PORT,
} from "./objects";

const state: DesiredState = {
  clusterId: "cls_01abc",
  generation: 7,
  resources: [
    {
      kind: "tenant",
      tenantId: "ten_a",
      slug: "acme",
      namespace: "aegis-acme",
      egressMode: "enforce",
      configVersion: 3,
    },
    {
      kind: "tenant",
      tenantId: "ten_b",
      slug: "globex",
      namespace: "aegis-globex",
      egressMode: "log-only",
      configVersion: 1,
    },
    {
      kind: "agent",
      tenantId: "ten_a",
      agentId: "agt_01hq3x",
      name: "Researcher",
      state: "running",
      modelTier: "sonnet",
      thinkingMode: "off",
      skills: [
        {
          skillId: "s1",
          name: "web-search",
          version: "1.2.0",
          sha256: null,
          allowedDomains: ["api.search.example", "*.cdn.example"],
        },
      ],
      allowedDomains: ["*.cdn.example", "api.search.example"],
      credentialVersion: 2,
    },
    {
      kind: "agent",
      tenantId: "ten_a",
      agentId: "agt_01paused",
      name: "Idle",
      state: "stopped",
      modelTier: "haiku",
      thinkingMode: "off",
      skills: [],
      allowedDomains: [],
      credentialVersion: 1,
    },
    {
      kind: "agent",
      tenantId: "ten_b",
      agentId: "agt_01new",
      name: "Fresh",
      state: "running",
      modelTier: "opus",
      thinkingMode: "high",
      skills: [],
      allowedDomains: [],
      credentialVersion: 0,
    },
  ],
};

const options = {
  platformUrl: "https://aegis.example.com",
  images: {
    agentRuntime: "ghcr.io/aegis/agent-runtime:0.1.0",
    egressProxy: "ghcr.io/aegis/egress-proxy:0.1.0",
  },
  proxyKey: "k".repeat(64),
  credentials: new Map([
    ["agt_01hq3x", { credential: "agk_secret_researcher", version: 2 }],
    ["agt_01paused", { credential: "agk_secret_idle", version: 1 }],
  ]),
  cilium: true,
};

const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  "v1/Namespace": Namespace as never,
  "v1/ConfigMap": ConfigMap as never,
  "v1/Secret": Secret as never,
  "v1/Service": Service as never,
  "apps/v1/Deployment": Deployment as never,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy as never,
  "cilium.io/v2/CiliumNetworkPolicy": CiliumNetworkPolicy as never,
};

const find = (objects: KubeObject[], kind: string, name: string, namespace?: string) =>
  objects.find(
    (o) => o.kind === kind && o.metadata.name === name && (!namespace || o.metadata.namespace === namespace),
  );

describe("kubernetes objects from the desired state", () => {
  const objects = clusterObjects(state, options);

  it("every object passes the official schema and carries the owner labels the driver prunes by", () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion}/${o.kind}`).toBeDefined();
      expect(
        () => new (Model as new (x: unknown) => { validate(): void })(o).validate(),
        `${o.kind} ${o.metadata.name}`,
      ).not.toThrow();
      expect(o.metadata.labels[LABEL_MANAGED]).toBe("aegis-controller");
      expect(o.metadata.labels[LABEL_CLUSTER]).toBe("cls_01abc");
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it("a schema violation is caught by the same check (the test can fail)", () => {
    const broken = structuredClone(
      find(objects, "NetworkPolicy", agentObjectName("agt_01hq3x")),
    ) as unknown as KubeObject & {
      spec: { egress: Array<{ ports: Array<{ port: unknown }> }> };
    };
    broken.spec.egress[0] = { ports: [{ port: { nested: true } }] };
    expect(() => new NetworkPolicy(broken as never).validate()).toThrow();
  });

  it("an agent's pod may reach only cluster DNS and its tenant's egress proxy, and nothing may reach it", () => {
    const np = find(
      objects,
      "NetworkPolicy",
      agentObjectName("agt_01hq3x"),
      "aegis-acme",
    ) as unknown as KubeObject & {
      spec: {
        policyTypes: string[];
        ingress: unknown[];
        egress: Array<{ to: unknown[]; ports: Array<{ port: number; protocol: string }> }>;
      };
    };
    expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.spec.ingress).toEqual([]);
    expect(np.spec.egress).toHaveLength(2);
    expect(np.spec.egress[0]?.ports.map((p) => `${p.protocol}/${p.port}`)).toEqual(["UDP/53", "TCP/53"]);
    expect(np.spec.egress[1]).toEqual({
      to: [{ podSelector: { matchLabels: { "app.kubernetes.io/component": "egress-proxy" } } }],
      ports: [{ protocol: "TCP", port: PROXY_PORT }],
    });
  });

  it("compiles each agent's allowed domains into its tenant's proxy policy, and only its tenant's", () => {
    const acme = JSON.parse(
      (
        find(objects, "ConfigMap", "aegis-egress-policy", "aegis-acme") as unknown as {
          data: Record<string, string>;
        }
      ).data["policy.json"] ?? "{}",
    );
    expect(acme).toEqual({
      mode: "enforce",
      platformHost: "aegis.example.com",
      agents: { agt_01hq3x: ["*.cdn.example", "api.search.example"], agt_01paused: [] },
    });
    const globex = JSON.parse(
      (
        find(objects, "ConfigMap", "aegis-egress-policy", "aegis-globex") as unknown as {
          data: Record<string, string>;
        }
      ).data["policy.json"] ?? "{}",
    );
    expect(globex.mode).toBe("log-only");
    expect(Object.keys(globex.agents)).toEqual(["agt_01new"]);
    const fqdn = find(objects, "CiliumNetworkPolicy", "aegis-egress-proxy-fqdn", "aegis-acme") as unknown as {
      spec: { egress: Array<{ toFQDNs?: unknown[] }> };
    };
    expect(fqdn.spec.egress[1]?.toFQDNs).toEqual([
      { matchPattern: "*.cdn.example" },
      { matchName: "aegis.example.com" },
      { matchName: "api.search.example" },
    ]);
  });

  it("scales stopped agents and agents without a credential yet to zero; the credential is in a Secret", () => {
    const replicas = (id: string, ns: string) =>
      (find(objects, "Deployment", agentObjectName(id), ns) as unknown as { spec: { replicas: number } }).spec
        .replicas;
    expect(replicas("agt_01hq3x", "aegis-acme")).toBe(1);
    expect(replicas("agt_01paused", "aegis-acme")).toBe(0);
    expect(replicas("agt_01new", "aegis-globex")).toBe(0);
    const secret = find(objects, "Secret", `${agentObjectName("agt_01hq3x")}-credential`) as unknown as {
      stringData: Record<string, string>;
    };
    expect(secret.stringData.credential).toBe("agk_secret_researcher");
    expect(secret.stringData["proxy-url"]).toMatch(
      /^http:\/\/agt_01hq3x:[0-9a-f]{40}@aegis-egress-proxy\.aegis-acme\.svc:3128$/,
    );
    // The credential reaches the pod only through secretKeyRef, never as a literal.
    expect(JSON.stringify(find(objects, "Deployment", agentObjectName("agt_01hq3x")))).not.toContain(
      "agk_secret",
    );
  });

  it("is deterministic, and leaves the Cilium policy out when the cluster has no Cilium", () => {
    expect(JSON.stringify(clusterObjects(state, options))).toBe(JSON.stringify(objects));
    const plain = clusterObjects(state, { ...options, cilium: false });
    expect(plain.some((o) => o.kind === "CiliumNetworkPolicy")).toBe(false);
    expect(plain.length).toBe(objects.length - 2);
  });
});
