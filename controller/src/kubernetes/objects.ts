// Desired state → the Kubernetes objects the `kubernetes` driver applies (server-side apply, field
// manager `aegis-controller`). Pure: no client, no cluster; every object carries the owner labels the
// driver prunes by, and the tests validate each against the official schemas (kubernetes-models).
//
// Per tenant: a Namespace; the egress proxy (a ConfigMap with the per-agent domain allowlist compiled
// from the agents' installed skills, a Secret with the proxy key, a Deployment and a Service), and
// NetworkPolicies: each agent pod may reach only cluster DNS and the proxy; the proxy may reach DNS and
// public addresses on 80/443. With Cilium, a CiliumNetworkPolicy limits the proxy to the FQDNs its
// agents declare (defence in depth). Per agent: a ConfigMap (what it runs), a Secret (its runtime
// credential and proxy URL), a Deployment of the agent runtime image, and its NetworkPolicy.
import { createHmac } from "node:crypto";
import type { DesiredAgent, DesiredState, DesiredTenant } from "../../../worker/features/clusters/protocol";
// The proxy checks exactly this credential: one function derives it for both.
import { proxySecret } from "../egress/proxy";

export const FIELD_MANAGER = "aegis-controller";
export const LABEL_MANAGED = "app.kubernetes.io/managed-by";
export const LABEL_CLUSTER = "aegis.dev/cluster";
export const LABEL_TENANT = "aegis.dev/tenant";
export const LABEL_AGENT = "aegis.dev/agent";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const PROXY_PORT = 3128;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface ObjectOptions {
  /** The platform origin the runtimes connect to (reached through the egress proxy). */
  platformUrl: string;
  images: { agentRuntime: string; egressProxy: string };
  /** The key the tenant's proxy derives each agent's proxy credential from. */
  proxyKey: string;
  /** Each running agent's runtime credential (the driver gets them from the platform). */
  credentials: ReadonlyMap<string, { credential: string; version: number }>;
  /** Add CiliumNetworkPolicies (when the cluster has the CRD). */
  cilium: boolean;
}

/** Kubernetes names: lowercase RFC 1123 labels; agent ids are lowercase base32 with an underscore. */
export const agentObjectName = (agentId: string) => `agent-${agentId.replaceAll("_", "-").toLowerCase()}`;

function owner(
  clusterId: string,
  tenantId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    [LABEL_MANAGED]: FIELD_MANAGER,
    [LABEL_CLUSTER]: clusterId.toLowerCase(),
    [LABEL_TENANT]: tenantId.toLowerCase(),
    ...extra,
  };
}

const PRIVATE_RANGES = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16",
  "100.64.0.0/10",
  "127.0.0.0/8",
];

const securityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 10001,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

