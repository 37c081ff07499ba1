import { useEffect } from "preact/hooks";
import { agentsNeedingAttention, billingOverview } from "../models/billing";
import { Link } from "../router";
import { IconAlert } from "./icons";
import { quotaStateLabel } from "./quota-meter";

/**
 * A one-line notice, for any tenant page, when an agent is at 80% of its token quota or beyond. It
 * reads the billing overview (fetched again on mount) and stays silent when that cannot be read: the
 * Billing page is where its errors show.
 */
export function QuotaBanner() {
  useEffect(() => {
    void billingOverview.load();
  }, []);
  const agents = agentsNeedingAttention.value;
  if (agents.length === 0) return null;
  const worst = agents[0]?.quotaState ?? "warning";
  const tone = worst === "rate_limited" || worst === "paused" ? "danger" : "warning";
  const shown = agents.slice(0, 3);
  const more = agents.length - shown.length;
  return (
    <div class={`banner banner-${tone}`} role="status" data-testid="quota-banner">
      <IconAlert class="banner-icon" />
      <div class="banner-body">
        <strong>
          {agents.length === 1
            ? "1 agent is near or over its token quota"
            : `${agents.length} agents are near or over their token quota`}
        </strong>
        <span>
          {shown.map((a, i) => (
            <span key={a.agentId}>
              {i > 0 && ", "}
              {a.name} ({quotaStateLabel(a.quotaState).toLowerCase()})
            </span>
          ))}
          {more > 0 && ` and ${more} more`}.
        </span>
      </div>
      <Link href="/billing" class="btn btn-sm">
        View billing
      </Link>
    </div>
  );
}
