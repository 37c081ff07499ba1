import { useEffect } from "preact/hooks";
import { AgentsTable } from "../components/agents-table";
import { QuotaBanner } from "../components/quota-banner";
import { Card, EmptyState, ErrorBanner, PageHeader, Pagination, StatCard } from "../components/ui";
import { count, money, planLabel } from "../format";
import { agentList, agentPage, loadAgents, tenantStats } from "../models/agents";
import { canWrite } from "../models/session";
import { navigate } from "../router";

export function AgentsPage() {
  useEffect(() => {
    void loadAgents();
    void tenantStats.load();
  }, []);

  const page = agentList.data.value;
  const stats = tenantStats.data.value;
  const newAgent = canWrite.value ? (
    <button type="button" class="btn btn-primary" onClick={() => navigate("/agents/new")}>
      New agent
    </button>
  ) : null;

  return (
    <>
      <PageHeader
        title="Agents"
        subtitle="Your team of AI agents, what they cost and how much they use."
        actions={newAgent}
      />
      <QuotaBanner />
      {stats && (
        <div class="stats">
          <StatCard
            label="Agents"
            value={count(stats.agents.total)}
            hint={`${count(stats.agents.active)} active · ${count(stats.agents.paused)} paused`}
            testId="stat-agents"
          />
          <StatCard
            label="Monthly total"
            value={money(stats.monthlyTotalUsd)}
            hint={`${planLabel(stats.planTier)} plan`}
            testId="stat-monthly-total"
          />
          <StatCard label="Skills installed" value={count(stats.skillsInstalled)} testId="stat-skills" />
          <StatCard label="Team members" value={count(stats.members)} testId="stat-members" />
        </div>
      )}
      <ErrorBanner error={tenantStats.error.value} />
      <ErrorBanner error={agentList.error.value} onRetry={() => void loadAgents()} />
      <Card class="card-flush">
        <AgentsTable
          agents={page?.data}
          loading={agentList.loading.value}
          linkAgents
          empty={
            <EmptyState title="No agents yet" action={newAgent}>
              {canWrite.value
                ? "Create your first agent: pick a model and a thinking mode, and see the price before you commit."
                : "An admin of your team can create agents."}
            </EmptyState>
          }
        />
      </Card>
      {page && (
        <Pagination
          page={page.meta.page}
          totalPages={page.meta.totalPages}
          total={page.meta.total}
          noun={page.meta.total === 1 ? "agent" : "agents"}
          onPage={(n) => {
            agentPage.value = n;
            void loadAgents();
          }}
        />
      )}
    </>
  );
}
