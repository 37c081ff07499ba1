import { useEffect } from "preact/hooks";
import { ApiError } from "../api";
import { IconArrowRight, IconCheck, IconCircle, IconX } from "../components/icons";
import { AgentName, FeedIndicator, When } from "../components/live";
import {
  Banner,
  Card,
  DefinitionList,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
  StatusBadge,
} from "../components/ui";
import { dateTime, duration, humanize } from "../format";
import { agentName, loadAgentDirectory } from "../models/agents";
import { useFeed } from "../models/feed";
import { type RunStep, run, templates, type WorkflowRun } from "../models/workflows";
import { Link } from "../router";
import { messageTypeLabel } from "../wire";
import { stepSummary, templateName, usePolling } from "./workflows";

function StepIcon({ status }: { status: RunStep["status"] }) {
  if (status === "completed") return <IconCheck class="step-icon step-icon-completed" />;
  if (status === "failed") return <IconX class="step-icon step-icon-failed" />;
  if (status === "running") return <span class="spinner-ring step-icon" aria-hidden="true" />;
  return <IconCircle class="step-icon step-icon-pending" />;
}

function elapsed(from: string | null, to: string | null): string | null {
  if (!from) return null;
  const end = to ? Date.parse(to) : Date.now();
  return duration((end - Date.parse(from)) / 1000);
}

export function WorkflowRunPage({ id }: { id: string }) {
  useEffect(() => {
    void loadAgentDirectory();
    if (!templates.data.value) void templates.load();
    void run.load(id);
  }, [id]);

  const raw = run.data.value;
  const r = raw && raw.id === id ? raw : undefined;
  const running = r?.status === "running";
  usePolling(running, () => run.load(id));
  useFeed((e) => {
    if (running && e.event === "message") void run.load(id);
  });

  const crumbs = (
    <div class="breadcrumbs">
      <Link href="/workflows">Workflows</Link> <span aria-hidden="true">/</span>{" "}
      <span>{r ? templateName(r.template) : "Run"}</span>
    </div>
  );

  if (!r) {
    const err = run.error.value;
    return (
      <>
        {crumbs}
        <PageHeader title="Workflow run" />
        {err instanceof ApiError && err.status === 404 ? (
          <Card>
            <EmptyState
              title="Run not found"
              action={
                <Link href="/workflows" class="btn">
                  Back to workflows
                </Link>
              }
            />
          </Card>
        ) : (
          <ErrorBanner error={err} onRetry={() => void run.load(id)} />
        )}
        {run.loading.value && <Loading label="Loading run…" />}
      </>
    );
  }

  return (
    <div class="run" data-testid={`workflow-run-${r.id}`} data-status={r.status}>
      {crumbs}
      <PageHeader
        title={
          <span class="title-with-badge">
            <span>{templateName(r.template)}</span>
            <StatusBadge status={r.status} testId="run-status" />
          </span>
        }
        subtitle={
          <>
            Started <When iso={r.startedAt} />
            {r.finishedAt
              ? ` · took ${elapsed(r.startedAt, r.finishedAt)}`
              : ` · running for ${elapsed(r.startedAt, null)}`}
          </>
        }
        actions={<FeedIndicator />}
      />
      {r.status === "failed" && (
        <Banner tone="danger" data-testid="run-error">
          <strong>This run failed.</strong>
          <span>{r.error ?? failedStepText(r) ?? "A step did not complete."}</span>
        </Banner>
      )}
      {run.error.value !== null && <ErrorBanner error={run.error.value} title="Could not refresh this run" />}
      <div class="detail-grid">
        <div class="detail-main">
          <Card title="Steps" class="card-flush">
            <ol class="steps-list run-steps">
              {r.steps.map((s, i) => (
                <Step key={`${s.name}-${i}`} r={r} s={s} index={i} />
              ))}
              {r.steps.length === 0 && <li class="steps-item muted">No steps recorded yet.</li>}
            </ol>
          </Card>
        </div>
        <div class="detail-side">
          <Card title="Run">
            <DefinitionList
              items={[
                ["Lead", <AgentName id={r.leadAgentId} />],
                [
                  "Participants",
                  <span class="name-list">
                    {r.participantIds.map((p, i) => (
                      <span key={p}>
                        {i > 0 && ", "}
                        <AgentName id={p} />
                      </span>
                    ))}
                  </span>,
                ],
                ["Started", dateTime(r.startedAt)],
                ...(r.trigger
                  ? ([["Trigger", r.trigger === "schedule" ? "Schedule" : humanize(r.trigger)]] as Array<
                      [string, string]
                    >)
                  : []),
                ["Finished", r.finishedAt ? dateTime(r.finishedAt) : "Still running"],
                ["Run id", <code class="mono">{r.id}</code>],
              ]}
            />
          </Card>
        </div>
      </div>
    </div>
  );
}

function failedStepText(r: WorkflowRun): string | null {
  const s = r.steps.find((x) => x.status === "failed");
  if (!s) return null;
  return s.error ?? `Step “${s.name}” failed${s.agentId ? ` for ${agentName(s.agentId)}` : ""}.`;
}

function Step({ r, s, index }: { r: WorkflowRun; s: RunStep; index: number }) {
  const tpl = templates.data.value?.data.find((t) => t.id === r.template);
  // A run has one step per template step and participant, named "Ask for updates → Bob".
  const def = tpl?.steps.find((d) => s.name === d.name || s.name.startsWith(`${d.name} → `));
  const [title, who] =
    def && s.name !== def.name ? [def.name, s.name.slice(def.name.length + 3)] : [s.name, null];
  const took = s.startedAt && s.finishedAt ? elapsed(s.startedAt, s.finishedAt) : null;

  return (
    <li class={`steps-item steps-${s.status}`} data-testid={`run-step-${index}`} data-status={s.status}>
      <StepIcon status={s.status} />
      <div class="steps-text run-step-text">
        <span class="steps-label">
          {title}
          {(s.agentId || who) && (
            <span class="muted">
              {" → "}
              {s.agentId ? <AgentName id={s.agentId} /> : who}
            </span>
          )}
        </span>
        {def && <span class="muted small">{stepSummary(def)}</span>}
        <span class="muted small run-step-times">
          {s.startedAt ? <>Started {dateTime(s.startedAt)}</> : "Not started"}
          {took && ` · took ${took}`}
          {s.status === "running" &&
            def?.awaits &&
            ` · waiting for ${messageTypeLabel(def.awaits).toLowerCase()}`}
        </span>
        {s.error && (
          <span class="steps-error" role={s.status === "failed" ? "alert" : undefined}>
            {s.error}
          </span>
        )}
        {s.messageId && (
          <Link href={`/messages/${encodeURIComponent(s.messageId)}`} class="small run-step-link">
            View message <IconArrowRight width="12" height="12" />
          </Link>
        )}
      </div>
      <StatusBadge status={s.status} />
    </li>
  );
}