function tenantObjects(
  state: DesiredState,
  t: DesiredTenant,
  agents: DesiredAgent[],
  o: ObjectOptions,
): KubeObject[] {
  const ns = t.namespace;
  const labels = owner(state.clusterId, t.tenantId);
  const proxyLabels = owner(state.clusterId, t.tenantId, { [LABEL_COMPONENT]: "egress-proxy" });
  const platformHost = new URL(o.platformUrl).hostname;
  const policy = {
    mode: t.egressMode,
    platformHost,
    agents: Object.fromEntries(agents.map((a) => [a.agentId, a.allowedDomains])),
  };
  const out: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "aegis-egress-policy", namespace: ns, labels: proxyLabels },
      data: { "policy.json": JSON.stringify(policy) },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "aegis-egress-key", namespace: ns, labels: proxyLabels },
      type: "Opaque",
      stringData: { key: o.proxyKey },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "aegis-egress-proxy", namespace: ns, labels: proxyLabels },
      spec: {
        replicas: 1,
        selector: {
          matchLabels: { [LABEL_COMPONENT]: "egress-proxy", [LABEL_TENANT]: t.tenantId.toLowerCase() },
        },
        template: {
          metadata: {
            labels: proxyLabels,
            // A new policy rolls the proxy (its ConfigMap is read at start).
            annotations: { "aegis.dev/policy-sha": sha(JSON.stringify(policy)) },
          },
          spec: {
            automountServiceAccountToken: false,
            containers: [
              {
                name: "proxy",
                image: o.images.egressProxy,
                args: ["--policy", "/etc/aegis/policy.json", "--port", String(PROXY_PORT)],
                env: [
                  {
                    name: "AEGIS_EGRESS_KEY",
                    valueFrom: { secretKeyRef: { name: "aegis-egress-key", key: "key" } },
                  },
                ],
                ports: [{ name: "proxy", containerPort: PROXY_PORT, protocol: "TCP" }],
                volumeMounts: [{ name: "policy", mountPath: "/etc/aegis", readOnly: true }],
                resources: {
                  requests: { cpu: "50m", memory: "64Mi" },
                  limits: { cpu: "500m", memory: "128Mi" },
                },
                securityContext,
              },
            ],
            volumes: [{ name: "policy", configMap: { name: "aegis-egress-policy" } }],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "aegis-egress-proxy", namespace: ns, labels: proxyLabels },
      spec: {
        selector: { [LABEL_COMPONENT]: "egress-proxy", [LABEL_TENANT]: t.tenantId.toLowerCase() },
        ports: [{ name: "proxy", port: PROXY_PORT, targetPort: PROXY_PORT, protocol: "TCP" }],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "aegis-egress-proxy", namespace: ns, labels: proxyLabels },
      spec: {
        podSelector: { matchLabels: { [LABEL_COMPONENT]: "egress-proxy" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { [LABEL_COMPONENT]: "agent" } } }],
            ports: [{ protocol: "TCP", port: PROXY_PORT }],
          },
        ],
        egress: [
          dnsRule(),
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: PRIVATE_RANGES } }],
            ports: [
              { protocol: "TCP", port: 443 },
              { protocol: "TCP", port: 80 },
            ],
          },
        ],
      },
    },
  ];
  if (o.cilium) {
    const domains = [...new Set([platformHost, ...agents.flatMap((a) => a.allowedDomains)])].sort();
    out.push({
      apiVersion: "cilium.io/v2",
      kind: "CiliumNetworkPolicy",
      metadata: { name: "aegis-egress-proxy-fqdn", namespace: ns, labels: proxyLabels },
      spec: {
        endpointSelector: { matchLabels: { [LABEL_COMPONENT]: "egress-proxy" } },
        egress: [
          {
            toEndpoints: [
              {
                matchLabels: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns" },
              },
            ],
            toPorts: [{ ports: [{ port: "53", protocol: "ANY" }], rules: { dns: [{ matchPattern: "*" }] } }],
          },
          {
            toFQDNs: domains.map((d) => (d.startsWith("*.") ? { matchPattern: d } : { matchName: d })),
            toPorts: [
              {
                ports: [
                  { port: "443", protocol: "TCP" },
                  { port: "80", protocol: "TCP" },
                ],
              },
            ],
          },
        ],
      },
    });
  }
  return out;
}

function dnsRule() {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      },
    ],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
}

