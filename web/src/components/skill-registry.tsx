import { humanize } from "../format";
import { PERMISSION_KINDS, permissionKindLabel } from "../models/skill-registry";
import type { SkillChecklistItem, SkillFinding, SkillPermissionDiff, SkillVersionStatus } from "../types";
import { Badge, type Tone } from "./ui";

const VERSION_TONES: Record<SkillVersionStatus, Tone> = {
  draft: "neutral",
  pending_review: "info",
  in_review: "brand",
  approved: "success",
  rejected: "danger",
  changes_requested: "warning",
};

export function VersionStatusBadge({ status, testId }: { status: SkillVersionStatus; testId?: string }) {
  return (
    <Badge tone={VERSION_TONES[status]} data-testid={testId} data-status={status}>
      <span class="badge-dot" aria-hidden="true" />
      {humanize(status)}
    </Badge>
  );
}

const SEVERITY_TONES: Record<SkillFinding["severity"], Tone> = {
  error: "danger",
  warning: "warning",
  info: "info",
};

/** Static-analysis findings with their file:line, errors first. */
export function FindingsList({ findings, testId }: { findings: SkillFinding[]; testId?: string }) {
  if (!findings.length)
    return (
      <p class="muted small" data-testid={testId}>
        No findings.
      </p>
    );
  const order = { error: 0, warning: 1, info: 2 };
  const sorted = [...findings].sort((a, b) => order[a.severity] - order[b.severity]);
  return (
    <ul class="finding-list" data-testid={testId}>
      {sorted.map((f, i) => (
        <li key={`${f.rule}-${i}`} class="finding">
          <Badge tone={SEVERITY_TONES[f.severity]}>{f.severity}</Badge>
          {f.file && (
            <code class="mono finding-where">
              {f.file}
              {f.line !== undefined ? `:${f.line}` : ""}
            </code>
          )}
          <code class="mono muted small">{f.rule}</code>
          <span>{f.message}</span>
        </li>
      ))}
    </ul>
  );
}

export function Checklist({ items }: { items: SkillChecklistItem[] }) {
  return (
    <ul class="checklist" data-testid="security-checklist">
      {items.map((c) => (
        <li key={c.control} class={c.passed ? "check-pass" : "check-fail"}>
          <span aria-hidden="true">{c.passed ? "✓" : "✗"}</span>
          <span class="visually-hidden">{c.passed ? "Passed: " : "Failed: "}</span>
          <strong>{c.control}</strong> <span class="muted small">{c.detail}</span>
        </li>
      ))}
    </ul>
  );
}

/** What a version may do beyond (green +) or no longer (red −) compared with the last approved one. */
export function PermissionDiffView({ diff, testId }: { diff: SkillPermissionDiff; testId?: string }) {
  const rows = PERMISSION_KINDS.filter((k) => diff.added[k].length || diff.removed[k].length);
  const gateway = diff.modelGateway && diff.modelGateway.before !== diff.modelGateway.after;
  return (
    <div class="perm-diff" data-testid={testId}>
      <p class="muted small">
        {diff.against ? `Compared with approved v${diff.against}.` : "No approved version before this one."}
      </p>
      {!diff.changed && !rows.length && !gateway ? (
        <p class="small">No permission changes.</p>
      ) : (
        <dl class="perm-diff-list">
          {rows.map((k) => (
            <div key={k}>
              <dt>{permissionKindLabel(k)}</dt>
              <dd>
                <ul>
                  {diff.added[k].map((v) => (
                    <li key={`+${v}`} class="perm-added" data-testid="perm-added">
                      <span aria-hidden="true">+</span>
                      <span class="visually-hidden">Added: </span> <code class="mono">{v}</code>
                    </li>
                  ))}
                  {diff.removed[k].map((v) => (
                    <li key={`-${v}`} class="perm-removed" data-testid="perm-removed">
                      <span aria-hidden="true">−</span>
                      <span class="visually-hidden">Removed: </span> <code class="mono">{v}</code>
                    </li>
                  ))}
                </ul>
              </dd>
            </div>
          ))}
          {gateway && diff.modelGateway && (
            <div>
              <dt>Model gateway</dt>
              <dd>
                <ul>
                  <li class={diff.modelGateway.after ? "perm-added" : "perm-removed"}>
                    <span aria-hidden="true">{diff.modelGateway.after ? "+" : "−"}</span>{" "}
                    {diff.modelGateway.after ? "May call models" : "No longer calls models"}
                  </li>
                </ul>
              </dd>
            </div>
          )}
        </dl>
      )}
    </div>
  );
}
