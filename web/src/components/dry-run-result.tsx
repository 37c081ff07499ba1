import type { ComponentChildren } from "preact";
import { count, dateTime, relative } from "../format";
import type { SkillDryRun, SkillDryRunResult } from "../types";
import { Badge, Banner, EmptyState, type Tone } from "./ui";

function verdict(r: SkillDryRunResult): { label: string; tone: Tone } {
  if (r.limit) return { label: `Stopped at the ${r.limit} limit`, tone: "danger" };
  return r.passed ? { label: "Passed", tone: "success" } : { label: "Failed", tone: "danger" };
}

/**
 * A version's dry-run as the sandbox saw it: the verdict, the permissions the tests used (allowed or
 * refused) and their TAP output. Shared by the tenant's private skills page and the operator's review.
 */
export function DryRunResult({
  run,
  empty,
  testId = "dry-run-result",
}: {
  run: SkillDryRun | null;
  /** What the empty state says beyond "Not run yet". */
  empty?: ComponentChildren;
  testId?: string;
}) {
  if (!run)
    return (
      <div data-testid={testId} data-state="empty">
        <EmptyState title="Not run yet">{empty}</EmptyState>
      </div>
    );
  const { result, at } = run;
  const v = verdict(result);
  const { total, passed } = result.tests;
  return (
    <div class="dry-run" data-testid={testId} data-state={result.passed ? "passed" : "failed"}>
      <p class="dry-run-verdict">
        <Badge tone={v.tone} data-testid="dry-run-verdict">
          <span class="badge-dot" aria-hidden="true" />
          {v.label}
        </Badge>
        <span class="muted small" data-testid="dry-run-summary">
          {`${count(passed)}/${count(total)} ${total === 1 ? "test" : "tests"} passed · ${count(result.durationMs)} ms · `}
          <time dateTime={at} title={dateTime(at)}>
            {relative(at)}
          </time>
        </span>
      </p>
      {result.error && <Banner tone="warning">{result.error}</Banner>}
      <div>
        <h4 class="dry-run-label">Permissions used</h4>
        {result.permissionsUsed.length === 0 ? (
          <p class="muted small" data-testid="dry-run-permissions">
            None
          </p>
        ) : (
          <ul class="checklist" data-testid="dry-run-permissions">
            {result.permissionsUsed.map((u) => (
              <li key={`${u.kind}:${u.target}`} class={u.allowed ? "check-pass" : "check-fail"}>
                <span aria-hidden="true">{u.allowed ? "✓" : "✗"}</span>
                <span class="visually-hidden">{u.allowed ? "Allowed: " : "Refused: "}</span>
                <Badge tone="neutral">{u.kind}</Badge> <code class="mono">{u.target}</code>{" "}
                <span class="muted small">{count(u.count)}×</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div>
        <h4 class="dry-run-label">Test output (TAP)</h4>
        <pre class="dry-run-output" data-testid="dry-run-output">
          {result.output || "(no output)"}
        </pre>
      </div>
    </div>
  );
}
