import { useSignal } from "@preact/signals";
import { useEffect, useId } from "preact/hooks";
import { ACKNOWLEDGED_CEILING, MODEL_TIERS } from "../../../worker/lib/pricing";
import { ApiError, errorMessage } from "../api";
import { ConfirmDialog } from "../components/dialog";
import { IconAlert, IconChevronRight } from "../components/icons";
import { FeedIndicator } from "../components/live";
import {
  QUOTA_STATE_LABELS,
  QUOTA_STATE_TEXT,
  QuotaMeter,
  QuotaStateBadge,
  quotaStateLabel,
} from "../components/quota-meter";
import {
  Badge,
  BusyButton,
  Card,
  DefinitionList,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
  Refreshing,
  SkeletonRows,
  TableMessage,
  type Tone,
} from "../components/ui";
import { isUsageEmpty, USAGE_SERIES, UsageChart } from "../components/usage-chart";
import {
  count,
  date,
  MODEL_LABELS,
  money,
  monthLabel,
  percent,
  planLabel,
  THINKING_LABELS,
  tokens,
} from "../format";
import {
  acknowledgeQuota,
  billingOverview,
  billingUsage,
  currentUtcMonth,
  isMonth,
  overageSettings,
  recentMonths,
  setOverage,
} from "../models/billing";
import { useFeed } from "../models/feed";
import { canWrite } from "../models/session";
import { showToast } from "../models/toasts";
import { Link, navigate, searchParams } from "../router";
import type {
  AgentUsage,
  BillingAgentLine,
  BillingOverview,
  BillingStatus,
  ModelTier,
  OverageSettings,
  QuotaState,
} from "../types";

const STATUS: Record<BillingStatus, { label: string; tone: Tone; hint: string }> = {
  none: {
    label: "Not set up",
    tone: "neutral",
    hint: "No subscription has been started for this workspace yet.",
  },
  active: { label: "Active", tone: "success", hint: "Your payment method is charged on the billing date." },
  past_due: { label: "Payment failed", tone: "danger", hint: "The last charge failed." },
};

function selectMonth(month: string, current: string): void {
  navigate(month === current ? "/billing" : `/billing?month=${encodeURIComponent(month)}`);
}

export function BillingPage() {
  const requested = searchParams.value.get("month") ?? "";
  const overview = billingOverview.data.value;
  const current = overview?.month ?? currentUtcMonth();
  const month = requested || current;

  useEffect(() => {
    void billingOverview.load();
    void overageSettings.load();
  }, []);

  useEffect(() => {
    void billingUsage.load(month);
  }, [month]);

  // Usage counted (every aggregated batch) or a quota threshold crossed: the bill and this month's
  // usage have moved. Usage events can come several a second; a load already running covers them.
  useFeed((e) => {
    if (e.event === "usage") {
      if (!billingOverview.loading.value) void billingOverview.load();
      if (month === current && !billingUsage.loading.value) void billingUsage.load(month);
      return;
    }
    if (e.event !== "quota") return;
    void billingOverview.load();
    if (month === current) void billingUsage.load(month);
    showToast(
      `${e.name} is now ${quotaStateLabel(e.state).toLowerCase()} (${tokens(e.usedTokens)} of ${tokens(e.quota)} tokens)`,
      "info",
    );
  });

  return (
    <>
      <PageHeader
        title="Billing"
        subtitle="Your plan, this month's bill so far, and how many tokens each agent uses."
        actions={
          <>
            {overview && billingOverview.loading.value && <Refreshing />}
            <FeedIndicator />
          </>
        }
      />
      {overview?.billingStatus === "past_due" && (
        <div class="banner banner-danger" role="alert" data-testid="billing-past-due">
          <IconAlert class="banner-icon" />
          <div class="banner-body">
            <strong>Payment failed — update your payment method</strong>
            <span>
              We could not charge your last invoice.{" "}
              {canWrite.value
                ? "Update the card on file so the invoice can be paid."
                : "Ask a tenant admin to update the card on file."}
            </span>
          </div>
        </div>
      )}
      {overview && <QuotaAlerts overview={overview} />}
      <ErrorBanner
        title="The bill could not be loaded"
        error={billingOverview.error.value}
        onRetry={() => void billingOverview.load()}
      />
      {!overview && billingOverview.loading.value && <Loading label="Loading your bill…" />}
      {overview && (
        <>
          <div class="grid-2">
            <PlanCard overview={overview} />
            <OverageCard overview={overview} />
          </div>
          <CostBreakdown overview={overview} />
        </>
      )}
      <UsageSection month={month} current={current} />
    </>
  );
}

