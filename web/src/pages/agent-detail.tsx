import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ApiError, errorMessage } from "../api";
import { ConnectionBadge, EgressTable, useClusterRefresh } from "../components/clusters";
import { ConfirmDialog } from "../components/dialog";
import { IconLock } from "../components/icons";
import { QuotaBar } from "../components/quota-bar";
import { VisibilityBadge } from "../components/skill-badge";
import {
  Badge,
  Banner,
  BusyButton,
  Card,
  DefinitionList,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
  SkeletonRows,
  StatusBadge,
  TableMessage,
} from "../components/ui";
import {
  agentCostLabel,
  count,
  date,
  dateTime,
  humanize,
  MODEL_LABELS,
  relative,
  THINKING_LABELS,
} from "../format";
import { type AgentAction, agentAction, agentDetail, deleteAgent, loadAgents } from "../models/agents";
import { clusterOfAgent, clusters } from "../models/clusters";
import { canWrite } from "../models/session";
import { catalogue, installedSkills, installSkill, uninstallSkill } from "../models/skills";
import { Link, navigate } from "../router";
import type { Agent, Skill } from "../types";

const QUOTA_MESSAGES: Partial<Record<Agent["quotaState"], string>> = {
  warning: "This agent has used over 80% of its monthly token quota.",
  grace: "This agent is over its monthly quota. It keeps working for now.",
  rate_limited: "This agent is well over quota: its model calls are rate limited.",
  paused:
    "This agent is paused for exceeding its quota. A tenant admin must acknowledge it or raise the quota.",
};

export function AgentDetailPage({ id }: { id: string }) {
  useEffect(() => {
    installedSkills.reset();
    void agentDetail.load(id);
    void installedSkills.load(id);
    void catalogue.load();
  }, [id]);

  const raw = agentDetail.data.value;
  const agent = raw && raw.id === id ? raw : undefined;

  if (!agent) {
    return (
      <>
        <PageHeader title="Agent" />
        <ErrorBanner error={agentDetail.error.value} onRetry={() => void agentDetail.load(id)} />
        {agentDetail.loading.value && <Loading />}
        {agentDetail.error.value instanceof ApiError && agentDetail.error.value.status === 404 && (
          <Link href="/agents">Back to agents</Link>
        )}
      </>
    );
  }

  const quotaMessage = QUOTA_MESSAGES[agent.quotaState];

  return (
    <>
      <div class="breadcrumbs">
        <Link href="/agents">Agents</Link> <span aria-hidden="true">/</span> <span>{agent.name}</span>
      </div>
      <PageHeader
        title={
          <span class="title-with-badge">
            <span data-testid="agent-title">{agent.name}</span>
            <StatusBadge status={agent.status} testId="agent-status" />
          </span>
        }
        subtitle={agent.role || "No role set"}
        actions={canWrite.value ? <AgentActions agent={agent} /> : undefined}
      />
      {quotaMessage && (
        <Banner tone={agent.quotaState === "warning" || agent.quotaState === "grace" ? "warning" : "danger"}>
          {quotaMessage}
        </Banner>
      )}
      <div class="grid-3">
        <Card title="Configuration">
          <DefinitionList
            items={[
              ["Model", MODEL_LABELS[agent.modelTier] ?? agent.modelTier],
              ["Thinking mode", THINKING_LABELS[agent.thinkingMode] ?? agent.thinkingMode],
              [
                "Monthly cost",
                <span data-testid="agent-cost">{agentCostLabel(agent.included, agent.costPerMonth)}</span>,
              ],
              [
                "Credential",
                agent.credentialPrefix ? <code class="mono">{agent.credentialPrefix}…</code> : "—",
              ],
              ["Created", date(agent.createdAt)],
            ]}
          />
        </Card>
        <Card title="Runtime">
          <DefinitionList
            items={[
              ["Status", <StatusBadge status={agent.runtime.status} testId="agent-runtime-status" />],
              ["Restarts", count(agent.runtime.restarts)],
              [
                "Connected",
                agent.runtime.connectedAt ? relative(agent.runtime.connectedAt) : "Not connected",
              ],
            ]}
          />
          {agent.runtime.lastError && (
            <div class="runtime-error">
              <span class="field-label">Last error</span>
              <pre class="pre">{agent.runtime.lastError}</pre>
            </div>
          )}
        </Card>
        <Card title="Token quota" data-testid="agent-quota">
          <QuotaBar used={agent.monthlyTokensUsed} quota={agent.quota} state={agent.quotaState} />
          <DefinitionList
            items={[
              ["State", <StatusBadge status={agent.quotaState} testId="agent-quota-state" />],
              ["Used this month", `${count(agent.monthlyTokensUsed)} tokens`],
              [
                "Monthly quota",
                `${count(agent.quota)} tokens${agent.monthlyTokenQuotaOverride !== null ? " (override)" : ""}`,
              ],
              ["Resets", dateTime(agent.tokenQuotaResetAt)],
            ]}
          />
        </Card>
      </div>
      <ClusterRuntime agentId={agent.id} />
      <SkillsSection agentId={agent.id} />
    </>
  );
}

