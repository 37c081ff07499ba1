import { useEffect, useRef } from "preact/hooks";
import { FlowDiagram } from "../components/flow-diagram";
import { AgentRoute, FeedIndicator } from "../components/live";
import { Segmented } from "../components/segmented";
import { MESSAGE_TABS, TabLinks } from "../components/tabs";
import { Card, EmptyState, ErrorBanner, Loading, PageHeader, Refreshing } from "../components/ui";
import { count, dateTime } from "../format";
import { loadAgentDirectory } from "../models/agents";
import { useFeed } from "../models/feed";
import { FLOW_PERIODS, type FlowPeriod, flowPeriod, messageFlow } from "../models/messages";
import { Link } from "../router";

const LIVE_REFRESH_MS = 3000;

export function MessageFlowPage() {
  const period = flowPeriod.value;
  useEffect(() => {
    void loadAgentDirectory();
  }, []);
  useEffect(() => {
    void messageFlow.load(period);
  }, [period]);

  // New messages change the counts: refetch, at most once every few seconds.
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useFeed((e) => {
    if ((e.event !== "message" && e.event !== "message_status") || timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void messageFlow.load(flowPeriod.value);
    }, LIVE_REFRESH_MS);
  });
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const raw = messageFlow.data.value;
  const flow = raw && raw.period === period ? raw : undefined;
  const label = FLOW_PERIODS.find((p) => p.value === period)?.label.toLowerCase() ?? "";
  const edges = flow ? [...flow.edges].sort((a, b) => b.count - a.count) : [];
  const total = edges.reduce((s, e) => s + e.count, 0);
  const rejected = edges.reduce((s, e) => s + e.rejected, 0);

  return (
    <>
      <PageHeader
        title="Messages"
        subtitle="Who talks to whom, and where messages are being rejected."
        actions={<FeedIndicator />}
      />
      <TabLinks tabs={MESSAGE_TABS} label="Messages views" />
      <div class="toolbar">
        <Segmented<FlowPeriod>
          label="Period"
          value={period}
          options={FLOW_PERIODS}
          onChange={(v) => {
            flowPeriod.value = v;
          }}
          testId="flow-period"
        />
        {flow && (
          <span class="muted small" data-testid="flow-summary">
            {count(total)} {total === 1 ? "message" : "messages"}
            {rejected > 0 && (
              <>
                {" · "}
                <span class="text-danger">{count(rejected)} rejected</span>
              </>
            )}{" "}
            · {dateTime(flow.from)} – {dateTime(flow.to)}
          </span>
        )}
        {messageFlow.loading.value && flow && <Refreshing />}
      </div>
      <ErrorBanner error={messageFlow.error.value} onRetry={() => void messageFlow.load(period)} />
      <Card class="flow-card">
        {!flow && messageFlow.loading.value && <Loading label="Loading message flow…" />}
        {flow && flow.agents.length === 0 && edges.length === 0 && (
          <EmptyState title="No agents yet">Create agents and their messages will be drawn here.</EmptyState>
        )}
        {flow && (flow.agents.length > 0 || edges.length > 0) && (
          <>
            <div class="flow-wrap">
              <FlowDiagram agents={flow.agents} edges={edges} />
              {edges.length === 0 && (
                <p class="flow-empty" data-testid="flow-empty">
                  No messages in the {label}.
                </p>
              )}
            </div>
            <div class="flow-legend muted small" aria-hidden="true">
              <span>
                <span class="legend-line" /> messages (wider = more)
              </span>
              <span>
                <span class="legend-line legend-line-bad" /> some rejected
              </span>
            </div>
          </>
        )}
      </Card>
      {flow && edges.length > 0 && (
        <Card title="Pairs" class="card-flush">
          <div class="table-wrap">
            <table class="table" data-testid="flow-table">
              <thead>
                <tr>
                  <th scope="col">From → To</th>
                  <th scope="col" class="num">
                    Messages
                  </th>
                  <th scope="col" class="num">
                    Rejected
                  </th>
                  <th scope="col">
                    <span class="visually-hidden">Timeline</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {edges.map((e) => (
                  <tr key={`${e.from}>${e.to}`}>
                    <td>
                      <AgentRoute from={e.from} to={e.to} />
                    </td>
                    <td class="num">{count(e.count)}</td>
                    <td class={`num${e.rejected ? " text-danger" : " muted"}`}>{count(e.rejected)}</td>
                    <td class="cell-actions">
                      <Link
                        href={`/messages?agentId=${encodeURIComponent(e.from)}&from=${encodeURIComponent(flow.from)}`}
                        class="small"
                      >
                        View messages
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
    </>
  );
}
