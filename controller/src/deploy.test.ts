// The controller's install manifests (controller/deploy, `kubectl apply -k`): each object passes the
// official schema, the kustomization lists files that exist, and the ClusterRole grants what the
// kubernetes driver does (apply, list, delete of every kind it owns) and nothing it does not need.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadAllYaml } from "@kubernetes/client-node";
import { Deployment } from "kubernetes-models/apps/v1";
import { ClusterRole, ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Namespace, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";

const dir = resolve(import.meta.dirname, "../deploy");
const models: Record<string, new (o: never) => { validate(): void }> = {
  Namespace: Namespace as never,
  ServiceAccount: ServiceAccount as never,
  ClusterRole: ClusterRole as never,
  ClusterRoleBinding: ClusterRoleBinding as never,
  Deployment: Deployment as never,
};

const kustomization = loadAllYaml(readFileSync(resolve(dir, "kustomization.yaml"), "utf8"))[0] as {
  resources: string[];
};
const objects = kustomization.resources.flatMap(
  (file) =>
    loadAllYaml(readFileSync(resolve(dir, file), "utf8")) as Array<{
      kind: string;
      metadata: { name: string };
    }>,
);

describe("controller install manifests", () => {
  it("every object passes its schema", () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ["ClusterRole", "ClusterRoleBinding", "Deployment", "Namespace", "ServiceAccount"].sort(),
    );
    for (const o of objects) {
      const Model = models[o.kind];
      expect(Model, o.kind).toBeDefined();
      expect(
        () => new (Model as new (x: unknown) => { validate(): void })(o).validate(),
        o.kind,
      ).not.toThrow();
    }
  });

  it("the ClusterRole grants apply, list and delete for every kind the driver owns, and read-only elsewhere", () => {
    const role = objects.find((o) => o.kind === "ClusterRole") as unknown as {
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    };
    const can = (group: string, resource: string, verb: string) =>
      role.rules.some(
        (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
      );
    const owned: Array<[string, string]> = [
      ["", "namespaces"],
      ["", "configmaps"],
      ["", "secrets"],
      ["", "services"],
      ["apps", "deployments"],
      ["networking.k8s.io", "networkpolicies"],
      ["cilium.io", "ciliumnetworkpolicies"],
    ];
    for (const [group, resource] of owned)
      for (const verb of ["patch", "list", "delete", "get"])
        expect(can(group, resource, verb), `${resource} ${verb}`).toBe(true);
    for (const verb of ["create", "patch", "delete"]) {
      expect(can("", "pods", verb)).toBe(false);
      expect(can("apiextensions.k8s.io", "customresourcedefinitions", verb)).toBe(false);
    }
    expect(role.rules.some((r) => r.verbs.includes("*") || r.resources.includes("*"))).toBe(false);
  });

  it("the controller runs unprivileged with its registration from a Secret", () => {
    const d = objects.find((o) => o.kind === "Deployment") as unknown as {
      spec: {
        template: {
          spec: { containers: Array<{ args: string[]; securityContext: Record<string, unknown> }> };
        };
      };
    };
    const c = d.spec.template.spec.containers[0];
    expect(c?.args).toEqual(["run", "--driver", "kubernetes", "--state-dir", "/var/lib/aegis"]);
    expect(c?.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
  });
});
