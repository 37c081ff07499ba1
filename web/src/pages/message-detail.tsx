import { useEffect } from "preact/hooks";
import { ApiError } from "../api";
import { CopyButton, JsonView } from "../components/json-view";
import { AgentRoute, DeliveryBadge, FeedIndicator, TypeChip, When } from "../components/live";
import {
  Badge,
  Banner,
  Card,
  DefinitionList,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
} from "../components/ui";
import { dateTime, duration } from "../format";
import { agentName, loadAgentDirectory } from "../models/agents";
import { useFeed } from "../models/feed";
import { applyDetailEvent, type MessageDetail, messageDetail } from "../models/messages";
import { Link } from "../router";
import {
  DELIVERY_LABELS,
  DELIVERY_TONES,
  isDeliveryState,
  messageTypeLabel,
  rejectReasonText,
} from "../wire";

export function MessageDetailPage({ id }: { id: string }) {
  useEffect(() => {
    void loadAgentDirectory();
    void messageDetail.load(id);
  }, [id]);
  useFeed(applyDetailEvent);

  const raw = messageDetail.data.value;
  const detail = raw && raw.message.id === id ? raw : undefined;
  const crumbs = (
    <div class="breadcrumbs">
      <Link href="/messages">Messages</Link> <span aria-hidden="true">/</span> <span class="mono">{id}</span>
    </div>
  );

  if (!detail) {
    const err = messageDetail.error.value;
    return (
      <>
        {crumbs}
        <PageHeader title="Message" />
        {err instanceof ApiError && err.status === 404 ? (
          <Card>
            <EmptyState
              title="Message not found"
              action={
                <Link href="/messages" class="btn">
                  Back to messages
                </Link>
              }
            >
              It may have expired from the log, or belong to another workspace.
            </EmptyState>
          </Card>
        ) : (
          <ErrorBanner error={err} onRetry={() => void messageDetail.load(id)} />
        )}
        {messageDetail.loading.value && <Loading label="Loading message…" />}
      </>
    );
  }

  const m = detail.message;
  return (
    <>
      {crumbs}
      <PageHeader
        title={
          <span class="title-with-badge">
            <span>{messageTypeLabel(m.type)}</span>
            <DeliveryBadge status={m.status} reason={m.reason} testId={`message-status-${m.id}`} />
          </span>
        }
        subtitle={<AgentRoute from={m.from} to={m.to} />}
        actions={<FeedIndicator />}
      />
      <OutcomeBanner detail={detail} />
      <div class="detail-grid" data-testid="message-detail">
        <div class="detail-main">
          <Card
            title="Payload"
            actions={<CopyButton text={JSON.stringify(m.payload, null, 2)} label="Copy JSON" />}
          >
            <JsonView value={m.payload} testId="message-payload" />
          </Card>
          <Thread detail={detail} />
        </div>
        <div class="detail-side">
          <Card title="Details">
            <DefinitionList
              items={[
                ["Message id", <code class="mono">{m.id}</code>],
                [
                  "Correlation",
                  m.correlationId ? (
                    <Link href={`/messages?q=${encodeURIComponent(m.correlationId)}`} class="mono">
                      {m.correlationId}
                    </Link>
                  ) : (
                    <span class="muted">None (starts a thread)</span>
                  ),
                ],
                ["Type", <TypeChip type={m.type} />],
                ["Hop", String(m.hop)],
                ["Sent", dateTime(m.sentAt)],
                ["Last update", <When iso={m.updatedAt} />],
                ["Time to live", m.ttlSeconds === null ? "—" : duration(m.ttlSeconds)],
                ["Expires", dateTime(m.expiresAt)],
              ]}
            />
          </Card>
          <History detail={detail} />
        </div>
      </div>
    </>
  );
}

function OutcomeBanner({ detail }: { detail: MessageDetail }) {
  const m = detail.message;
  if (m.status === "rejected") {
    return (
      <Banner tone="danger">
        <strong>
          Rejected{m.reason ? `: ${m.reason}` : ""}. {m.reason ? rejectReasonText(m.reason) : ""}
        </strong>
        {m.reason === "not_allowed" && (
          <span>
            {agentName(m.from)} may not message {agentName(m.to)}.{" "}
            <Link href="/allowlist">Review the allowlist</Link>
          </span>
        )}
      </Banner>
    );
  }
  if (m.status === "expired")
    return (
      <Banner tone="warning">
        {agentName(m.to)} did not acknowledge this message within its time to live
        {m.ttlSeconds === null ? "" : ` (${duration(m.ttlSeconds)})`}.
      </Banner>
    );
  if (m.status === "failed") return <Banner tone="danger">Delivery failed.</Banner>;
  return null;
}

function History({ detail }: { detail: MessageDetail }) {
  const entries = detail.history;
  return (
    <Card title="Delivery history">
      {entries.length === 0 ? (
        <p class="muted">No delivery events recorded yet.</p>
      ) : (
        <ol class="vtimeline" data-testid="message-history">
          {entries.map((h, i) => {
            const tone = isDeliveryState(h.status) ? DELIVERY_TONES[h.status] : "neutral";
            const label = isDeliveryState(h.status) ? DELIVERY_LABELS[h.status] : h.status;
            return (
              <li
                key={`${h.status}-${h.at}-${i}`}
                class={`vtimeline-item vtimeline-${tone}${i === entries.length - 1 ? " vtimeline-last" : ""}`}
                data-status={h.status}
              >
                <span class="vtimeline-dot" aria-hidden="true" />
                <div class="vtimeline-body">
                  <div class="vtimeline-head">
                    <strong>{label}</strong>
                    {h.reason && <code class="reason-code">{h.reason}</code>}
                  </div>
                  {h.reason && <p class="muted small">{rejectReasonText(h.reason)}</p>}
                  <time class="muted small" dateTime={h.at}>
                    {dateTime(h.at)}
                  </time>
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </Card>
  );
}

function Thread({ detail }: { detail: MessageDetail }) {
  const current = detail.message.id;
  const thread = detail.thread.length ? detail.thread : [detail.message];
  return (
    <Card
      title="Conversation"
      actions={
        <Badge>
          {thread.length} {thread.length === 1 ? "message" : "messages"}
        </Badge>
      }
      class="card-flush"
    >
      {thread.length <= 1 ? (
        <p class="muted card-pad" data-testid="message-thread">
          No other messages share this correlation id yet.
        </p>
      ) : (
        <ol class="thread" data-testid="message-thread">
          {thread.map((t) => {
            const self = t.id === current;
            const inner = (
              <>
                <span class="thread-time">
                  <When iso={t.sentAt} />
                </span>
                <AgentRoute from={t.from} to={t.to} link={false} />
                <TypeChip type={t.type} />
                <DeliveryBadge status={t.status} reason={t.reason} />
                {self && <Badge tone="brand">This message</Badge>}
              </>
            );
            return (
              <li
                key={t.id}
                class={`thread-item${self ? " thread-current" : ""}`}
                data-testid={`thread-${t.id}`}
              >
                {self ? (
                  <div class="thread-link" aria-current="true">
                    {inner}
                  </div>
                ) : (
                  <Link href={`/messages/${encodeURIComponent(t.id)}`} class="thread-link">
                    {inner}
                  </Link>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </Card>
  );
}
