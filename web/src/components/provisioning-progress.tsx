import type { ComponentChildren } from "preact";
import { humanize } from "../format";
import type { ProvisioningWatcher } from "../models/tenants";
import type { ProvisioningStep } from "../types";
import { IconAlert, IconCheck, IconCircle, IconX } from "./icons";
import { Banner, BusyButton, ErrorBanner, StatusBadge } from "./ui";

function StepIcon({ status }: { status: ProvisioningStep["status"] }) {
  if (status === "completed") return <IconCheck class="step-icon step-icon-completed" />;
  if (status === "failed") return <IconX class="step-icon step-icon-failed" />;
  if (status === "running") return <span class="spinner-ring step-icon" aria-hidden="true" />;
  return <IconCircle class="step-icon step-icon-pending" />;
}

/** The live step list of a tenant's provisioning, with Retry on failure and a slot for "ready". */
export function ProvisioningProgress({
  watcher,
  ready,
}: {
  watcher: ProvisioningWatcher;
  /** Shown once provisioning has completed. */
  ready?: ComponentChildren;
}) {
  const p = watcher.provisioning.value;
  if (!p) return <p class="muted">No provisioning record for this tenant.</p>;
  const failedStep = p.steps.find((s) => s.status === "failed");
  const live = p.status === "pending" || p.status === "running";

  return (
    <div class="provisioning" data-testid="provisioning">
      <div class="provisioning-head">
        <span class="provisioning-title">
          {live
            ? "Provisioning in progress…"
            : p.status === "completed"
              ? "Provisioning complete"
              : "Provisioning"}
        </span>
        <StatusBadge status={p.status} testId="provisioning-status" />
        {p.attempts !== undefined && p.attempts > 1 && <span class="muted small">Attempt {p.attempts}</span>}
      </div>
      {p.steps.length === 0 && <p class="muted">Waiting for the provisioning job to report its steps…</p>}
      <ol class="steps-list" aria-live="polite" hidden={p.steps.length === 0}>
        {p.steps.map((step) => (
          <li
            key={step.name}
            class={`steps-item steps-${step.status}`}
            data-testid={`provisioning-step-${step.name}`}
            data-status={step.status}
          >
            <StepIcon status={step.status} />
            <div class="steps-text">
              <span class="steps-label">{step.label ?? humanize(step.name)}</span>
              {step.status === "failed" && step.error && (
                <span class="steps-error" data-testid="provisioning-step-error">
                  {step.error}
                </span>
              )}
            </div>
            <StatusBadge status={step.status} />
          </li>
        ))}
      </ol>
      {watcher.pollError.value && live && (
        <Banner tone="warning">
          <span>
            <IconAlert /> Could not refresh progress ({watcher.pollError.value}). Still trying…
          </span>
        </Banner>
      )}
      {p.status === "failed" && (
        <div class="banner banner-danger" role="alert">
          <IconAlert class="banner-icon" />
          <div class="banner-body">
            <strong>
              Provisioning failed{failedStep ? ` at “${failedStep.label ?? humanize(failedStep.name)}”` : ""}
            </strong>
            <span>
              {failedStep?.error ?? "The provisioning job stopped. Retry resumes from the failed step."}
            </span>
          </div>
          <BusyButton
            busy={watcher.retrying}
            busyLabel="Retrying…"
            class="btn btn-sm btn-primary"
            onClick={() => void watcher.retry()}
          >
            Retry
          </BusyButton>
        </div>
      )}
      <ErrorBanner error={watcher.retryError.value} title="Retry failed" />
      {p.status === "completed" && ready}
    </div>
  );
}
