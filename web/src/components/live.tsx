import { clock, dateTime, relative } from "../format";
import { agentDirectory, agentsById } from "../models/agents";
import { feedError, feedRetryAt, feedStatus } from "../models/feed";
import { user } from "../models/session";
import { team } from "../models/team";
import { Link } from "../router";
import {
  DELIVERY_LABELS,
  DELIVERY_TONES,
  type DeliveryState,
  messageTypeLabel,
  rejectReasonText,
} from "../wire";
import { Badge } from "./ui";

const FEED_LABELS = {
  idle: "Connecting…",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
} as const;

/** The live feed's connection: a green "Live" dot, or why it is not live. */
export function FeedIndicator() {
  const status = feedStatus.value;
  const retryAt = feedRetryAt.value;
  const title =
    status === "live"
      ? "Receiving updates as they happen"
      : [
          feedError.value,
          retryAt ? `Next attempt in ${Math.max(1, Math.round((retryAt - Date.now()) / 1000))} s` : null,
        ]
          .filter(Boolean)
          .join(" · ") || "Connecting to the live feed";
  return (
    <span
      class={`feed-status feed-status-${status}`}
      data-testid="feed-status"
      data-status={status}
      title={title}
    >
      <span class="feed-dot" aria-hidden="true" />
      <span>{FEED_LABELS[status]}</span>
    </span>
  );
}

/** An agent by name (linking to it), or its id in mono when the agent is unknown. */
export function AgentName({ id, link = true }: { id: string; link?: boolean }) {
  const agent = agentsById.value.get(id);
  if (!agent) {
    if (!agentDirectory.data.value && agentDirectory.loading.value)
      return (
        <span class="agent-name-pending">
          <span class="visually-hidden">Loading name</span>
        </span>
      );
    return (
      <span class="mono agent-id" title={`Unknown agent ${id}`}>
        {id}
      </span>
    );
  }
  return link ? (
    <Link href={`/agents/${encodeURIComponent(id)}`} class="agent-name" title={agent.role ?? undefined}>
      {agent.name}
    </Link>
  ) : (
    <span class="agent-name">{agent.name}</span>
  );
}

/** A delivery state in its colour (queued grey … rejected red), with the reject reason beside it. */
export function DeliveryBadge({
  status,
  reason,
  testId,
}: {
  status: DeliveryState;
  reason?: string | undefined;
  testId?: string;
}) {
  return (
    <span class="delivery" data-testid={testId} data-status={status}>
      <Badge tone={DELIVERY_TONES[status]}>
        <span class="badge-dot" aria-hidden="true" />
        {DELIVERY_LABELS[status]}
      </Badge>
      {reason && (
        <code class="reason-code" title={rejectReasonText(reason)}>
          {reason}
        </code>
      )}
    </span>
  );
}

export function TypeChip({ type }: { type: string }) {
  return <span class={`type-chip type-${type}`}>{messageTypeLabel(type)}</span>;
}

/** "3 minutes ago", with the exact time on hover. */
export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={dateTime(iso)}>
      {relative(iso)}
    </time>
  );
}

/** "Alice → Bob", read as "Alice to Bob". */
export function AgentRoute({ from, to, link = true }: { from: string; to: string; link?: boolean }) {
  return (
    <span class="route">
      <AgentName id={from} link={link} />
      <span class="route-arrow" aria-hidden="true">
        →
      </span>
      <span class="visually-hidden"> to </span>
      <AgentName id={to} link={link} />
    </span>
  );
}

/**
 * Who saved something: "you", a teammate's name, or what the server sent (an email, an API key's
 * name). Saves record a user id or a name depending on the endpoint; both are resolved here.
 */
export function actorLabel(actor: string | null | undefined): string {
  if (!actor) return "someone";
  const me = user.value;
  if (me && (actor === me.id || actor === me.email || actor === me.name)) return "you";
  const member = team.data.value?.members.find((m) => m.id === actor || m.email === actor);
  return member ? member.name || member.email : actor;
}

/** `actorLabel` at the start of a sentence. */
export function sentenceActor(actor: string | null | undefined): string {
  const label = actorLabel(actor);
  return label === "you" ? "You" : label === "someone" ? "Someone" : label;
}

/** Makes `actorLabel` able to name teammates; the team list is small and cached for the session. */
export function ensureTeam(): void {
  if (!team.data.value && !team.loading.value) void team.load();
}

/** A log timestamp ("14:32:05"), with the full date and "3 minutes ago" on hover. */
export function Clock({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={`${dateTime(iso)} (${relative(iso)})`} class="clock">
      {clock(iso)}
    </time>
  );
}