/** Paused and rate-limited agents, at the top where they cannot be missed. */
function QuotaAlerts({ overview }: { overview: BillingOverview }) {
  const blocked = overview.agents.filter((a) => a.quotaState === "paused" || a.quotaState === "rate_limited");
  if (blocked.length === 0) return null;
  const overage = overview.plan.overageEnabled;
  const anyPaused = blocked.some((a) => a.quotaState === "paused");
  return (
    <div
      class={`banner ${overage ? "banner-warning" : "banner-danger"} quota-alerts`}
      role="alert"
      data-testid="quota-alerts"
    >
      <IconAlert class="banner-icon" />
      <div class="banner-body">
        <strong>
          {overage
            ? "Agents over their quota, billed at overage rates"
            : anyPaused
              ? "Agents are paused or slowed down for exceeding their token quota"
              : "Agents are slowed down for exceeding their token quota"}
        </strong>
        <span>
          {overage
            ? "Overage billing is on, so these agents keep working; their usage beyond 100% is billed at the overage rates."
            : `A rate-limited agent may make one model call every 10 seconds. A paused agent's model calls are refused until a tenant admin acknowledges it, which lets it continue up to ${percent(ACKNOWLEDGED_CEILING)} of its quota this month.`}
        </span>
        <ul class="quota-alert-list">
          {blocked.map((a) => (
            <QuotaAlertItem key={a.agentId} agent={a} overage={overage} />
          ))}
        </ul>
        {!canWrite.value && anyPaused && !overage && (
          <span class="small">Only a tenant admin can acknowledge a paused agent.</span>
        )}
      </div>
    </div>
  );
}

function QuotaAlertItem({ agent, overage }: { agent: BillingAgentLine; overage: boolean }) {
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const share = agent.quota > 0 ? agent.monthlyTokensUsed / agent.quota : Number.POSITIVE_INFINITY;

  async function acknowledge() {
    busy.value = true;
    error.value = null;
    try {
      await acknowledgeQuota(agent.agentId);
      showToast(`${agent.name} may continue up to ${percent(ACKNOWLEDGED_CEILING)} of its quota this month`);
      void billingOverview.load();
    } catch (e) {
      error.value = errorMessage(e);
      // Someone else acknowledged it, or usage was reset: show what is true now.
      if (e instanceof ApiError && e.code === "not_paused") void billingOverview.load();
    } finally {
      busy.value = false;
    }
  }

  return (
    <li class="quota-alert-item" data-testid={`quota-alert-${agent.name}`}>
      <Link href={`/agents/${encodeURIComponent(agent.agentId)}`} class="link-strong">
        {agent.name}
      </Link>
      <QuotaStateBadge state={agent.quotaState} />
      <span class="small">
        {percent(share)} of its quota ({tokens(agent.monthlyTokensUsed)} of {tokens(agent.quota)} tokens)
      </span>
      {agent.quotaState === "paused" && !overage && canWrite.value && (
        <BusyButton
          class="btn btn-sm"
          busy={busy}
          busyLabel="Resuming…"
          onClick={() => void acknowledge()}
          data-testid={`acknowledge-${agent.name}`}
        >
          Acknowledge and resume
        </BusyButton>
      )}
      {error.value && (
        <span class="text-danger small" role="alert">
          {error.value}
        </span>
      )}
    </li>
  );
}