function agentObjects(
  state: DesiredState,
  t: DesiredTenant,
  a: DesiredAgent,
  o: ObjectOptions,
): KubeObject[] {
  const ns = t.namespace;
  const name = agentObjectName(a.agentId);
  const labels = owner(state.clusterId, t.tenantId, {
    [LABEL_AGENT]: a.agentId.toLowerCase(),
    [LABEL_COMPONENT]: "agent",
  });
  const credential = o.credentials.get(a.agentId);
  const proxyUrl = `http://${encodeURIComponent(a.agentId)}:${proxySecret(o.proxyKey, a.agentId)}@aegis-egress-proxy.${ns}.svc:${PROXY_PORT}`;
  const running = a.state === "running" && credential !== undefined;
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: ns, labels },
      data: {
        "agent.json": JSON.stringify({
          agentId: a.agentId,
          name: a.name,
          modelTier: a.modelTier,
          thinkingMode: a.thinkingMode,
          skills: a.skills.map(({ name: skill, version, sha256 }) => ({ name: skill, version, sha256 })),
        }),
      },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: `${name}-credential`,
        namespace: ns,
        labels,
        annotations: { "aegis.dev/credential-version": String(credential?.version ?? 0) },
      },
      type: "Opaque",
      stringData: { credential: credential?.credential ?? "", "proxy-url": proxyUrl },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: ns, labels },
      spec: {
        // Stopped (paused) agents, and agents whose credential is not here yet, are scaled to zero.
        replicas: running ? 1 : 0,
        selector: { matchLabels: { [LABEL_AGENT]: a.agentId.toLowerCase() } },
        strategy: { type: "Recreate" },
        template: {
          metadata: {
            labels,
            annotations: {
              "aegis.dev/credential-version": String(credential?.version ?? 0),
              "aegis.dev/config-version": String(t.configVersion),
            },
          },
          spec: {
            automountServiceAccountToken: false,
            containers: [
              {
                name: "runtime",
                image: o.images.agentRuntime,
                env: [
                  { name: "AEGIS_URL", value: o.platformUrl },
                  { name: "AEGIS_AGENT_ID", value: a.agentId },
                  { name: "AEGIS_MODEL_TIER", value: a.modelTier },
                  {
                    name: "AEGIS_AGENT_CREDENTIAL",
                    valueFrom: { secretKeyRef: { name: `${name}-credential`, key: "credential" } },
                  },
                  {
                    name: "HTTPS_PROXY",
                    valueFrom: { secretKeyRef: { name: `${name}-credential`, key: "proxy-url" } },
                  },
                  {
                    name: "HTTP_PROXY",
                    valueFrom: { secretKeyRef: { name: `${name}-credential`, key: "proxy-url" } },
                  },
                ],
                volumeMounts: [
                  { name: "agent", mountPath: "/etc/aegis", readOnly: true },
                  { name: "workspace", mountPath: "/workspace" },
                ],
                resources: {
                  requests: { cpu: "100m", memory: "128Mi" },
                  limits: { cpu: "1", memory: "512Mi" },
                },
                securityContext,
              },
            ],
            volumes: [
              { name: "agent", configMap: { name } },
              { name: "workspace", emptyDir: { sizeLimit: "1Gi" } },
            ],
          },
        },
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name, namespace: ns, labels },
      spec: {
        // Default deny: nothing in, and out only to cluster DNS and the tenant's egress proxy.
        podSelector: { matchLabels: { [LABEL_AGENT]: a.agentId.toLowerCase() } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: [
          dnsRule(),
          {
            to: [{ podSelector: { matchLabels: { [LABEL_COMPONENT]: "egress-proxy" } } }],
            ports: [{ protocol: "TCP", port: PROXY_PORT }],
          },
        ],
      },
    },
  ];
}

/** Every object the desired state calls for, namespaces first. */
export function clusterObjects(state: DesiredState, o: ObjectOptions): KubeObject[] {
  const tenants = state.resources.filter((r): r is DesiredTenant => r.kind === "tenant");
  const agents = state.resources.filter((r): r is DesiredAgent => r.kind === "agent");
  const out: KubeObject[] = [];
  for (const t of tenants) {
    const mine = agents.filter((a) => a.tenantId === t.tenantId);
    out.push(...tenantObjects(state, t, mine, o));
    for (const a of mine) out.push(...agentObjects(state, t, a, o));
  }
  return out;
}

function sha(text: string): string {
  return createHmac("sha256", "aegis").update(text).digest("hex").slice(0, 16);
}
