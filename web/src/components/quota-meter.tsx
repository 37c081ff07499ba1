import { QUOTA_THRESHOLDS } from "../../../worker/lib/pricing";
import { percent, tokens } from "../format";
import type { QuotaState } from "../types";

export const QUOTA_STATE_LABELS: Record<QuotaState, string> = {
  normal: "Normal",
  warning: "Warning",
  grace: "Grace",
  rate_limited: "Rate limited",
  paused: "Paused",
};

/** What each state means, for titles and the usage legend (../shared/pricing.md). */
export const QUOTA_STATE_TEXT: Record<QuotaState, string> = {
  normal: "Under 80% of the monthly quota.",
  warning: "80% or more of the monthly quota used.",
  grace: "Over the quota (100%+); the agent keeps working.",
  rate_limited: "120%+ of the quota: at most one model call every 10 seconds.",
  paused: "150%+ of the quota: model calls are refused until an admin acknowledges.",
};

export function quotaStateLabel(state: string): string {
  return (QUOTA_STATE_LABELS as Record<string, string>)[state] ?? state;
}

function stateClass(state: string): string {
  return state in QUOTA_STATE_LABELS ? state : "normal";
}

/** A quota state as a word in its own colour (one colour per state; the word carries the meaning). */
export function QuotaStateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span
      class={`badge qs-badge qs-${stateClass(state)}`}
      title={(QUOTA_STATE_TEXT as Record<string, string>)[state]}
      data-testid={testId}
      data-state={state}
    >
      <span class="qs-swatch" aria-hidden="true" />
      {quotaStateLabel(state)}
    </span>
  );
}

/** The thresholds marked on the meter: 80, 100, 120 and 150% of the quota. */
const MARKS = QUOTA_THRESHOLDS.map((t) => t.atLeast);
const MIN_SCALE = 1.6;
const MAX_SCALE = 2.5;

/**
 * Tokens used against the quota on a scale that reaches past 150%, so every threshold is visible;
 * the fill takes the colour of the quota state and the text beside it says the numbers.
 */
export function QuotaMeter({
  used,
  quota,
  state,
  label,
  detail,
}: {
  used: number;
  quota: number;
  state: QuotaState;
  /** Who the meter is for, read out by screen readers ("Researcher"). */
  label: string;
  /** Extra text for the tooltip (tokens by kind). */
  detail?: string;
}) {
  const share = quota > 0 ? used / quota : used > 0 ? Number.POSITIVE_INFINITY : 0;
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, Number.isFinite(share) ? share * 1.05 : MAX_SCALE));
  const fill = Math.min(1, share / scale);
  const text = `${tokens(used)} of ${tokens(quota)} tokens (${percent(share)}), ${quotaStateLabel(state)}`;
  return (
    <div class="qm" title={detail ? `${text}\n${detail}` : text}>
      <div
        class={`qm-track qs-${stateClass(state)}`}
        role="progressbar"
        aria-label={`${label}: monthly token quota`}
        aria-valuemin={0}
        aria-valuemax={Math.round(scale * 100)}
        aria-valuenow={Number.isFinite(share) ? Math.round(share * 100) : Math.round(scale * 100)}
        aria-valuetext={text}
      >
        <div class="qm-fill" style={{ width: `${fill * 100}%` }} />
        {MARKS.map((m) => (
          <span key={m} class="qm-mark" style={{ left: `${(m / scale) * 100}%` }} aria-hidden="true" />
        ))}
        {share > scale && <span class="qm-overflow" aria-hidden="true" title="Beyond the scale" />}
      </div>
      <div class="qm-scale" aria-hidden="true">
        {MARKS.map((m) => (
          <span key={m} class="qm-tick" style={{ left: `${(m / scale) * 100}%` }}>
            {percent(m)}
          </span>
        ))}
      </div>
    </div>
  );
}
