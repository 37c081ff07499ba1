import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { Dialog } from "../components/dialog";
import { IconClock, IconPlay } from "../components/icons";
import { AgentName, FeedIndicator, When } from "../components/live";
import {
  BusyButton,
  Card,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
  SkeletonRows,
  StatusBadge,
  TableMessage,
} from "../components/ui";
import { duration, humanize } from "../format";
import { agentDirectory, agentName, loadAgentDirectory } from "../models/agents";
import { useFeed } from "../models/feed";
import { canWrite } from "../models/session";
import { showToast } from "../models/toasts";
import {
  type Role,
  runs,
  type TemplateStep,
  templates,
  triggerWorkflow,
  type WorkflowRun,
  type WorkflowTemplate,
} from "../models/workflows";
import { navigate } from "../router";
import { messageTypeLabel } from "../wire";

const POLL_MS = 1000;

/** Calls `tick` every `ms` while `active`, never overlapping (the next call waits for the last). */
export function usePolling(active: boolean, tick: () => Promise<void>, ms = POLL_MS): void {
  const ref = useRef(tick);
  ref.current = tick;
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const loop = async () => {
      if (stopped) return;
      await ref.current();
      if (!stopped) timer = setTimeout(() => void loop(), ms);
    };
    timer = setTimeout(() => void loop(), ms);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [active, ms]);
}

export function templateName(id: string): string {
  return templates.data.value?.data.find((t) => t.id === id)?.name ?? humanize(id);
}

const ROLE_LABEL: Record<Role, string> = { lead: "Lead", participants: "Participants" };

export function stepSummary(s: TemplateStep): string {
  const parts = [`${ROLE_LABEL[s.from]} → ${ROLE_LABEL[s.to].toLowerCase()}`, messageTypeLabel(s.type)];
  if (s.awaits) {
    parts.push(`awaits ${messageTypeLabel(s.awaits).toLowerCase()}`);
    if (s.timeoutSeconds > 0) parts.push(`${duration(s.timeoutSeconds)} to answer`);
  }
  return parts.join(" · ");
}

export function WorkflowsPage() {
  useEffect(() => {
    void loadAgentDirectory();
    void templates.load();
    void runs.load();
  }, []);

  const list = runs.data.value?.data;
  const anyRunning = !!list?.some((r) => r.status === "running");
  usePolling(anyRunning, () => runs.load());
  useFeed((e) => {
    if (e.event === "message" && anyRunning) void runs.load();
  });

  const starting = useSignal<WorkflowTemplate | null>(null);
  const tpl = templates.data.value?.data;

  return (
    <>
      <PageHeader
        title="Workflows"
        subtitle="Routines your agents run together. Start one now and follow every step."
        actions={<FeedIndicator />}
      />
      <ErrorBanner error={templates.error.value} onRetry={() => void templates.load()} />
      {!tpl && templates.loading.value && <Loading label="Loading templates…" />}
      {tpl && tpl.length === 0 && (
        <Card>
          <EmptyState title="No workflow templates" />
        </Card>
      )}
      {tpl && tpl.length > 0 && (
        <div class="card-grid workflow-grid">
          {tpl.map((t) => (
            <TemplateCard
              key={t.id}
              t={t}
              onRun={() => {
                starting.value = t;
              }}
            />
          ))}
        </div>
      )}
      <RunsTable />
      {starting.value && (
        <RunDialog
          template={starting.value}
          onClose={() => {
            starting.value = null;
          }}
        />
      )}
    </>
  );
}

function TemplateCard({ t, onRun }: { t: WorkflowTemplate; onRun: () => void }) {
  return (
    <section class="card workflow-card" data-testid={`workflow-template-${t.id}`}>
      <div class="workflow-card-head">
        <h2 class="card-title">{t.name}</h2>
        {t.defaultSchedule && (
          <span class="schedule" title="Default schedule">
            <IconClock />
            {t.defaultSchedule}
          </span>
        )}
      </div>
      <p class="workflow-desc">{t.description}</p>
      <ol class="workflow-steps">
        {t.steps.map((s, i) => (
          <li key={`${s.name}-${i}`} class="workflow-step">
            <span class="workflow-step-num" aria-hidden="true">
              {i + 1}
            </span>
            <span class="workflow-step-text">
              <span class="workflow-step-name">{s.name}</span>
              <span class="muted small">{stepSummary(s)}</span>
            </span>
          </li>
        ))}
      </ol>
      {canWrite.value && (
        <div class="workflow-card-foot">
          <button type="button" class="btn btn-primary btn-sm" onClick={onRun}>
            <IconPlay />
            Run now
          </button>
        </div>
      )}
    </section>
  );
}

