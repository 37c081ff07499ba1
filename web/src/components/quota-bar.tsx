import { tokens } from "../format";
import type { QuotaState } from "../types";

const TONE: Record<QuotaState, string> = {
  normal: "ok",
  warning: "warn",
  grace: "warn",
  rate_limited: "bad",
  paused: "bad",
};

/** Tokens used against the monthly quota; the bar caps at 100% but the label tells the truth. */
export function QuotaBar({ used, quota, state }: { used: number; quota: number; state: QuotaState }) {
  const pct = quota > 0 ? (used / quota) * 100 : used > 0 ? 100 : 0;
  const label = `${tokens(used)} / ${tokens(quota)} tokens (${Math.round(pct)}%)`;
  return (
    <div class="quota" title={label}>
      <div
        class={`quota-track quota-${TONE[state] ?? "ok"}`}
        role="progressbar"
        aria-label="Monthly token quota used"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(100, Math.round(pct))}
        aria-valuetext={label}
      >
        <div class="quota-fill" style={{ width: `${Math.min(100, pct)}%` }} />
      </div>
      <span class="quota-text">
        {tokens(used)} / {tokens(quota)}
      </span>
    </div>
  );
}
