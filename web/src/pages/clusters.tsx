import { useEffect } from "preact/hooks";
import { ClusterList, EgressCard, RegisterCluster, useClusterRefresh } from "../components/clusters";
import { PageHeader } from "../components/ui";
import { loadAgentDirectory } from "../models/agents";
import {
  adminClusters,
  clusters,
  egressSettings,
  ensureOperatorAgentNames,
  forgetOperatorAgentNames,
} from "../models/clusters";
import { canWrite } from "../models/session";

/**
 * `/clusters`: where the workspace's agents run, their runtime status and blocked egress, and the egress
 * mode with the domains agents reached that their skills do not declare.
 */
export function ClustersPage() {
  useEffect(() => {
    void loadAgentDirectory();
  }, []);
  useClusterRefresh(() => Promise.all([clusters.load(), egressSettings.load()]));
  const writable = canWrite.value;
  return (
    <>
      <PageHeader
        title="Clusters"
        subtitle="Where your agents run. A cluster's controller connects out to Aegis, runs the agents it is given and reports their status and blocked egress. This page refreshes every 5 seconds."
      />
      {writable && <RegisterCluster operator={false} />}
      <ClusterList
        res={clusters}
        operator={false}
        emptyText={
          writable
            ? "Your agents are not assigned to a cluster. Register your own above to run them on your infrastructure."
            : "Your agents are not assigned to a cluster. An admin can register one."
        }
      />
      <EgressCard />
    </>
  );
}

/** `/admin/clusters`: every cluster, the tenants each one serves, and what its controller reports. */
export function AdminClustersPage() {
  useEffect(() => {
    forgetOperatorAgentNames();
  }, []);
  useClusterRefresh(() => adminClusters.load());
  const list = adminClusters.data.value?.data;
  useEffect(() => {
    if (!list) return;
    ensureOperatorAgentNames(
      list.flatMap((c) => [...c.tenants.map((t) => t.id), ...c.status.agents.map((a) => a.tenantId)]),
    );
  }, [list]);
  return (
    <>
      <PageHeader
        title="Clusters"
        subtitle="Platform clusters and tenants' own: what each controller applied, its agents' runtime status and blocked egress. This page refreshes every 5 seconds."
      />
      <RegisterCluster operator />
      <ClusterList
        res={adminClusters}
        operator
        emptyText="Register a cluster above, run its controller with the token, and assign tenants to it."
      />
    </>
  );
}