function RunDialog({ template, onClose }: { template: WorkflowTemplate; onClose: () => void }) {
  const agents = agentDirectory.data.value ?? [];
  const lead = useSignal("");
  const participants = useSignal<string[]>([]);
  const timeout = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});
  const others = agents.filter((a) => a.id !== lead.value);
  const allChecked = others.length > 0 && others.every((a) => participants.value.includes(a.id));

  async function submit(e: Event) {
    e.preventDefault();
    const errs: FieldErrors = {};
    if (!lead.value) errs.leadAgentId = ["Choose the agent that leads this run"];
    if (participants.value.length === 0) errs.participantIds = ["Choose at least one participant"];
    const t = timeout.value.trim();
    const seconds = t ? Number(t) : undefined;
    if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400))
      errs.timeoutSeconds = ["Enter whole seconds from 1 to 86400, or leave empty"];
    fields.value = errs;
    error.value = null;
    if (Object.keys(errs).length) return;
    busy.value = true;
    try {
      const r = await triggerWorkflow(template.id, {
        leadAgentId: lead.value,
        participantIds: participants.value,
        ...(seconds !== undefined ? { timeoutSeconds: seconds } : {}),
      });
      showToast(`${template.name} started`);
      onClose();
      navigate(`/workflows/runs/${encodeURIComponent(r.id)}`);
    } catch (err) {
      error.value = errorMessage(err);
      if (err instanceof ApiError && err.details) fields.value = err.details;
    } finally {
      busy.value = false;
    }
  }

  const leadErr = fields.value.leadAgentId ?? fields.value["body.leadAgentId"];
  const partErr =
    fields.value.participantIds ??
    Object.entries(fields.value)
      .filter(([k]) => k.startsWith("participantIds"))
      .flatMap(([, v]) => v);

  return (
    <Dialog
      open
      title={`Run ${template.name}`}
      onClose={() => {
        if (!busy.value) onClose();
      }}
      testId="run-dialog"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} disabled={busy.value}>
            Cancel
          </button>
          <BusyButton type="submit" form="run-form" busy={busy} busyLabel="Starting…">
            Start run
          </BusyButton>
        </>
      }
    >
      <form id="run-form" class="form" onSubmit={submit} noValidate>
        <p class="muted">{template.description}</p>
        {agents.length < 2 ? (
          <p class="field-error">A workflow needs at least two agents: a lead and a participant.</p>
        ) : (
          <>
            <div class={`field${leadErr?.length ? " field-invalid" : ""}`}>
              <label for="run-lead" class="field-label">
                Lead agent
              </label>
              <select
                id="run-lead"
                class="input"
                value={lead.value}
                aria-invalid={!!leadErr?.length}
                aria-describedby={leadErr?.length ? "run-lead-error" : "run-lead-hint"}
                onChange={(e) => {
                  lead.value = e.currentTarget.value;
                  participants.value = participants.value.filter((p) => p !== lead.value);
                }}
              >
                <option value="">Choose an agent</option>
                {agents.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                    {a.status !== "active" ? ` (${a.status})` : ""}
                  </option>
                ))}
              </select>
              {leadErr?.length ? (
                <p class="field-error" id="run-lead-error">
                  {leadErr.join(" ")}
                </p>
              ) : (
                <p class="field-hint" id="run-lead-hint">
                  Sends the first message and collects the answers.
                </p>
              )}
            </div>
            <fieldset
              class={`fieldset${partErr.length ? " field-invalid" : ""}`}
              aria-describedby="run-part-error"
            >
              <legend class="field-label">Participants</legend>
              <label class="checkbox-field check-all">
                <input
                  type="checkbox"
                  checked={allChecked}
                  disabled={others.length === 0}
                  onChange={(e) => {
                    participants.value = e.currentTarget.checked ? others.map((a) => a.id) : [];
                  }}
                />
                <span>All agents{lead.value ? " except the lead" : ""}</span>
              </label>
              <div class="check-grid">
                {others.map((a) => (
                  <label key={a.id} class="checkbox-field" data-testid={`participant-${a.id}`}>
                    <input
                      type="checkbox"
                      value={a.id}
                      checked={participants.value.includes(a.id)}
                      onChange={(e) => {
                        const on = e.currentTarget.checked;
                        participants.value = on
                          ? [...participants.value, a.id]
                          : participants.value.filter((p) => p !== a.id);
                      }}
                    />
                    <span>
                      {a.name}
                      {a.status !== "active" && <span class="muted small"> ({a.status})</span>}
                    </span>
                  </label>
                ))}
              </div>
              {partErr.length > 0 && (
                <p class="field-error" id="run-part-error">
                  {partErr.join(" ")}
                </p>
              )}
            </fieldset>
            {template.steps.some((s) => s.awaits) && (
              <div class={`field${fields.value.timeoutSeconds ? " field-invalid" : ""}`}>
                <label for="run-timeout" class="field-label">
                  Reply timeout <span class="field-optional">(optional)</span>
                </label>
                <input
                  id="run-timeout"
                  class="input input-number"
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={86400}
                  placeholder="seconds"
                  value={timeout.value}
                  aria-invalid={!!fields.value.timeoutSeconds}
                  aria-describedby={fields.value.timeoutSeconds ? "run-timeout-error" : "run-timeout-hint"}
                  onInput={(e) => {
                    timeout.value = e.currentTarget.value;
                  }}
                />
                {fields.value.timeoutSeconds ? (
                  <p class="field-error" id="run-timeout-error">
                    {fields.value.timeoutSeconds.join(" ")}
                  </p>
                ) : (
                  <p class="field-hint" id="run-timeout-hint">
                    How long each participant has to answer. Empty uses each step's own (
                    {template.steps
                      .filter((s) => s.awaits && s.timeoutSeconds > 0)
                      .map((s) => duration(s.timeoutSeconds))
                      .join(", ")}
                    ).
                  </p>
                )}
              </div>
            )}
          </>
        )}
        <ErrorBanner error={error.value} />
      </form>
    </Dialog>
  );
}