/** What the controller of the agent's cluster reports about it, and the egress it blocked. */
function ClusterRuntime({ agentId }: { agentId: string }) {
  useClusterRefresh(() => clusters.load());
  const list = clusters.data.value?.data;
  const found = list ? clusterOfAgent(list, agentId) : null;
  const egress = (list ?? [])
    .flatMap((c) => c.status.egress.filter((e) => e.agentId === agentId))
    .sort((a, b) => b.at.localeCompare(a.at));
  const connected = found?.cluster.status.connected ?? false;
  return (
    <Card
      title="Cluster runtime"
      data-testid="agent-cluster-runtime"
      actions={found ? <ConnectionBadge cluster={found.cluster} /> : undefined}
    >
      <ErrorBanner error={clusters.error.value} onRetry={() => void clusters.load()} />
      {!list && clusters.loading.value && <Loading label="Loading cluster status…" />}
      {list && !connected && (
        <EmptyState title="Not running on a connected cluster">
          {found
            ? `${found.cluster.name} last reported this agent ${relative(found.agent.at)}, but its controller is not connected. The status below is the last one it sent.`
            : "No cluster has reported this agent yet. It shows here once a cluster's controller runs it."}
        </EmptyState>
      )}
      {found && (
        <>
          <DefinitionList
            items={[
              [
                "Cluster",
                <Link href="/clusters" data-testid="agent-cluster-name">
                  {found.cluster.name}
                </Link>,
              ],
              ["Status", <StatusBadge status={found.agent.status} testId="agent-cluster-status" />],
              ["Restarts", count(found.agent.restarts)],
              ["Reported", <span title={dateTime(found.agent.at)}>{relative(found.agent.at)}</span>],
            ]}
          />
          {found.agent.lastError && (
            <div class="runtime-error">
              <span class="field-label">Last error</span>
              <pre class="pre" data-testid="agent-cluster-error">
                {found.agent.lastError}
              </pre>
            </div>
          )}
        </>
      )}
      {list && (found || egress.length > 0) && (
        <div class="cluster-section">
          <h3 class="cluster-section-title">Blocked egress</h3>
          <EgressTable
            egress={egress}
            empty="Nothing blocked: every request went to a domain on the allowlist."
          />
        </div>
      )}
    </Card>
  );
}

const ACTION_LABELS: Record<AgentAction, { label: string; busy: string }> = {
  pause: { label: "Pause", busy: "Pausing…" },
  resume: { label: "Resume", busy: "Resuming…" },
  restart: { label: "Restart", busy: "Restarting…" },
};

