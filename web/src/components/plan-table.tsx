import { AGENT_FEE_USD, MODEL_TIERS } from "../../../worker/lib/pricing";
import { count, MODEL_LABELS, money, THINKING_LABELS } from "../format";
import type { PlanInfo, PlansResponse } from "../types";

export function maxAgentsLabel(n: number | null): string {
  return n === null ? "Unlimited" : count(n);
}

export function platformFeeLabel(p: PlanInfo): string {
  return p.customContract
    ? `${money(p.platformFeeUsd)}/mo default · per contract`
    : `${money(p.platformFeeUsd)}/mo`;
}

/** The plans side by side, with the per-agent fees underneath. */
export function PlanTable({ plans }: { plans: PlansResponse }) {
  const rows: Array<[string, (p: PlanInfo) => string]> = [
    ["Platform fee", platformFeeLabel],
    [
      "Included agents",
      (p) => (p.customContract ? `${count(p.includedAgents)} (per contract)` : count(p.includedAgents)),
    ],
    ["Max agents", (p) => maxAgentsLabel(p.maxAgents)],
    ["Models", (p) => p.models.map((m) => MODEL_LABELS[m] ?? m).join(", ")],
    ["Thinking modes", (p) => p.thinkingModes.map((m) => THINKING_LABELS[m] ?? m).join(", ")],
    ["Overage billing", (p) => (p.overageEligible ? "Opt-in" : "Not available")],
    ["Audit retention", (p) => `${p.auditRetentionDays} days`],
    ["Private skills", (p) => (p.privateSkills === null ? "Unlimited" : count(p.privateSkills))],
  ];
  const fees = MODEL_TIERS.map(
    (m) => `${MODEL_LABELS[m]} ${money(plans.agentFeesUsd[m] ?? AGENT_FEE_USD[m])}`,
  ).join(" · ");
  return (
    <div class="table-wrap">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">
              <span class="visually-hidden">Feature</span>
            </th>
            {plans.data.map((p) => (
              <th scope="col" key={p.tier}>
                {p.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, value]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              {plans.data.map((p) => (
                <td key={p.tier}>{value(p)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small table-foot">
        Agents beyond the included count, per month: {fees}. High thinking adds{" "}
        {money(plans.highThinkingSurchargeUsd)}/mo to any agent.
      </p>
    </div>
  );
}
