import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { DryRunResult } from "../components/dry-run-result";
import { FindingsList, PermissionDiffView, VersionStatusBadge } from "../components/skill-registry";
import {
  BusyButton,
  Card,
  DefinitionList,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
  Pagination,
  TableMessage,
} from "../components/ui";
import { dateTime, planLabel } from "../format";
import {
  decide,
  permissionSentences,
  REVIEW_FILTERS,
  type ReviewDecision,
  reviewDryRun,
  reviewItem,
  reviewQueue,
  startReview,
} from "../models/skill-registry";
import { showToast } from "../models/toasts";
import { Link, navigate, searchParams } from "../router";
import type { SkillReviewItem } from "../types";

const DEFAULT_FILTER = "pending_review,in_review";

export function SkillReviewPage() {
  const status = searchParams.value.get("status") ?? DEFAULT_FILTER;
  const page = Number(searchParams.value.get("page") ?? "1") || 1;

  useEffect(() => {
    void reviewQueue.load(status, page);
  }, [status, page]);

  const go = (s: string, p: number) => {
    const q = new URLSearchParams();
    if (s !== DEFAULT_FILTER) q.set("status", s);
    if (p > 1) q.set("page", String(p));
    const qs = q.toString();
    navigate(`/admin/skills/review${qs ? `?${qs}` : ""}`, { replace: true });
  };

  const data = reviewQueue.data.value;
  return (
    <>
      <PageHeader
        title="Skill review"
        subtitle="Private skills tenants have submitted. Nothing reaches a tenant's catalogue until it is approved here."
      />
      <div class="toolbar">
        <label for="review-status" class="field-label">
          Status
        </label>
        <select
          id="review-status"
          class="input input-auto"
          data-testid="review-status-filter"
          value={status}
          onChange={(e) => go(e.currentTarget.value, 1)}
        >
          {REVIEW_FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
      </div>
      <ErrorBanner error={reviewQueue.error.value} onRetry={() => void reviewQueue.load(status, page)} />
      {data && data.data.length === 0 ? (
        <EmptyState title="The review queue is empty">
          {status === DEFAULT_FILTER
            ? "No skill versions are waiting for review."
            : "No skill versions have this status."}
        </EmptyState>
      ) : (
        <div class="card card-flush table-wrap">
          <table class="table table-clickable" data-testid="review-queue">
            <thead>
              <tr>
                <th>Skill</th>
                <th>Version</th>
                <th>Tenant</th>
                <th>Status</th>
                <th>Permissions</th>
                <th>Submitted</th>
              </tr>
            </thead>
            <tbody>
              {!data && (
                <TableMessage cols={6}>
                  <Loading label="Loading the queue…" />
                </TableMessage>
              )}
              {data?.data.map((item) => (
                <tr key={item.id} data-testid={`review-row-${item.skill.name}`}>
                  <td>
                    <Link href={`/admin/skills/review/${item.id}`} class="link-strong">
                      {item.skill.displayName}
                    </Link>
                    <div class="muted small mono">{item.skill.name}</div>
                  </td>
                  <td class="mono">v{item.version}</td>
                  <td>
                    {item.tenant.name}
                    <div class="muted small">{planLabel(item.tenant.planTier)}</div>
                  </td>
                  <td>
                    <VersionStatusBadge status={item.status} />
                  </td>
                  <td class="small">
                    {item.permissionDiff.against === null
                      ? "First version"
                      : item.permissionDiff.changed
                        ? `Changed since v${item.permissionDiff.against}`
                        : "Unchanged"}
                  </td>
                  <td class="cell-nowrap small">{dateTime(item.submittedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data && (
        <Pagination
          page={data.meta.page}
          totalPages={data.meta.totalPages}
          total={data.meta.total}
          noun={data.meta.total === 1 ? "version" : "versions"}
          onPage={(p) => go(status, p)}
        />
      )}
    </>
  );
}

const DECISIONS: { value: ReviewDecision; label: string; tone: string; reasonRequired: boolean }[] = [
  { value: "approve", label: "Approve", tone: "btn btn-primary", reasonRequired: false },
  { value: "request-changes", label: "Request changes", tone: "btn", reasonRequired: true },
  { value: "reject", label: "Reject", tone: "btn btn-danger", reasonRequired: true },
];

function Decision({ item }: { item: SkillReviewItem }) {
  const reason = useSignal("");
  const reasonError = useSignal<string | null>(null);
  const busy = useSignal<ReviewDecision | "start" | null>(null);
  const error = useSignal<unknown>(null);
  const decidable = item.status === "pending_review" || item.status === "in_review";

  const act = async (d: ReviewDecision) => {
    const rule = DECISIONS.find((x) => x.value === d);
    if (rule?.reasonRequired && !reason.value.trim()) {
      reasonError.value = `A reason is required to ${rule.label.toLowerCase()}; the tenant sees it.`;
      document.getElementById("review-reason")?.focus();
      return;
    }
    busy.value = d;
    error.value = null;
    try {
      const next = await decide(item.id, d, reason.value);
      showToast(`${next.skill.displayName} v${next.version}: ${next.status.replace("_", " ")}`);
      reason.value = "";
    } catch (e) {
      error.value = e;
      const field = (e as { details?: Record<string, string[]> }).details?.reason;
      if (field?.length) reasonError.value = field.join(" ");
    } finally {
      busy.value = null;
    }
  };

  if (!decidable)
    return (
      <p class="small" data-testid="review-decided">
        Decided {dateTime(item.reviewedAt)}
        {item.reviewNote ? `: “${item.reviewNote}”` : "."}
      </p>
    );

  return (
    <div class="stack" data-testid="review-decision">
      {item.status === "pending_review" && (
        <div>
          <BusyButton
            busy={busy.value === "start"}
            busyLabel="Starting…"
            disabled={busy.value !== null}
            onClick={async () => {
              busy.value = "start";
              error.value = null;
              try {
                await startReview(item.id);
              } catch (e) {
                error.value = e;
              } finally {
                busy.value = null;
              }
            }}
          >
            Start review
          </BusyButton>
          <p class="field-hint">Marks the version as in review so other operators know you have it.</p>
        </div>
      )}
      <div class={`field${reasonError.value ? " field-invalid" : ""}`}>
        <label for="review-reason" class="field-label">
          Reason{" "}
          <span class="field-optional">(required to request changes or reject; the tenant sees it)</span>
        </label>
        <textarea
          id="review-reason"
          class="input textarea"
          rows={3}
          maxLength={2000}
          value={reason.value}
          aria-invalid={!!reasonError.value}
          aria-describedby={reasonError.value ? "review-reason-error" : undefined}
          onInput={(e) => {
            reason.value = e.currentTarget.value;
            if (reason.value.trim()) reasonError.value = null;
          }}
        />
        {reasonError.value && (
          <p class="field-error" id="review-reason-error" data-testid="field-error-review-reason">
            {reasonError.value}
          </p>
        )}
      </div>
      <div class="form-actions">
        {DECISIONS.map((d) => (
          <BusyButton
            key={d.value}
            class={d.tone}
            busy={busy.value === d.value}
            disabled={busy.value !== null}
            onClick={() => void act(d.value)}
          >
            {d.label}
          </BusyButton>
        ))}
      </div>
      <ErrorBanner error={error.value} />
    </div>
  );
}

function DryRunCard({ item }: { item: SkillReviewItem }) {
  const busy = useSignal(false);
  const error = useSignal<unknown>(null);
  return (
    <Card
      title="Dry run"
      data-testid="review-dry-run"
      actions={
        <BusyButton
          class="btn btn-sm"
          busy={busy.value}
          busyLabel="Running…"
          onClick={async () => {
            busy.value = true;
            error.value = null;
            try {
              await reviewDryRun(item.id);
            } catch (e) {
              error.value = e;
            } finally {
              busy.value = false;
            }
          }}
        >
          Run dry-run
        </BusyButton>
      }
    >
      <ErrorBanner error={error.value} title="The dry-run did not run" />
      <DryRunResult
        run={item.dryRun}
        empty="Runs the version's own tests in a sandbox that allows only what its manifest declares; the tenant can run it too."
      />
    </Card>
  );
}

export function SkillReviewItemPage({ id }: { id: string }) {
  useEffect(() => {
    reviewItem.reset();
    void reviewItem.load(id);
  }, [id]);
  const item = reviewItem.data.value;
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumb">
        <Link href="/admin/skills/review">Skill review</Link>
      </nav>
      <ErrorBanner error={reviewItem.error.value} onRetry={() => void reviewItem.load(id)} />
      {!item && reviewItem.loading.value && <Loading label="Loading the version…" />}
      {item && (
        <>
          <PageHeader
            title={
              <span class="title-with-badge">
                {item.skill.displayName} v{item.version}{" "}
                <VersionStatusBadge status={item.status} testId="review-status" />
              </span>
            }
            subtitle={
              <>
                <code class="mono">{item.skill.name}</code> from {item.tenant.name} (
                {planLabel(item.tenant.planTier)})
              </>
            }
          />
          <div class="stack">
            <Card title="Decision">
              <div>
                <Decision key={`${item.id}-${item.status}`} item={item} />
              </div>
            </Card>
            <div class="review">
              <section class="review-section" data-testid="review-permissions">
                <div class="review-head">
                  <h3>What it may do</h3>
                </div>
                <ul class="permission-list">
                  {permissionSentences(item.manifest).map((s) => (
                    <li key={s}>{s}</li>
                  ))}
                </ul>
              </section>
              <section class="review-section">
                <div class="review-head">
                  <h3>Permission changes</h3>
                </div>
                <PermissionDiffView diff={item.permissionDiff} testId="review-permission-diff" />
              </section>
            </div>
            <Card title="Static analysis">
              <div>
                <FindingsList findings={item.findings} testId="review-findings" />
              </div>
            </Card>
            <DryRunCard item={item} />
            <Card title="Package">
              <div>
                <DefinitionList
                  items={[
                    ["SHA-256", <code class="mono small">{item.sha256 ?? "—"}</code>],
                    ["Size", item.sizeBytes === null ? "—" : `${item.sizeBytes} bytes`],
                    ["Uploaded", dateTime(item.createdAt)],
                    ["Submitted", dateTime(item.submittedAt)],
                    ["Description", String(item.manifest.description ?? "")],
                  ]}
                />
              </div>
            </Card>
          </div>
        </>
      )}
    </>
  );
}
