/**
 * The wire vocabulary of messaging, for the UI. The types come from `durable-objects/protocol.ts`;
 * the constant lists are restated here because importing them from there would pull zod (≈ 27 kB gz)
 * into the browser. The `InSync` checks below fail the type check if the two ever drift apart.
 */
import type {
  AllowlistEdge,
  DeliveryState,
  Direction,
  FeedEvent,
  FeedFilters,
  FeedMessage,
  MessageType,
  RejectReason,
} from "../../durable-objects/protocol";
import type { Tone } from "./components/ui";

export type {
  AllowlistEdge,
  DeliveryState,
  Direction,
  FeedEvent,
  FeedFilters,
  FeedMessage,
  MessageType,
  RejectReason,
};

export const MESSAGE_TYPES = [
  "task_handoff",
  "status_update",
  "data_request",
  "data_response",
  "escalation",
  "notification",
] as const satisfies readonly MessageType[];

export const DELIVERY_STATES = [
  "queued",
  "delivered",
  "acknowledged",
  "rejected",
  "expired",
  "failed",
] as const satisfies readonly DeliveryState[];

export const REJECT_REASONS = [
  "not_allowed",
  "loop_detected",
  "recipient_paused",
  "invalid_message",
] as const satisfies readonly RejectReason[];

export const DIRECTIONS = ["both", "send_only", "receive_only"] as const satisfies readonly Direction[];

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
/** Compile-time only: every list above names exactly the members of its protocol union. */
export type InSync = [
  Assert<Same<(typeof MESSAGE_TYPES)[number], MessageType>>,
  Assert<Same<(typeof DELIVERY_STATES)[number], DeliveryState>>,
  Assert<Same<(typeof REJECT_REASONS)[number], RejectReason>>,
  Assert<Same<(typeof DIRECTIONS)[number], Direction>>,
];

export function isMessageType(v: string): v is MessageType {
  return (MESSAGE_TYPES as readonly string[]).includes(v);
}
export function isDeliveryState(v: string): v is DeliveryState {
  return (DELIVERY_STATES as readonly string[]).includes(v);
}
export function isDirection(v: string): v is Direction {
  return (DIRECTIONS as readonly string[]).includes(v);
}

export const MESSAGE_TYPE_LABELS: Record<MessageType, string> = {
  task_handoff: "Task handoff",
  status_update: "Status update",
  data_request: "Data request",
  data_response: "Data response",
  escalation: "Escalation",
  notification: "Notification",
};

export const DELIVERY_LABELS: Record<DeliveryState, string> = {
  queued: "Queued",
  delivered: "Delivered",
  acknowledged: "Acknowledged",
  rejected: "Rejected",
  expired: "Expired",
  failed: "Failed",
};

export const DELIVERY_TONES: Record<DeliveryState, Tone> = {
  queued: "neutral",
  delivered: "info",
  acknowledged: "success",
  rejected: "danger",
  expired: "warning",
  failed: "danger",
};

/** What each reason means, in words, for tooltips and the message detail. */
export const REJECT_REASON_TEXT: Record<RejectReason, string> = {
  not_allowed: "The allowlist does not let the sender message this recipient.",
  loop_detected: "The correlation chain went over the hop limit, so it was stopped as a loop.",
  recipient_paused: "The recipient is paused and does not accept messages.",
  invalid_message: "The payload does not match the schema of its message type.",
};

export function rejectReasonText(reason: string): string {
  return (REJECT_REASON_TEXT as Record<string, string>)[reason] ?? reason;
}

export function messageTypeLabel(type: string): string {
  return (MESSAGE_TYPE_LABELS as Record<string, string>)[type] ?? type;
}

/** How a link reads between two named agents: "A ↔ B", "A → B only", "A ← B only". */
export function directionPhrase(direction: Direction, a: string, b: string): string {
  if (direction === "both") return `${a} ↔ ${b}`;
  if (direction === "send_only") return `${a} → ${b} only`;
  return `${a} ← ${b} only`;
}

export const DIRECTION_LABELS: Record<Direction, string> = {
  both: "Both ways",
  send_only: "Send only",
  receive_only: "Receive only",
};

/**
 * The directed sender → recipient pairs a set of links allows (as `directedPairs` in protocol.ts):
 * `both` → a↔b; `send_only` → a → b; `receive_only` → b → a. Keys are "from>to".
 */
export function allowedPairs(edges: readonly AllowlistEdge[]): Set<string> {
  const out = new Set<string>();
  for (const e of edges) {
    if (e.direction === "both" || e.direction === "send_only") out.add(`${e.from}>${e.to}`);
    if (e.direction === "both" || e.direction === "receive_only") out.add(`${e.to}>${e.from}`);
  }
  return out;
}
