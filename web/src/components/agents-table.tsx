import type { ComponentChildren } from "preact";
import { agentCostLabel, MODEL_LABELS, THINKING_LABELS } from "../format";
import { Link } from "../router";
import type { Agent } from "../types";
import { QuotaBar } from "./quota-bar";
import { Badge, SkeletonRows, StatusBadge, TableMessage } from "./ui";

const COLS = 8;

export function AgentsTable({
  agents,
  loading,
  empty,
  linkAgents,
}: {
  agents: readonly Agent[] | undefined;
  loading: boolean;
  empty: ComponentChildren;
  /** Names link to the agent page (tenant users); operators see plain names. */
  linkAgents: boolean;
}) {
  return (
    <div class="table-wrap">
      <table class="table" data-testid="agents-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Model</th>
            <th scope="col">Thinking</th>
            <th scope="col">Status</th>
            <th scope="col">Monthly cost</th>
            <th scope="col">Tokens this month</th>
            <th scope="col">Quota</th>
          </tr>
        </thead>
        <tbody>
          {!agents && loading && <SkeletonRows cols={COLS} />}
          {agents && agents.length === 0 && <TableMessage cols={COLS}>{empty}</TableMessage>}
          {agents?.map((a) => (
            <tr key={a.id} data-testid={`agent-row-${a.name}`}>
              <td>
                {linkAgents ? (
                  <Link href={`/agents/${a.id}`} class="link-strong">
                    {a.name}
                  </Link>
                ) : (
                  <span class="link-strong">{a.name}</span>
                )}
              </td>
              <td class="muted">{a.role || "—"}</td>
              <td>{MODEL_LABELS[a.modelTier] ?? a.modelTier}</td>
              <td>{THINKING_LABELS[a.thinkingMode] ?? a.thinkingMode}</td>
              <td>
                <StatusBadge status={a.status} />
              </td>
              <td>
                {a.included ? (
                  <Badge tone="success" data-testid="agent-cost">
                    {agentCostLabel(a.included, a.costPerMonth)}
                  </Badge>
                ) : (
                  <span data-testid="agent-cost">{agentCostLabel(a.included, a.costPerMonth)}</span>
                )}
              </td>
              <td>
                <QuotaBar used={a.monthlyTokensUsed} quota={a.quota} state={a.quotaState} />
              </td>
              <td>
                <StatusBadge status={a.quotaState} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