function PlanCard({ overview }: { overview: BillingOverview }) {
  const { plan } = overview;
  const status = STATUS[overview.billingStatus] ?? STATUS.none;
  const includedInUse = overview.agents.filter((a) => a.included).length;
  return (
    <Card
      title="Plan"
      actions={
        <Badge tone="brand" data-testid="plan-tier" data-tier={plan.tier}>
          {planLabel(plan.tier)}
        </Badge>
      }
      data-testid="billing-plan"
    >
      <DefinitionList
        items={[
          ["Plan", <span data-testid="plan-name">{planLabel(plan.tier)}</span>],
          ["Platform fee", <span data-testid="plan-platform-fee">{money(plan.platformFeeUsd)}/mo</span>],
          [
            "Included agents",
            <span data-testid="plan-included-agents">
              {count(plan.includedAgents)}{" "}
              <span class="muted">({count(includedInUse)} in use, billed at $0)</span>
            </span>,
          ],
          ["Agent limit", plan.maxAgents === null ? "Unlimited" : count(plan.maxAgents)],
          [
            "Billing status",
            <span title={status.hint}>
              <Badge tone={status.tone} data-testid="billing-status" data-status={overview.billingStatus}>
                <span class="badge-dot" aria-hidden="true" />
                {status.label}
              </Badge>
            </span>,
          ],
          [
            "Next billing date",
            <span data-testid="next-billing-date">{date(overview.nextBillingDate)}</span>,
          ],
        ]}
      />
      {overview.billingStatus === "none" && <p class="muted small">{status.hint}</p>}
    </Card>
  );
}

