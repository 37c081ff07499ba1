import { useEffect } from "preact/hooks";
import { PlanTable } from "../components/plan-table";
import { Card, ErrorBanner, Loading, PageHeader, StatCard } from "../components/ui";
import { count } from "../format";
import { adminStats, ensurePlans, plans } from "../models/tenants";
import { navigate } from "../router";

export function AdminDashboardPage() {
  useEffect(() => {
    void adminStats.load();
    ensurePlans();
  }, []);
  const s = adminStats.data.value;

  return (
    <>
      <PageHeader
        title="Overview"
        subtitle="Every tenant on the platform at a glance."
        actions={
          <button type="button" class="btn btn-primary" onClick={() => navigate("/admin/tenants/new")}>
            New tenant
          </button>
        }
      />
      <ErrorBanner error={adminStats.error.value} onRetry={() => void adminStats.load()} />
      {!s && adminStats.loading.value ? (
        <Loading />
      ) : (
        s && (
          <div class="stats">
            <StatCard label="Tenants" value={count(s.tenants)} testId="stat-tenants" />
            <StatCard label="Active tenants" value={count(s.activeTenants)} testId="stat-active-tenants" />
            <StatCard label="Agents" value={count(s.agents)} testId="stat-agents" />
            <StatCard
              label="Failed provisioning"
              value={
                <span class={s.provisioningFailed > 0 ? "text-danger" : undefined}>
                  {count(s.provisioningFailed)}
                </span>
              }
              hint={s.provisioningFailed > 0 ? "Open the tenant to retry" : "All clear"}
              testId="stat-provisioning-failed"
            />
          </div>
        )
      )}
      <Card title="Plans">
        <ErrorBanner error={plans.error.value} onRetry={() => void plans.load()} />
        {plans.data.value ? <PlanTable plans={plans.data.value} /> : plans.loading.value && <Loading />}
      </Card>
    </>
  );
}
