import { type Signal, useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { clock, count, date, dateTime, relative } from "../format";
import {
  CLUSTER_REFRESH_MS,
  type ClusterAgentStatus,
  type ClusterEgress,
  type ClusterRegistration,
  type ClusterWithStatus,
  type CreatedCluster,
  controllerCommands,
  type EgressMode,
  type EgressSuggestion,
  egressSettings,
  manifestSnippet,
  operatorAgentNames,
  registerCluster,
  registerPlatformCluster,
  setEgressMode,
} from "../models/clusters";
import type { Resource } from "../models/resource";
import { canWrite, currentTenant } from "../models/session";
import { tenantDirectory } from "../models/tenants";
import { showToast } from "../models/toasts";
import { Link } from "../router";
import type { ListOf } from "../types";
import { ConfirmDialog } from "./dialog";
import { TextField } from "./field";
import { IconCheck, IconCopy, IconServer } from "./icons";
import { AgentName } from "./live";
import { SecretBox, useClipboard } from "./secret-box";
import { Segmented } from "./segmented";
import {
  Badge,
  Banner,
  BusyButton,
  Card,
  DefinitionList,
  EmptyState,
  ErrorBanner,
  Loading,
  StatusBadge,
  type Tone,
} from "./ui";

/**
 * Loads now, then again every 5 s while the page is open and the tab visible (there is no feed event
 * for clusters yet). The interval goes with the page.
 */
export function useClusterRefresh(load: () => unknown): void {
  useEffect(() => {
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, CLUSTER_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
}

const REGISTRATION: Record<ClusterRegistration, { tone: Tone; label: string }> = {
  pending: { tone: "info", label: "Pending" },
  registered: { tone: "success", label: "Registered" },
  expired: { tone: "danger", label: "Expired" },
};

export function RegistrationBadge({ registration }: { registration: ClusterRegistration }) {
  const r = REGISTRATION[registration] ?? { tone: "neutral" as const, label: registration };
  return (
    <Badge tone={r.tone} data-testid="cluster-registration" data-status={registration}>
      <span class="badge-dot" aria-hidden="true" />
      {r.label}
    </Badge>
  );
}

export function ConnectionBadge({ cluster }: { cluster: ClusterWithStatus }) {
  const s = cluster.status;
  return (
    <span class="cluster-connection" data-testid="cluster-connection" data-connected={String(s.connected)}>
      <Badge tone={s.connected ? "success" : "neutral"}>
        <span class="badge-dot" aria-hidden="true" />
        {s.connected ? "Connected" : "Disconnected"}
      </Badge>
      <span class="muted small" title={dateTime(s.lastSeenAt)}>
        {s.lastSeenAt ? `last seen ${relative(s.lastSeenAt)}` : "never seen"}
      </span>
    </span>
  );
}

/** What the platform wants running, against what the controller says it applied. */
export function desiredOf(c: ClusterWithStatus): number {
  return Math.max(c.desiredGeneration, c.status.desiredGeneration);
}
export function isBehind(c: ClusterWithStatus): boolean {
  const desired = desiredOf(c);
  const applied = c.status.appliedGeneration;
  return c.registration === "registered" && desired > 0 && (applied === null || applied < desired);
}

function Generation({ cluster }: { cluster: ClusterWithStatus }) {
  const desired = desiredOf(cluster);
  const applied = cluster.status.appliedGeneration;
  const behind = isBehind(cluster);
  return (
    <span
      class={`cluster-generation${behind ? " cluster-generation-behind" : ""}`}
      data-testid="cluster-generation"
      data-behind={String(behind)}
    >
      <span>
        Generation applied <strong>{applied ?? "—"}</strong> of <strong>{desired}</strong>
      </span>
      {behind && <Badge tone="warning">Behind</Badge>}
      {cluster.status.appliedAt && (
        <span class="muted small" title={dateTime(cluster.status.appliedAt)}>
          applied {relative(cluster.status.appliedAt)}
        </span>
      )}
    </span>
  );
}

function RegistrationDetail({ cluster: c }: { cluster: ClusterWithStatus }) {
  if (c.registration === "registered")
    return (
      <span>
        Registered {relative(c.registeredAt)}
        {c.reportedName && (
          <>
            {" "}
            as <code class="mono">{c.reportedName}</code>
          </>
        )}
      </span>
    );
  if (c.registration === "expired")
    return (
      <span class="text-danger">
        The token expired {relative(c.registrationExpiresAt)} without being used. Register the cluster again.
      </span>
    );
  return (
    <span>
      Waiting for the controller to register
      {c.registrationExpiresAt && (
        <span class="muted"> · the token works until {dateTime(c.registrationExpiresAt)}</span>
      )}
    </span>
  );
}

/** How the agent column reads: the tenant's own agents by name; for an operator, the tenant too. */
export type AgentLabel = (agentId: string, tenantId: string | null) => ComponentChildren;

export const tenantAgentLabel: AgentLabel = (id) => <AgentName id={id} />;

export function operatorAgentLabel(cluster: ClusterWithStatus): AgentLabel {
  return (id, tenantId) => {
    const name = operatorAgentNames.value.get(id);
    const tenant = cluster.tenants.find((t) => t.id === tenantId);
    return (
      <span class="cluster-agent">
        {name ? <span class="agent-name">{name}</span> : <code class="mono agent-id">{id}</code>}
        {tenantId && (
          <Link href={`/admin/tenants/${encodeURIComponent(tenantId)}`} class="muted small">
            {tenant?.name ?? tenantId}
          </Link>
        )}
      </span>
    );
  };
}

export function AgentStatusTable({
  agents,
  label,
  empty,
}: {
  agents: ClusterAgentStatus[];
  label: AgentLabel;
  empty: string;
}) {
  if (agents.length === 0)
    return (
      <p class="muted small cluster-table-empty" data-testid="cluster-agents" data-empty="true">
        {empty}
      </p>
    );
  return (
    <div class="table-wrap">
      <table class="table table-dense" data-testid="cluster-agents">
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Restarts
            </th>
            <th scope="col">Last error</th>
            <th scope="col">Reported</th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr key={a.agentId} data-testid={`cluster-agent-${a.agentId}`}>
              <td>{label(a.agentId, a.tenantId)}</td>
              <td>
                <StatusBadge status={a.status} testId="cluster-agent-status" />
              </td>
              <td class="num">{count(a.restarts)}</td>
              <td>
                {a.lastError ? (
                  <span class="text-danger small cluster-error-text">{a.lastError}</span>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td class="muted small cell-nowrap" title={dateTime(a.at)}>
                {relative(a.at)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const EGRESS_SHOWN = 20;

export function EgressTable({
  egress,
  label,
  empty,
}: {
  egress: ClusterEgress[];
  label?: AgentLabel;
  empty: string;
}) {
  const all = useSignal(false);
  const shown = all.value ? egress : egress.slice(0, EGRESS_SHOWN);
  if (egress.length === 0)
    return (
      <p class="muted small cluster-table-empty" data-testid="cluster-egress" data-empty="true">
        {empty}
      </p>
    );
  return (
    <>
      <div class="table-wrap">
        <table class="table table-dense" data-testid="cluster-egress">
          <thead>
            <tr>
              {label && <th scope="col">Agent</th>}
              <th scope="col">Domain</th>
              <th scope="col">Time</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e, i) => (
              <tr key={`${e.at}-${e.agentId}-${e.domain}-${i}`} data-testid="cluster-egress-row">
                {label && <td>{label(e.agentId, e.tenantId)}</td>}
                <td>
                  <code class="mono">{e.domain}</code>
                </td>
                <td class="muted small cell-nowrap" title={dateTime(e.at)}>
                  {clock(e.at)}
                </td>
                <td>
                  {e.wouldBlock ? (
                    <Badge tone="warning" title="Log-only mode: the request went through">
                      Would block (log-only)
                    </Badge>
                  ) : (
                    <Badge tone="danger">Blocked</Badge>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {egress.length > EGRESS_SHOWN && (
        <button
          type="button"
          class="btn btn-sm btn-ghost cluster-more"
          onClick={() => {
            all.value = !all.value;
          }}
        >
          {all.value ? `Show the latest ${EGRESS_SHOWN}` : `Show all ${egress.length}`}
        </button>
      )}
    </>
  );
}

function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <div class="cluster-section">
      <h3 class="cluster-section-title">{title}</h3>
      {children}
    </div>
  );
}

export function ClusterCard({ cluster: c, operator }: { cluster: ClusterWithStatus; operator: boolean }) {
  const s = c.status;
  const tenantId = currentTenant.value?.id;
  const runsOurs = !operator && !!tenantId && c.tenants.some((t) => t.id === tenantId);
  const label = operator ? operatorAgentLabel(c) : tenantAgentLabel;
  const notRunning =
    c.registration !== "registered"
      ? "Agents appear here once the controller is registered and running."
      : s.connected
        ? "The controller has not reported any agents yet."
        : "The controller is not connected; agents appear once it reports them.";
  return (
    <Card
      class="cluster-card"
      data-testid={`cluster-${c.name}`}
      data-cluster-id={c.id}
      title={
        <span class="cluster-title">
          <IconServer class="cluster-icon" />
          <span data-testid="cluster-name">{c.name}</span>
          <RegistrationBadge registration={c.registration} />
          {runsOurs && <Badge tone="brand">Runs your agents</Badge>}
          {operator && <Badge>{c.tenantId ? "Tenant's own" : "Platform"}</Badge>}
        </span>
      }
      actions={<ConnectionBadge cluster={c} />}
    >
      <DefinitionList
        items={[
          ["Registration", <RegistrationDetail cluster={c} />],
          [
            "Connection",
            s.connected ? (
              <span>Connected since {dateTime(s.connectedAt)}</span>
            ) : s.lastSeenAt ? (
              <span>Disconnected since {dateTime(s.lastSeenAt)}</span>
            ) : (
              <span class="muted">
                {c.registration === "registered"
                  ? "The controller has not connected yet: start it with the run command."
                  : "Never connected"}
              </span>
            ),
          ],
          ["Desired state", <Generation cluster={c} />],
          ...(operator
            ? ([
                [
                  "Tenants",
                  c.tenants.length ? (
                    <span class="cluster-tenants">
                      {c.tenants.map((t) => (
                        <Link key={t.id} href={`/admin/tenants/${encodeURIComponent(t.id)}`}>
                          {t.name}
                        </Link>
                      ))}
                    </span>
                  ) : (
                    <span class="muted">None: it runs no agents</span>
                  ),
                ],
              ] as Array<[string, ComponentChildren]>)
            : []),
          ["Created", date(c.createdAt)],
        ]}
      />
      {s.rejected && (
        <Banner tone="danger" data-testid="cluster-rejected">
          <strong>The controller rejected generation {s.rejected.generation}</strong>
          <span>
            {s.rejected.reason} <span class="muted">({relative(s.rejected.at)})</span>
          </span>
        </Banner>
      )}
      {s.errors.length > 0 && (
        <Section title="Apply errors">
          <ul class="cluster-errors" data-testid="cluster-errors">
            {s.errors.map((e) => (
              <li key={`${e.resource}-${e.message}`}>
                <code class="mono">{e.resource}</code>
                <span class="text-danger">{e.message}</span>
              </li>
            ))}
          </ul>
        </Section>
      )}
      <Section title="Agents">
        <AgentStatusTable agents={s.agents} label={label} empty={notRunning} />
      </Section>
      <Section title="Blocked egress">
        <EgressTable
          egress={s.egress}
          label={label}
          empty="Nothing blocked: every request went to a domain on the allowlist."
        />
      </Section>
    </Card>
  );
}

export function ClusterList({
  res,
  operator,
  emptyText,
}: {
  res: Resource<ListOf<ClusterWithStatus>>;
  operator: boolean;
  emptyText: ComponentChildren;
}) {
  const list = res.data.value?.data;
  const tenantId = currentTenant.value?.id;
  // The cluster running the tenant's agents first, then the newest.
  const sorted = list
    ? [...list].sort((a, b) => {
        const ours = (c: ClusterWithStatus) =>
          !operator && c.tenants.some((t) => t.id === tenantId) ? 1 : 0;
        return ours(b) - ours(a) || b.createdAt.localeCompare(a.createdAt);
      })
    : undefined;
  return (
    <div class="stack" data-testid="clusters-list">
      <ErrorBanner error={res.error.value} onRetry={() => void res.load()} />
      {!sorted && res.loading.value && (
        <Card>
          <Loading label="Loading clusters…" />
        </Card>
      )}
      {sorted && sorted.length === 0 && (
        <Card>
          <EmptyState title="No clusters yet">{emptyText}</EmptyState>
        </Card>
      )}
      {sorted?.map((c) => (
        <ClusterCard key={c.id} cluster={c} operator={operator} />
      ))}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------------
// Egress

const EGRESS_MODES: Record<EgressMode, { label: string; tone: Tone; text: string }> = {
  enforce: {
    label: "Enforce",
    tone: "success",
    text: "Requests to domains that no skill of the agent declares are refused, and reported below.",
  },
  "log-only": {
    label: "Log-only",
    tone: "warning",
    text: "Requests to undeclared domains are let through and reported below, to learn what your agents need before enforcing.",
  },
};
const MODE_ORDER: EgressMode[] = ["enforce", "log-only"];

function EgressSuggestionView({ suggestion: s }: { suggestion: EgressSuggestion }) {
  const n = s.domains.length;
  return (
    <div class="egress-suggestion" data-testid={`egress-suggestion-${s.agentId}`}>
      <div class="egress-suggestion-head">
        <AgentName id={s.agentId} />
        <span class="muted small">
          {n} undeclared {n === 1 ? "domain" : "domains"}
        </span>
      </div>
      <div class="table-wrap">
        <table class="table table-dense" data-testid="egress-suggestion-domains">
          <thead>
            <tr>
              <th scope="col">Domain</th>
              <th scope="col" class="num">
                Requests
              </th>
              <th scope="col">Last seen</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {s.domains.map((d) => (
              <tr key={d.domain} data-testid="egress-suggestion-row">
                <td>
                  <code class="mono">{d.domain}</code>
                </td>
                <td class="num">{count(d.count)}</td>
                <td class="muted small cell-nowrap" title={dateTime(d.lastAt)}>
                  {relative(d.lastAt)}
                </td>
                <td>
                  {d.blocked ? (
                    <Badge tone="danger">Blocked</Badge>
                  ) : (
                    <Badge tone="warning" title="Log-only mode: the requests went through">
                      Would block (log-only)
                    </Badge>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="small">
        If the agent needs {n === 1 ? "it" : "them"}, add this to the manifest of one of its skills:
      </p>
      <CopyBlock
        text={manifestSnippet(s)}
        label="Copy the manifest snippet"
        testId="egress-suggestion-manifest"
        class="egress-manifest"
      >
        <code>{manifestSnippet(s)}</code>
      </CopyBlock>
    </div>
  );
}

/**
 * The tenant's egress mode (admins switch it; loosening it to log-only asks first) and, per agent, the
 * domains its proxy saw it reach or refused that its skills do not declare, as a manifest snippet.
 * Loaded by the page, with its 5-second refresh.
 */
export function EgressCard() {
  const settings = egressSettings.data.value;
  const admin = canWrite.value;
  const confirming = useSignal(false);
  const busy = useSignal(false);
  const error = useSignal<unknown>(null);
  const saved = useSignal<EgressMode | null>(null);
  const mode = settings?.mode ?? "enforce";

  async function save(next: EgressMode) {
    busy.value = true;
    error.value = null;
    saved.value = null;
    try {
      await setEgressMode(next);
      confirming.value = false;
      saved.value = next;
      showToast(next === "log-only" ? "Egress is in log-only mode" : "Egress is enforced");
    } catch (e) {
      error.value = e;
    } finally {
      busy.value = false;
    }
  }

  return (
    <Card
      title="Egress"
      class="egress-card"
      data-testid="egress-card"
      data-mode={settings?.mode}
      actions={
        settings && (
          <Badge tone={EGRESS_MODES[mode].tone} data-testid="egress-mode" data-mode={mode}>
            <span class="badge-dot" aria-hidden="true" />
            {EGRESS_MODES[mode].label}
          </Badge>
        )
      }
    >
      <p class="muted small">
        Each agent's egress proxy lets it reach the domains its skills declare in{" "}
        <code class="mono">network.allowedDomains</code>. The mode decides what happens to the rest.
      </p>
      <ErrorBanner error={egressSettings.error.value} onRetry={() => void egressSettings.load()} />
      {!settings && egressSettings.loading.value && <Loading label="Loading egress settings…" />}
      {settings && (
        <>
          <div class="egress-mode-row">
            {admin ? (
              <Segmented<EgressMode>
                label="Egress mode"
                value={mode}
                options={MODE_ORDER.map((m) => ({ value: m, label: EGRESS_MODES[m].label }))}
                disabled={busy.value}
                testId="egress-mode-control"
                onChange={(next) => {
                  if (next === mode) return;
                  error.value = null;
                  saved.value = null;
                  // Loosening asks first; enforcing again does not.
                  if (next === "log-only") confirming.value = true;
                  else void save(next);
                }}
              />
            ) : (
              <span class="muted small">Only a tenant admin can change the mode.</span>
            )}
            {busy.value && !confirming.value && (
              <span class="muted small egress-save-state" role="status">
                <span class="spinner-ring spinner-inline" aria-hidden="true" />
                Saving…
              </span>
            )}
            {!busy.value && saved.value === mode && (
              <span class="egress-save-state egress-saved" role="status" data-testid="egress-saved">
                <IconCheck />
                Saved:{" "}
                {mode === "log-only"
                  ? "undeclared domains are let through"
                  : "undeclared domains are refused"}
              </span>
            )}
          </div>
          <ul class="egress-modes" data-testid="egress-modes">
            {MODE_ORDER.map((m) => (
              <li key={m} class={m === mode ? "egress-mode-current" : undefined} data-mode={m}>
                <span class="egress-mode-name">
                  {EGRESS_MODES[m].label}
                  {m === mode && <Badge tone={EGRESS_MODES[m].tone}>Current</Badge>}
                </span>
                <span class="small">{EGRESS_MODES[m].text}</span>
              </li>
            ))}
          </ul>
          {!confirming.value && <ErrorBanner error={error.value} title="The mode was not changed" />}
          {mode === "log-only" && (
            <Banner tone="warning" data-testid="egress-log-only">
              <strong>Agents can reach any domain while in log-only mode.</strong>
              <span>
                Add what they need to their skills' manifests from the suggestions below, then switch back to
                enforce.
              </span>
            </Banner>
          )}
          <Section title="Suggested permissions">
            {settings.suggestions.length === 0 ? (
              <div class="egress-empty" data-testid="egress-suggestions" data-empty="true">
                <EmptyState title="No undeclared traffic observed">
                  {mode === "log-only"
                    ? "Log-only mode is collecting it: domains your agents reach that their skills do not declare appear here."
                    : "Blocked requests appear here. Log-only mode collects what your agents would reach without refusing it, to learn what they need before enforcing."}
                </EmptyState>
              </div>
            ) : (
              <div class="egress-suggestions" data-testid="egress-suggestions" data-empty="false">
                <p class="muted small">
                  Domains each agent reached or was refused that none of its skills declare. Add the ones it
                  needs to a skill's manifest; leave the rest blocked.
                </p>
                {settings.suggestions.map((s) => (
                  <EgressSuggestionView key={s.agentId} suggestion={s} />
                ))}
              </div>
            )}
          </Section>
          <ConfirmDialog
            open={confirming.value}
            title="Switch egress to log-only?"
            confirmLabel="Switch to log-only"
            busyLabel="Switching…"
            danger
            busy={busy.value}
            error={error.value}
            onCancel={() => {
              confirming.value = false;
              error.value = null;
            }}
            onConfirm={() => void save("log-only")}
            testId="egress-confirm"
          >
            <p>
              Your agents' egress proxies will let through requests to domains their skills do not declare,
              instead of refusing them. Each one is reported here, so you can see what the agents need.
            </p>
            <p>
              This loosens a security control: until you switch back to enforce, an agent (or a prompt
              injected into one) can reach any domain.
            </p>
          </ConfirmDialog>
        </>
      )}
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------------
// Registering

/** Text in a dark box with a Copy button beside it; `children` draws the text, `text` is what is copied. */
function CopyBlock({
  text,
  label,
  testId,
  class: className,
  children,
}: {
  text: string;
  label: string;
  testId: string;
  class?: string;
  children: ComponentChildren;
}) {
  const { copied, failed, copy } = useClipboard();
  return (
    <div class="command-block">
      <pre class={`command-text${className ? ` ${className}` : ""}`} data-testid={testId}>
        {children}
      </pre>
      <button type="button" class="btn btn-sm" onClick={() => void copy(text)} aria-label={label}>
        {copied.value ? <IconCheck /> : <IconCopy />}
        {copied.value ? "Copied" : "Copy"}
      </button>
      {failed.value && (
        <p class="field-error">Copying is blocked here: select the text and copy it by hand.</p>
      )}
    </div>
  );
}

function CommandBlock({ commands }: { commands: readonly string[] }) {
  return (
    <CopyBlock text={commands.join("\n")} label="Copy the commands" testId="cluster-commands">
      {commands.map((c) => (
        <code key={c} class="command-line">
          {c}
        </code>
      ))}
    </CopyBlock>
  );
}

function RegistrationToken({ created }: { created: CreatedCluster }) {
  const { cluster, registrationToken } = created;
  const commands = controllerCommands(registrationToken, cluster.name, window.location.origin);
  return (
    <SecretBox
      label="Registration token"
      value={registrationToken}
      testId="cluster-token"
      warning={`This is the only time the registration token for “${cluster.name}” is shown: it will not be shown again. It works once${
        cluster.registrationExpiresAt ? `, until ${dateTime(cluster.registrationExpiresAt)}` : ""
      }. Run the commands below now.`}
    >
      <div class="cluster-howto" data-testid="cluster-howto">
        <p class="small">
          On the machine that will run the agents, from a checkout of Aegis (build the controller once with{" "}
          <code class="mono">node controller/build.mjs</code>), register the controller with the token, then
          start it:
        </p>
        <CommandBlock commands={commands} />
        <p class="small muted">
          The credential the controller gets in exchange is kept in the state directory; the token is no
          longer needed after the first command.
        </p>
      </div>
    </SecretBox>
  );
}

function TenantPicker({
  selected,
  error,
}: {
  selected: Signal<Array<{ id: string; name: string }>>;
  error: string[] | undefined;
}) {
  const q = useSignal("");
  useEffect(() => {
    const term = q.value.trim();
    const t = setTimeout(() => void tenantDirectory.load(term), term ? 250 : 0);
    return () => clearTimeout(t);
  }, [q.value]);
  const dir = tenantDirectory.data.value;
  const ids = new Set(selected.value.map((t) => t.id));
  const invalid = !!error?.length;
  return (
    <fieldset
      class={`fieldset cluster-tenants-field${invalid ? " field-invalid" : ""}`}
      aria-describedby={invalid ? "cluster-tenants-error" : "cluster-tenants-hint"}
    >
      <legend class="field-label">
        Tenants<span class="field-optional"> (optional)</span>
      </legend>
      <input
        type="search"
        class="input"
        placeholder="Filter by name or slug"
        aria-label="Filter tenants"
        data-testid="cluster-tenant-filter"
        value={q.value}
        onInput={(e) => {
          q.value = e.currentTarget.value;
        }}
      />
      <ErrorBanner error={tenantDirectory.error.value} onRetry={() => void tenantDirectory.load(q.value)} />
      {!dir && tenantDirectory.loading.value && <Loading label="Loading tenants…" />}
      {dir && dir.data.length === 0 && (
        <p class="muted small">{dir.q ? `No tenant matches “${dir.q}”.` : "There are no tenants yet."}</p>
      )}
      {dir && dir.data.length > 0 && (
        <div class="check-grid" data-testid="cluster-tenants">
          {dir.data.map((t) => (
            <label key={t.id} class="checkbox-field" data-testid={`cluster-tenant-${t.slug}`}>
              <input
                type="checkbox"
                value={t.id}
                checked={ids.has(t.id)}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  selected.value = on
                    ? [...selected.value, { id: t.id, name: t.name }]
                    : selected.value.filter((x) => x.id !== t.id);
                }}
              />
              <span>
                {t.name} <span class="muted small mono">{t.slug}</span>
              </span>
            </label>
          ))}
        </div>
      )}
      {dir && dir.total > dir.data.length && (
        <p class="muted small">
          Showing the first {dir.data.length} of {dir.total}: filter to find others.
        </p>
      )}
      {selected.value.length > 0 && (
        <div class="cluster-selected" data-testid="cluster-tenants-selected">
          <span class="small">Selected:</span>
          {selected.value.map((t) => (
            <Badge key={t.id} tone="brand">
              {t.name}
              <button
                type="button"
                class="chip-remove"
                aria-label={`Remove ${t.name}`}
                onClick={() => {
                  selected.value = selected.value.filter((x) => x.id !== t.id);
                }}
              >
                ×
              </button>
            </Badge>
          ))}
        </div>
      )}
      {invalid ? (
        <p class="field-error" id="cluster-tenants-error" data-testid="field-error-cluster-tenants">
          {error?.join(" ")}
        </p>
      ) : (
        <p class="field-hint" id="cluster-tenants-hint">
          Their agents move to this cluster at once: they stop where they run now and start again when its
          controller connects.
        </p>
      )}
    </fieldset>
  );
}

/** Server `details` keyed `tenantIds.3` are about the tenant picker. */
function tenantErrors(details: FieldErrors): string[] | undefined {
  const out = Object.entries(details)
    .filter(([k]) => k === "tenantIds" || k.startsWith("tenantIds."))
    .flatMap(([, v]) => v);
  return out.length ? out : undefined;
}

export function RegisterCluster({ operator }: { operator: boolean }) {
  const name = useSignal("");
  const tenants = useSignal<Array<{ id: string; name: string }>>([]);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});
  const created = useSignal<CreatedCluster | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    const n = name.value.trim();
    const next: FieldErrors = {};
    if (!n) next.name = ["Give the cluster a name"];
    else if (n.length > 80) next.name = ["Use at most 80 characters"];
    fields.value = next;
    error.value = null;
    if (Object.keys(next).length) {
      document.getElementById("cluster-name")?.focus();
      return;
    }
    busy.value = true;
    try {
      created.value = operator
        ? await registerPlatformCluster(
            n,
            tenants.value.map((t) => t.id),
          )
        : await registerCluster(n);
      name.value = "";
      tenants.value = [];
    } catch (err) {
      error.value = errorMessage(err);
      if (err instanceof ApiError && err.details) fields.value = err.details;
    } finally {
      busy.value = false;
    }
  }

  return (
    <Card title="Register a cluster" data-testid="register-cluster">
      {created.value && <RegistrationToken created={created.value} />}
      <form class="form cluster-form" onSubmit={submit} noValidate data-testid="cluster-form">
        <ErrorBanner error={error.value} />
        <TextField
          id="cluster-name"
          label="Cluster name"
          value={name}
          error={fields.value.name}
          placeholder={operator ? "eu-west-1" : "on-prem-rack-2"}
          autoComplete="off"
          spellcheck={false}
          hint={
            operator
              ? "For you and the tenants it serves; the controller reports its own host name too."
              : "For you; the controller reports its own host name too. Your agents move to this cluster as soon as you register it: they stop where they run now and start again when its controller connects."
          }
        />
        {operator && <TenantPicker selected={tenants} error={tenantErrors(fields.value)} />}
        <div class="form-actions">
          <BusyButton type="submit" busy={busy} busyLabel="Registering…">
            Register cluster
          </BusyButton>
        </div>
      </form>
    </Card>
  );
}