function RunsTable() {
  const list = runs.data.value?.data;
  const cols = 7;
  return (
    <Card title="Runs" class="card-flush">
      <ErrorBanner error={runs.error.value} onRetry={() => void runs.load()} />
      <div class="table-wrap">
        <table class="table table-clickable" data-testid="workflow-runs">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Lead</th>
              <th scope="col">Participants</th>
              <th scope="col">Started</th>
              <th scope="col" class="num">
                Duration
              </th>
            </tr>
          </thead>
          <tbody>
            {!list && runs.loading.value && <SkeletonRows cols={cols} rows={3} />}
            {list && list.length === 0 && (
              <TableMessage cols={cols}>
                <EmptyState title="No runs yet">
                  {canWrite.value
                    ? "Start a workflow above with Run now; its progress shows here."
                    : "Runs started by your team show here."}
                </EmptyState>
              </TableMessage>
            )}
            {list?.map((r) => (
              <RunRow key={r.id} r={r} />
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function RunRow({ r }: { r: WorkflowRun }) {
  const href = `/workflows/runs/${encodeURIComponent(r.id)}`;
  const done = r.steps.filter((s) => s.status === "completed").length;
  return (
    <tr
      data-testid={`workflow-run-${r.id}`}
      data-status={r.status}
      onClick={(e) => {
        if (e.target instanceof Element && e.target.closest("a, button")) return;
        navigate(href);
      }}
    >
      <td>
        <a
          href={href}
          class="link-strong"
          onClick={(e) => {
            if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
            e.preventDefault();
            navigate(href);
          }}
        >
          {templateName(r.template)}
        </a>
      </td>
      <td>
        <StatusBadge status={r.status} testId="run-status" />
      </td>
      <td>
        <span class="progress-mini" title={`${done} of ${r.steps.length} steps completed`}>
          <span class="progress-mini-track">
            <span
              class={`progress-mini-fill progress-${r.status}`}
              style={{ width: `${r.steps.length ? (done / r.steps.length) * 100 : 0}%` }}
            />
          </span>
          <span class="muted small">
            {done}/{r.steps.length}
          </span>
        </span>
      </td>
      <td>
        <AgentName id={r.leadAgentId} />
      </td>
      <td class="muted">
        {r.participantIds.length <= 2
          ? r.participantIds.map((p) => agentName(p)).join(", ")
          : `${agentName(r.participantIds[0] ?? "")} and ${r.participantIds.length - 1} more`}
      </td>
      <td class="muted">
        <When iso={r.startedAt} />
      </td>
      <td class="num muted">
        {r.finishedAt
          ? duration((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000)
          : r.status === "running"
            ? "running…"
            : "—"}
      </td>
    </tr>
  );
}
