// The kubernetes driver: server-side apply (field manager `aegis-controller`, force) of the objects
// the desired state calls for (objects.ts), then pruning of what the controller applied before and is
// no longer desired, found by its owner labels. Objects the API server refuses (409/422/5xx) are
// reported with the server's message; the others are still applied, and the reconciler retries.
import {
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
// Not re-exported by the package's index; the generated serializer maps wire names to the client's.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import type { DesiredState } from "../../../worker/features/clusters/protocol";
import type { AgentRuntimeStatus, ApplyError, Driver, DriverContext } from "../driver";
import {
  agentObjectName,
  clusterObjects,
  FIELD_MANAGER,
  type KubeObject,
  LABEL_AGENT,
  LABEL_CLUSTER,
  LABEL_COMPONENT,
  LABEL_MANAGED,
} from "./objects";

export interface KubernetesDriverOptions {
  kubeConfig: KubeConfig;
  platformUrl: string;
  clusterId: string;
  images: { agentRuntime: string; egressProxy: string };
  proxyKey: string;
}

/** Kinds the controller owns, pruned in this order (namespaces last: they take the rest with them). */
const PRUNE_KINDS: Array<{ apiVersion: string; kind: string; namespaced: boolean }> = [
  { apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", namespaced: true },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", namespaced: true },
  { apiVersion: "apps/v1", kind: "Deployment", namespaced: true },
  { apiVersion: "v1", kind: "Service", namespaced: true },
  { apiVersion: "v1", kind: "Secret", namespaced: true },
  { apiVersion: "v1", kind: "ConfigMap", namespaced: true },
  { apiVersion: "v1", kind: "Namespace", namespaced: false },
];

const key = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }) =>
  `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;

/** The API server's answer, as one line: status code and its message. */
export function apiErrorMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let message = e.message ?? String(err);
  try {
    const body = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
    if (body && typeof body === "object" && "message" in body)
      message = String((body as { message: unknown }).message);
  } catch {
    // the body was not JSON
  }
  return `${e.code ?? "error"}: ${message}`.slice(0, 2000);
}

/** The client's model type of each built-in kind the driver applies. */
const MODEL_TYPES: Record<string, string> = {
  "v1/Namespace": "V1Namespace",
  "v1/ConfigMap": "V1ConfigMap",
  "v1/Secret": "V1Secret",
  "v1/Service": "V1Service",
  "apps/v1/Deployment": "V1Deployment",
  "networking.k8s.io/v1/NetworkPolicy": "V1NetworkPolicy",
};

/**
 * The client serializes built-in kinds from its own model property names and silently drops any it
 * does not know: a NetworkPolicy rule's wire `from` is `_from` to it. So each object is first read into
 * the client's model (wire names → its names), which it then writes back out unchanged.
 */
export function toClientModel(object: KubeObject): KubernetesObject {
  const type = MODEL_TYPES[`${object.apiVersion}/${object.kind}`];
  return type
    ? (ObjectSerializer.deserialize(object, type, "") as KubernetesObject)
    : (object as KubernetesObject);
}

export class KubernetesDriver implements Driver {
  readonly name = "kubernetes";
  private readonly api: KubernetesObjectApi;
  private cilium: boolean | null = null;
  private lastAgents = new Map<string, { namespace: string; running: boolean }>();
  private readonly core: CoreV1Api;
  private onEgress: DriverContext["onEgress"] = () => {};
  private namespaces: string[] = [];
  /** Egress report lines already forwarded, with when they were seen (the log window overlaps). */
  private readonly seenEgress = new Map<string, number>();

  constructor(private readonly options: KubernetesDriverOptions) {
    this.api = KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  /**
   * The tenants' egress proxies write each block as a JSON line on stdout; nothing in the cluster can
   * call the controller, so it reads the proxies' recent logs and forwards each line once.
   */
  private async collectEgress(): Promise<void> {
    const now = Date.now();
    for (const [line, at] of this.seenEgress) if (now - at > 5 * 60_000) this.seenEgress.delete(line);
    for (const namespace of this.namespaces) {
      let pods: KubernetesObject[] = [];
      try {
        pods = (
          await this.api.list(
            "v1",
            "Pod",
            namespace,
            undefined,
            undefined,
            undefined,
            undefined,
            `${LABEL_COMPONENT}=egress-proxy`,
          )
        ).items;
      } catch {
        continue;
      }
      for (const pod of pods) {
        let text = "";
        try {
          text = await this.core.readNamespacedPodLog({
            name: pod.metadata?.name ?? "",
            namespace,
            sinceSeconds: 120,
          });
        } catch {
          continue;
        }
        for (const line of String(text).split("\n")) {
          if (!line.includes('"event":"egress"') || this.seenEgress.has(line)) continue;
          this.seenEgress.set(line, now);
          try {
            const e = JSON.parse(line) as {
              agentId?: string;
              domain?: string;
              at?: string;
              wouldBlock?: boolean;
              reason?: string;
            };
            if (e.agentId && e.domain && e.at)
              this.onEgress({
                agentId: e.agentId,
                domain: e.domain,
                at: e.at,
                wouldBlock: e.wouldBlock === true,
                reason: (e.reason ?? "not_declared") as never,
              });
          } catch {
            // not one of the proxy's lines
          }
        }
      }
    }
  }

  private async hasCilium(): Promise<boolean> {
    if (this.cilium !== null) return this.cilium;
    try {
      await this.api.read({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "ciliumnetworkpolicies.cilium.io" },
      });
      this.cilium = true;
    } catch {
      this.cilium = false;
    }
    return this.cilium;
  }

  /** The credential the agent's Secret holds, when it is at the desired version. */
  private async storedCredential(namespace: string, agentId: string, version: number) {
    try {
      const secret = (await this.api.read({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `${agentObjectName(agentId)}-credential`, namespace },
      })) as KubernetesObject & { data?: Record<string, string> };
      const held = Number(secret.metadata?.annotations?.["aegis.dev/credential-version"] ?? 0);
      const credential = Buffer.from(secret.data?.credential ?? "", "base64").toString("utf8");
      if (version > 0 && held >= version && credential) return { credential, version: held };
    } catch {
      // no Secret yet
    }
    return null;
  }

  async apply(state: DesiredState, ctx: DriverContext): Promise<{ errors: ApplyError[] }> {
    const errors: ApplyError[] = [];
    this.onEgress = ctx.onEgress;
    const credentials = new Map<string, { credential: string; version: number }>();
    const namespaces = new Map(
      state.resources.flatMap((r) => (r.kind === "tenant" ? [[r.tenantId, r.namespace] as const] : [])),
    );
    for (const r of state.resources) {
      if (r.kind !== "agent" || r.state !== "running") continue;
      const namespace = namespaces.get(r.tenantId);
      if (!namespace) continue;
      try {
        credentials.set(
          r.agentId,
          (await this.storedCredential(namespace, r.agentId, r.credentialVersion)) ??
            (await ctx.credentialFor(r.agentId, r.credentialVersion)),
        );
      } catch (err) {
        errors.push({ resource: `agent ${r.agentId}`, message: String(err) });
      }
    }
    const objects = clusterObjects(state, {
      platformUrl: this.options.platformUrl,
      images: this.options.images,
      proxyKey: this.options.proxyKey,
      credentials,
      cilium: await this.hasCilium(),
    });
    const failedNamespaces = new Set<string>();
    for (const object of objects) {
      if (object.metadata.namespace && failedNamespaces.has(object.metadata.namespace)) continue;
      try {
        await this.api.patch(
          toClientModel(object),
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        );
      } catch (err) {
        errors.push({ resource: key(object), message: apiErrorMessage(err) });
        if (object.kind === "Namespace") failedNamespaces.add(object.metadata.name);
      }
    }
    errors.push(...(await this.prune(objects)));
    this.namespaces = [...namespaces.values()];
    this.lastAgents = new Map(
      state.resources.flatMap((r) =>
        r.kind === "agent" && namespaces.has(r.tenantId)
          ? [
              [
                r.agentId,
                { namespace: namespaces.get(r.tenantId) ?? "", running: r.state === "running" },
              ] as const,
            ]
          : [],
      ),
    );
    return { errors };
  }

  /** Deletes what carries this cluster's owner labels and is not in `desired`. */
  private async prune(desired: KubeObject[]): Promise<ApplyError[]> {
    const wanted = new Set(desired.map(key));
    const selector = `${LABEL_MANAGED}=${FIELD_MANAGER},${LABEL_CLUSTER}=${this.options.clusterId.toLowerCase()}`;
    const errors: ApplyError[] = [];
    for (const { apiVersion, kind } of PRUNE_KINDS) {
      if (kind === "CiliumNetworkPolicy" && !(await this.hasCilium())) continue;
      let items: KubernetesObject[];
      try {
        items = (
          await this.api.list(
            apiVersion,
            kind,
            undefined,
            undefined,
            undefined,
            undefined,
            undefined,
            selector,
          )
        ).items;
      } catch (err) {
        errors.push({ resource: `${kind} (list)`, message: apiErrorMessage(err) });
        continue;
      }
      for (const item of items) {
        const withKind = { ...item, apiVersion, kind };
        if (wanted.has(key(withKind))) continue;
        try {
          await this.api.delete(withKind, undefined, undefined, undefined, undefined, "Foreground");
        } catch (err) {
          if ((err as { code?: number }).code !== 404)
            errors.push({ resource: key(withKind), message: apiErrorMessage(err) });
        }
      }
    }
    return errors;
  }

  async status(): Promise<AgentRuntimeStatus[]> {
    await this.collectEgress();
    const out: AgentRuntimeStatus[] = [];
    for (const [agentId, { namespace, running }] of this.lastAgents) {
      if (!running) continue;
      let status: AgentRuntimeStatus["status"] = "pending";
      let restarts = 0;
      let lastError: string | null = null;
      try {
        const pods = await this.api.list(
          "v1",
          "Pod",
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          `${LABEL_AGENT}=${agentId.toLowerCase()},${LABEL_COMPONENT}=agent`,
        );
        for (const pod of pods.items as Array<
          KubernetesObject & {
            status?: {
              containerStatuses?: Array<{
                ready?: boolean;
                restartCount?: number;
                state?: { waiting?: { reason?: string; message?: string } };
                lastState?: { terminated?: { reason?: string; exitCode?: number } };
              }>;
            };
          }
        >) {
          for (const c of pod.status?.containerStatuses ?? []) {
            restarts += c.restartCount ?? 0;
            if (c.ready) status = "running";
            if (c.state?.waiting?.reason === "CrashLoopBackOff") status = "crashloop";
            const t = c.lastState?.terminated;
            if (t) lastError = `${t.reason ?? "terminated"} (exit ${t.exitCode ?? "?"})`;
          }
        }
      } catch (err) {
        lastError = apiErrorMessage(err);
      }
      out.push({ agentId, status, restarts, lastError });
    }
    return out;
  }

  async close(): Promise<void> {}
}