function AgentActions({ agent }: { agent: Agent }) {
  const running = useSignal<AgentAction | null>(null);
  const error = useSignal<string | null>(null);
  const confirmDelete = useSignal(false);
  const deleting = useSignal(false);
  const deleteError = useSignal<string | null>(null);

  async function run(action: AgentAction) {
    running.value = action;
    error.value = null;
    try {
      await agentAction(agent.id, action);
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      running.value = null;
    }
  }

  async function remove() {
    deleting.value = true;
    deleteError.value = null;
    try {
      await deleteAgent(agent.id);
      confirmDelete.value = false;
      void loadAgents();
      navigate("/agents", { replace: true });
    } catch (e) {
      deleteError.value = errorMessage(e);
      deleting.value = false;
    }
  }

  const toggle: AgentAction = agent.status === "active" ? "pause" : "resume";
  const busy = running.value !== null;

  return (
    <div class="action-group">
      {(["restart", toggle] as const).map((a) => (
        <BusyButton
          key={a}
          class="btn"
          busy={running.value === a}
          busyLabel={ACTION_LABELS[a].busy}
          disabled={busy}
          onClick={() => void run(a)}
        >
          {ACTION_LABELS[a].label}
        </BusyButton>
      ))}
      <button
        type="button"
        class="btn btn-danger-outline"
        disabled={busy}
        onClick={() => {
          deleteError.value = null;
          confirmDelete.value = true;
        }}
      >
        Delete
      </button>
      {error.value && (
        <p class="field-error action-error" role="alert">
          {error.value}
        </p>
      )}
      <ConfirmDialog
        open={confirmDelete.value}
        title={`Delete ${agent.name}?`}
        confirmLabel="Delete agent"
        busyLabel="Deleting…"
        danger
        busy={deleting.value}
        error={deleteError.value}
        onConfirm={() => void remove()}
        onCancel={() => {
          confirmDelete.value = false;
        }}
        testId="delete-agent-dialog"
      >
        <p>The agent is stopped and deleted, and its credential stops working. This cannot be undone.</p>
      </ConfirmDialog>
    </div>
  );
}