function RatesTable({ rates, testId }: { rates: OverageSettings["rates"]; testId?: string }) {
  const tiers = MODEL_TIERS.filter((m): m is ModelTier => rates[m] !== undefined);
  return (
    <div class="table-wrap">
      <table class="table table-dense" data-testid={testId}>
        <caption class="visually-hidden">Overage rates in US dollars per million tokens</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" class="num">
              Input / 1M tokens
            </th>
            <th scope="col" class="num">
              Output / 1M tokens
            </th>
          </tr>
        </thead>
        <tbody>
          {tiers.map((m) => (
            <tr key={m} data-testid={`rate-${m}`}>
              <th scope="row">{MODEL_LABELS[m]}</th>
              <td class="num">{money(rates[m].input)}</td>
              <td class="num">{money(rates[m].output)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small table-foot">Thinking tokens are billed as output.</p>
    </div>
  );
}

function OverageCard({ overview }: { overview: BillingOverview }) {
  const settings = overageSettings.data.value;
  const enabled = settings?.enabled ?? overview.plan.overageEnabled;
  const eligible = settings?.eligible ?? overview.plan.overageEligible;
  const confirming = useSignal<boolean | null>(null);
  const busy = useSignal(false);
  const error = useSignal<unknown>(null);
  const reasonId = useId();

  async function confirm(next: boolean) {
    busy.value = true;
    error.value = null;
    try {
      await setOverage(next);
      confirming.value = null;
      showToast(next ? "Overage billing is on" : "Overage billing is off");
    } catch (e) {
      error.value = e;
    } finally {
      busy.value = false;
    }
  }

  return (
    <Card title="Overage billing" data-testid="overage-card">
      <p class="muted small">
        Without overage, an agent past 120% of its monthly token quota is rate limited and past 150% is
        paused. With overage on, it keeps working and tokens beyond 100% of its quota are billed at the rates
        below.
      </p>
      <div class="overage-status">
        {canWrite.value ? (
          <button
            type="button"
            class="switch"
            role="switch"
            aria-checked={enabled}
            aria-describedby={eligible ? undefined : reasonId}
            disabled={!eligible || !settings}
            data-testid="overage-toggle"
            onClick={() => {
              error.value = null;
              confirming.value = !enabled;
            }}
          >
            <span class="switch-track" aria-hidden="true">
              <span class="switch-thumb" />
            </span>
            <span>Overage billing</span>
          </button>
        ) : (
          <span>Overage billing</span>
        )}
        <Badge tone={enabled ? "info" : "neutral"} data-testid="overage-state">
          {enabled ? "On" : "Off"}
        </Badge>
      </div>
      {!eligible && (
        <p class="field-hint" id={reasonId} data-testid="overage-ineligible">
          Available on Growth and Enterprise. Your {planLabel(overview.plan.tier)} plan pauses agents at 150%
          of their quota instead.
        </p>
      )}
      {!canWrite.value && eligible && <p class="muted small">Only a tenant admin can change this.</p>}
      <ErrorBanner error={overageSettings.error.value} onRetry={() => void overageSettings.load()} />
      {!settings && overageSettings.loading.value && <Loading label="Loading overage rates…" />}
      {settings && <RatesTable rates={settings.rates} testId="overage-rates" />}
      {settings && (
        <ConfirmDialog
          open={confirming.value !== null}
          title={confirming.value ? "Turn on overage billing?" : "Turn off overage billing?"}
          confirmLabel={confirming.value ? "Turn on overage billing" : "Turn off overage billing"}
          busyLabel="Saving…"
          danger={confirming.value === false}
          busy={busy.value}
          error={error.value}
          onCancel={() => {
            confirming.value = null;
            error.value = null;
          }}
          onConfirm={() => void confirm(confirming.value === true)}
          testId="overage-confirm"
        >
          {confirming.value ? (
            <>
              <p>
                Tokens an agent uses beyond 100% of its monthly quota will be billed at these rates and added
                to your next invoice:
              </p>
              <RatesTable rates={settings.rates} testId="overage-confirm-rates" />
              <p>
                Agents past 120% of their quota are then no longer rate limited, and agents past 150% are no
                longer paused: you are notified instead. You can turn overage off at any time; overage already
                used this month stays on the bill.
              </p>
            </>
          ) : (
            <p>
              Agents past 120% of their quota will be rate limited again (one model call every 10 seconds),
              and past 150% paused until a tenant admin acknowledges them. Overage already used this month
              stays on the bill.
            </p>
          )}
        </ConfirmDialog>
      )}
    </Card>
  );
}

function CostBreakdown({ overview }: { overview: BillingOverview }) {
  const { totals, projection, plan } = overview;
  const COLS = 5;
  return (
    <Card
      title={`Cost breakdown, ${monthLabel(overview.month)}`}
      class="card-flush"
      data-testid="cost-breakdown"
    >
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Model</th>
              <th scope="col">Agent fee</th>
              <th scope="col">Thinking surcharge</th>
              <th scope="col" class="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            <tr data-testid="cost-platform-fee">
              <td class="link-strong">Platform fee</td>
              <td class="muted">{planLabel(plan.tier)} plan</td>
              <td />
              <td />
              <td class="num">{money(totals.platformFeeUsd)}</td>
            </tr>
            {overview.agents.map((a) => (
              <tr key={a.agentId} data-testid={`cost-agent-${a.name}`}>
                <td>
                  <Link href={`/agents/${encodeURIComponent(a.agentId)}`} class="link-strong">
                    {a.name}
                  </Link>
                </td>
                <td>
                  {MODEL_LABELS[a.modelTier] ?? a.modelTier}
                  <span class="muted">
                    {" "}
                    · thinking {THINKING_LABELS[a.thinkingMode]?.toLowerCase() ?? a.thinkingMode}
                  </span>
                </td>
                <td>{a.included ? <Badge tone="success">Included</Badge> : `${money(a.feeUsd)}/mo`}</td>
                <td>
                  {a.thinkingSurchargeUsd > 0 ? (
                    `+${money(a.thinkingSurchargeUsd)}/mo`
                  ) : (
                    <span class="faint">—</span>
                  )}
                </td>
                <td class="num">{money(a.feeUsd + a.thinkingSurchargeUsd)}</td>
              </tr>
            ))}
            {overview.agents.length === 0 && (
              <TableMessage cols={COLS}>
                <EmptyState title="No agents yet">
                  Only the platform fee is billed until you create agents.
                </EmptyState>
              </TableMessage>
            )}
          </tbody>
          <tfoot>
            <tr class="cost-first">
              <th scope="row" colSpan={COLS - 1} class="cost-cell">
                Agent fees
              </th>
              <td class="num cost-cell">{money(totals.agentFeesUsd)}</td>
            </tr>
            <tr>
              <th scope="row" colSpan={COLS - 1} class="cost-cell">
                Thinking surcharges
              </th>
              <td class="num cost-cell">{money(totals.thinkingSurchargesUsd)}</td>
            </tr>
            <tr data-testid="cost-overage">
              <th scope="row" colSpan={COLS - 1} class="cost-cell">
                Overage so far
                {!plan.overageEnabled && <span class="muted"> (overage billing is off)</span>}
              </th>
              <td class="num cost-cell">{money(totals.overageUsd)}</td>
            </tr>
            <tr class="cost-subtotal" data-testid="cost-subtotal">
              <th scope="row" colSpan={COLS - 1} class="cost-cell">
                Subtotal so far
              </th>
              <td class="num cost-cell">{money(totals.subtotalUsd)}</td>
            </tr>
            <tr class="cost-projection" data-testid="cost-projection">
              <th scope="row" colSpan={COLS - 1} class="cost-cell">
                Projected for {monthLabel(overview.month)}
                <span class="muted">
                  {" "}
                  — {projection.basis}
                  {projection.overageUsd > 0 ? `, including ${money(projection.overageUsd)} overage` : ""}
                </span>
              </th>
              <td class="num cost-cell">{money(projection.subtotalUsd)}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </Card>
  );
}

function UsageSection({ month, current }: { month: string; current: string }) {
  const loaded = billingUsage.data.value;
  const usage = loaded && loaded.month === month ? loaded.usage : undefined;
  const loading = billingUsage.loading.value;
  const error = billingUsage.error.value;
  const label = isMonth(month) ? monthLabel(month) : `“${month}”`;
  const months = recentMonths(current, 12);
  const options = months.includes(month) || !isMonth(month) ? months : [month, ...months];

  return (
    <section class="billing-usage" aria-labelledby="billing-usage-title">
      <div class="section-head">
        <h2 id="billing-usage-title" class="section-title">
          Usage
        </h2>
        <div class="filter-field">
          <label for="billing-month" class="filter-label">
            Month
          </label>
          <select
            id="billing-month"
            class="input input-sm"
            value={options.includes(month) ? month : current}
            data-testid="month-picker"
            onChange={(e) => selectMonth(e.currentTarget.value, current)}
          >
            {options.map((m) => (
              <option key={m} value={m}>
                {monthLabel(m)}
                {m === current ? " (this month)" : ""}
              </option>
            ))}
          </select>
        </div>
        {usage && loading && <Refreshing />}
      </div>
      <ErrorBanner
        title={`Usage for ${label} could not be loaded`}
        error={error}
        {...(isMonth(month) ? { onRetry: () => void billingUsage.load(month) } : {})}
      />
      {error && !isMonth(month) && (
        <p>
          <Link href="/billing">Show {monthLabel(current)} instead</Link>
        </p>
      )}
      {(usage || loading || !error) && (
        <>
          <Card title="Tokens by agent" class="card-flush" data-testid="usage-agents">
            <AgentUsageTable agents={usage?.agents} loading={!usage && loading} month={month} />
          </Card>
          <Card title={`Tokens per day, ${label}`} data-testid="billing-daily">
            {!usage && loading && <Loading label="Loading daily usage…" />}
            {usage && isUsageEmpty(usage.daily) && (
              <EmptyState title={`No usage in ${label}`}>
                Model calls your agents make through the gateway are counted here, day by day (UTC).
              </EmptyState>
            )}
            {usage && !isUsageEmpty(usage.daily) && <UsageChart month={month} daily={usage.daily} />}
          </Card>
        </>
      )}
    </section>
  );
}

function kindsText(a: AgentUsage): string {
  return `${USAGE_SERIES.map((s) => `${s.label} ${count(a[s.key])}`).join(" · ")} · Cache writes ${count(a.cacheWriteTokens)}`;
}

function AgentUsageTable({
  agents,
  loading,
  month,
}: {
  agents: AgentUsage[] | undefined;
  loading: boolean;
  month: string;
}) {
  const open = useSignal<string | null>(null);
  const COLS = 6;
  return (
    <div class="table-wrap">
      <table class="table table-dense usage-table">
        <thead>
          <tr>
            <th scope="col" class="cell-toggle">
              <span class="visually-hidden">Details</span>
            </th>
            <th scope="col">Agent</th>
            <th scope="col">Used of quota</th>
            <th scope="col">State</th>
            <th scope="col" class="num">
              Tokens
            </th>
            <th scope="col" class="num">
              Est. cost
            </th>
          </tr>
        </thead>
        <tbody>
          {!agents && loading && <SkeletonRows cols={COLS} rows={3} />}
          {agents && agents.length === 0 && (
            <TableMessage cols={COLS}>
              <EmptyState title={`No agents in ${monthLabel(month)}`}>
                Agents and their token usage show here once you create them.
              </EmptyState>
            </TableMessage>
          )}
          {agents?.map((a) => (
            <AgentUsageRows
              key={a.agentId}
              agent={a}
              open={open.value === a.agentId}
              onToggle={() => {
                open.value = open.value === a.agentId ? null : a.agentId;
              }}
            />
          ))}
        </tbody>
      </table>
      {agents && agents.length > 0 && <QuotaLegend />}
    </div>
  );
}

function AgentUsageRows({
  agent: a,
  open,
  onToggle,
}: {
  agent: AgentUsage;
  open: boolean;
  onToggle: () => void;
}) {
  const detailId = useId();
  const kinds = kindsText(a);
  return (
    <>
      <tr data-testid={`usage-agent-${a.name}`} class={open ? "row-open" : undefined}>
        <td class="cell-toggle">
          <button
            type="button"
            class="disclosure"
            aria-expanded={open}
            aria-controls={open ? detailId : undefined}
            aria-label={`Tokens by kind for ${a.name}`}
            onClick={onToggle}
          >
            <IconChevronRight />
          </button>
        </td>
        <td>
          <Link href={`/agents/${encodeURIComponent(a.agentId)}`} class="link-strong">
            {a.name}
          </Link>
          <div class="muted small">{MODEL_LABELS[a.modelTier] ?? a.modelTier}</div>
        </td>
        <td class="cell-meter">
          <QuotaMeter
            used={a.monthlyTokensUsed}
            quota={a.quota}
            state={a.quotaState}
            label={a.name}
            detail={kinds}
          />
        </td>
        <td>
          <QuotaStateBadge state={a.quotaState} testId={`usage-state-${a.name}`} />
        </td>
        <td class="num cell-nowrap" title={kinds}>
          <span data-testid={`usage-used-${a.name}`} data-tokens={a.monthlyTokensUsed}>
            {tokens(a.monthlyTokensUsed)}
          </span>{" "}
          <span class="muted">/ {tokens(a.quota)}</span>
        </td>
        <td class="num">
          {money(a.estimatedCostUsd)}
          {a.overageUsd > 0 && <div class="small text-danger">+{money(a.overageUsd)} overage</div>}
        </td>
      </tr>
      {open && (
        <tr>
          <td class="usage-detail-cell" />
          <td colSpan={5} id={detailId} class="usage-detail-cell">
            <dl class="usage-kinds">
              {USAGE_SERIES.map((s) => (
                <div key={s.key}>
                  <dt>{s.label}</dt>
                  <dd>{count(a[s.key])}</dd>
                </div>
              ))}
              <div>
                <dt>Cache writes</dt>
                <dd>{count(a.cacheWriteTokens)}</dd>
              </div>
              <div>
                <dt>Calls</dt>
                <dd>{count(a.calls)}</dd>
              </div>
              <div>
                <dt>Counted toward quota</dt>
                <dd>{count(a.monthlyTokensUsed)}</dd>
              </div>
              <div>
                <dt>Estimated cost</dt>
                <dd>{money(a.estimatedCostUsd)}</dd>
              </div>
              <div>
                <dt>Overage</dt>
                <dd>{money(a.overageUsd)}</dd>
              </div>
            </dl>
            <p class="muted small">
              Input, output and thinking tokens count toward the quota in full, cache reads at one tenth.
              Estimated cost is at the model provider's list prices.
            </p>
            {a.missingUsageCalls > 0 && (
              <p class="small text-danger">
                {count(a.missingUsageCalls)} {a.missingUsageCalls === 1 ? "call" : "calls"} came back without
                a usage report, so {a.missingUsageCalls === 1 ? "its" : "their"} tokens are not counted here.
              </p>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

/** What each colour means, in words. */
function QuotaLegend() {
  const states = Object.keys(QUOTA_STATE_LABELS) as QuotaState[];
  return (
    <ul class="quota-legend" aria-label="Quota states">
      {states.map((s) => (
        <li key={s}>
          <QuotaStateBadge state={s} /> <span class="muted small">{QUOTA_STATE_TEXT[s]}</span>
        </li>
      ))}
    </ul>
  );
}