function SkillsSection({ agentId }: { agentId: string }) {
  const uninstalling = useSignal<string | null>(null);
  const actionError = useSignal<string | null>(null);
  const toInstall = useSignal<Skill | null>(null);
  const installing = useSignal(false);
  const installError = useSignal<string | null>(null);

  const installedList = installedSkills.data.value?.data.filter((s) => s.agentId === agentId);
  const skills = catalogue.data.value?.data;
  const byId = new Map((skills ?? []).map((s) => [s.id, s]));
  const installedIds = new Set((installedList ?? []).map((s) => s.skillId));
  const available = installedList && skills ? skills.filter((s) => !installedIds.has(s.id)) : undefined;
  const writable = canWrite.value;
  const cols = writable ? 5 : 4;

  async function uninstall(skillId: string) {
    uninstalling.value = skillId;
    actionError.value = null;
    try {
      await uninstallSkill(agentId, skillId);
    } catch (e) {
      actionError.value = errorMessage(e);
    } finally {
      uninstalling.value = null;
    }
  }

  async function install() {
    const skill = toInstall.value;
    if (!skill) return;
    installing.value = true;
    installError.value = null;
    try {
      await installSkill(agentId, skill.id);
      toInstall.value = null;
    } catch (e) {
      installError.value = errorMessage(e);
    } finally {
      installing.value = false;
    }
  }

  return (
    <>
      <Card title="Installed skills" class="card-flush">
        <ErrorBanner error={installedSkills.error.value} onRetry={() => void installedSkills.load(agentId)} />
        <ErrorBanner error={actionError.value} />
        <div class="table-wrap">
          <table class="table" data-testid="installed-skills">
            <thead>
              <tr>
                <th scope="col">Skill</th>
                <th scope="col">Version</th>
                <th scope="col">Type</th>
                <th scope="col">Installed</th>
                {writable && (
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {!installedList && installedSkills.loading.value && <SkeletonRows cols={cols} rows={3} />}
              {installedList && installedList.length === 0 && (
                <TableMessage cols={cols}>
                  <EmptyState title="No skills installed">Install a skill from the list below.</EmptyState>
                </TableMessage>
              )}
              {installedList?.map((s) => {
                const lock = (
                  <span class="lock-note">
                    <IconLock />
                    Core skills cannot be removed
                  </span>
                );
                return (
                  <tr key={s.skillId} data-testid={`installed-skill-${s.name}`}>
                    <td>
                      <div class="link-strong">
                        {s.displayName ?? byId.get(s.skillId)?.displayName ?? s.name}
                      </div>
                      <code class="mono muted small">{s.name}</code>
                    </td>
                    <td>
                      <code class="mono">{s.version}</code>
                    </td>
                    <td>{s.isCore ? <Badge tone="brand">Core</Badge> : <Badge>Add-on</Badge>}</td>
                    <td class="muted">{date(s.installedAt)}</td>
                    {writable && (
                      <td class="cell-actions">
                        {s.isCore ? (
                          lock
                        ) : (
                          <BusyButton
                            class="btn btn-sm"
                            busy={uninstalling.value === s.skillId}
                            busyLabel="Uninstalling…"
                            disabled={uninstalling.value !== null}
                            onClick={() => void uninstall(s.skillId)}
                            aria-label={`Uninstall ${s.displayName ?? s.name}`}
                          >
                            Uninstall
                          </BusyButton>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {!writable && installedList?.some((s) => s.isCore) && (
          <p class="muted small table-foot lock-note">
            <IconLock />
            Core skills cannot be removed
          </p>
        )}
      </Card>

      <Card title="Available skills">
        <ErrorBanner error={catalogue.error.value} onRetry={() => void catalogue.load()} />
        {!available && (catalogue.loading.value || installedSkills.loading.value) && (
          <Loading label="Loading skills…" />
        )}
        {available && available.length === 0 && (
          <EmptyState
            title={skills?.length ? "Every available skill is installed" : "No skills in the catalogue"}
          />
        )}
        {available && available.length > 0 && (
          <ul class="skill-list" data-testid="available-skills">
            {available.map((s) => (
              <li key={s.id} class="skill-item" data-testid={`available-skill-${s.name}`}>
                <div class="skill-item-main">
                  <div class="skill-item-head">
                    <span class="link-strong">{s.displayName}</span>
                    <VisibilityBadge skill={s} />
                    <span class="muted small">{humanize(s.category)}</span>
                    {s.latestVersion && <code class="mono muted small">v{s.latestVersion}</code>}
                  </div>
                  <p class="muted small">{s.description}</p>
                  <p class="small muted">
                    {s.permissions.length
                      ? `Needs ${s.permissions.length} permission${s.permissions.length === 1 ? "" : "s"}`
                      : "Needs no special permissions"}
                  </p>
                </div>
                {writable && (
                  <button
                    type="button"
                    class="btn btn-sm"
                    onClick={() => {
                      installError.value = null;
                      toInstall.value = s;
                    }}
                    aria-label={`Install ${s.displayName}`}
                  >
                    Install
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>

      <ConfirmDialog
        open={toInstall.value !== null}
        title={`Install ${toInstall.value?.displayName ?? "skill"}?`}
        confirmLabel="Install skill"
        busyLabel="Installing…"
        busy={installing.value}
        error={installError.value}
        onConfirm={() => void install()}
        onCancel={() => {
          toInstall.value = null;
        }}
        testId="install-skill-dialog"
      >
        {toInstall.value && (
          <>
            <p>{toInstall.value.description}</p>
            <p class="field-label">Once installed, this skill can:</p>
            {toInstall.value.permissions.length ? (
              <ul class="permission-list" data-testid="install-permissions">
                {toInstall.value.permissions.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            ) : (
              <p class="muted" data-testid="install-permissions">
                Nothing beyond its own code: it requests no special permissions.
              </p>
            )}
          </>
        )}
      </ConfirmDialog>
    </>
  );
}
