/**
 * Every WebSocket frame and message payload, as zod schemas. Imported by the Worker, the Durable
 * Objects, the web UI and the agent client in sdk/ — one definition of the wire.
 * Pure (zod only), so it runs in workerd, Node and the browser.
 */
import { z } from "zod";

export const MESSAGE_TYPES = [
  "task_handoff",
  "status_update",
  "data_request",
  "data_response",
  "escalation",
  "notification",
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const DELIVERY_STATES = [
  "queued",
  "delivered",
  "acknowledged",
  "rejected",
  "expired",
  "failed",
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** Why a message was rejected; `not_allowed` also covers unknown agents and other tenants (no existence leak). */
export const REJECT_REASONS = [
  "not_allowed",
  "loop_detected",
  "recipient_paused",
  "invalid_message",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Payloads are at most 64 KiB of UTF-8 JSON. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_TTL_SECONDS = 7 * 24 * 3600;

const text = (max: number) => z.string().min(1).max(max);
const priority = z.enum(["low", "normal", "high", "urgent"]);

/** One payload schema per message type. Unknown keys are kept (agents may add context), known ones are checked. */
export const payloadSchemas = {
  task_handoff: z.looseObject({
    title: text(200),
    description: z.string().max(20_000).optional(),
    priority: priority.default("normal"),
    dueAt: z.iso.datetime().optional(),
    context: z.record(z.string(), z.unknown()).optional(),
  }),
  status_update: z.looseObject({
    status: z.enum(["idle", "working", "blocked", "done", "error"]),
    summary: z.string().max(4000).optional(),
    progress: z.number().min(0).max(1).optional(),
  }),
  data_request: z.looseObject({
    query: text(4000),
    format: z.enum(["text", "json", "markdown"]).default("text"),
    fields: z.array(z.string().max(200)).max(100).optional(),
  }),
  data_response: z.looseObject({
    data: z.unknown(),
    format: z.enum(["text", "json", "markdown"]).default("text"),
    error: z.string().max(4000).optional(),
  }),
  escalation: z.looseObject({
    reason: text(4000),
    severity: z.enum(["low", "medium", "high", "critical"]),
    context: z.record(z.string(), z.unknown()).optional(),
  }),
  notification: z.looseObject({
    title: text(200),
    body: z.string().max(20_000).optional(),
    level: z.enum(["info", "warning", "error"]).default("info"),
  }),
} satisfies Record<MessageType, z.ZodType>;

export function payloadBytes(payload: unknown): number {
  return new TextEncoder().encode(JSON.stringify(payload ?? null)).byteLength;
}

/** The message an agent sends: over the socket (`op: "send"`) or `POST /v1/messages`. */
export const sendInputSchema = z
  .object({
    to: z.string().min(1).max(64),
    type: z.enum(MESSAGE_TYPES),
    payload: z.unknown(),
    correlationId: z.string().min(1).max(80).optional(),
    ttlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
  })
  .superRefine((m, ctx) => {
    if (payloadBytes(m.payload) > MAX_PAYLOAD_BYTES) {
      ctx.addIssue({
        code: "custom",
        path: ["payload"],
        message: `Payload exceeds ${MAX_PAYLOAD_BYTES} bytes`,
      });
      return;
    }
    const parsed = payloadSchemas[m.type].safeParse(m.payload);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: "custom", path: ["payload", ...issue.path], message: issue.message });
      }
    }
  });
export type SendInput = z.infer<typeof sendInputSchema>;

// ---- agent → platform ----

export const agentFrameSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("send"),
    clientId: z.string().max(80).optional(),
    to: z.string(),
    type: z.string(),
    payload: z.unknown(),
    correlationId: z.string().optional(),
    ttlSeconds: z.number().optional(),
  }),
  z.object({ op: z.literal("ack"), id: z.string().min(1).max(80) }),
  z.object({ op: z.literal("config_applied"), version: z.number().int().min(1) }),
  z.object({ op: z.literal("ping"), t: z.number().optional() }),
]);
export type AgentFrame = z.infer<typeof agentFrameSchema>;

// ---- platform → agent ----

export interface MessageFrame {
  op: "message";
  id: string;
  from: string;
  type: MessageType;
  payload: unknown;
  correlationId?: string;
  sentAt: string;
  hop: number;
}
export interface SentFrame {
  op: "sent";
  clientId?: string;
  id: string;
  status: DeliveryState;
  reason?: RejectReason;
}
export interface ErrorFrame {
  op: "error";
  code: string;
  message: string;
  clientId?: string;
  details?: Record<string, string[]>;
}
export interface ConfigFrame {
  op: "config";
  version: number;
  config: unknown;
}
export interface AckedFrame {
  op: "acked";
  id: string;
}
export interface PongFrame {
  op: "pong";
  t?: number;
}
export type PlatformFrame = MessageFrame | SentFrame | ErrorFrame | ConfigFrame | AckedFrame | PongFrame;

export const platformFrameSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("message"),
    id: z.string(),
    from: z.string(),
    type: z.enum(MESSAGE_TYPES),
    payload: z.unknown(),
    correlationId: z.string().optional(),
    sentAt: z.string(),
    hop: z.number(),
  }),
  z.object({
    op: z.literal("sent"),
    clientId: z.string().optional(),
    id: z.string(),
    status: z.enum(DELIVERY_STATES),
    reason: z.enum(REJECT_REASONS).optional(),
  }),
  z.object({
    op: z.literal("error"),
    code: z.string(),
    message: z.string(),
    clientId: z.string().optional(),
    details: z.record(z.string(), z.array(z.string())).optional(),
  }),
  z.object({ op: z.literal("config"), version: z.number(), config: z.unknown() }),
  z.object({ op: z.literal("acked"), id: z.string() }),
  z.object({ op: z.literal("pong"), t: z.number().optional() }),
]);

// ---- the admin feed: /ws/messages ----

export interface FeedMessage {
  id: string;
  from: string;
  to: string;
  type: MessageType;
  status: DeliveryState;
  reason?: RejectReason;
  correlationId?: string;
  hop: number;
  payloadPreview: string;
  sentAt: string;
  updatedAt: string;
}

export type FeedEvent =
  | { event: "message"; message: FeedMessage }
  | {
      event: "message_status";
      id: string;
      from: string;
      to: string;
      type: MessageType;
      status: DeliveryState;
      reason?: RejectReason;
      at: string;
    }
  | { event: "config_applied"; agentId: string; version: number; at: string }
  | { event: "presence"; agentId: string; connected: boolean; at: string }
  | {
      event: "provisioning";
      tenantId: string;
      status: string;
      steps: Array<{ name: string; status: string; error?: string }>;
    }
  | { event: "allowlist"; version: number; updatedBy: string | null; at: string }
  | { event: "alert"; [key: string]: unknown }
  | {
      event: "usage";
      agents: Array<{ agentId: string; monthlyTokensUsed: number; quotaState: string }>;
      at: string;
    }
  | {
      event: "quota";
      agentId: string;
      name: string;
      state: string;
      usedTokens: number;
      quota: number;
      at: string;
    }
  | {
      /** A private skill version changed under the operator's hands (review) or was dry-run. */
      event: "skill_version";
      skillId: string;
      versionId: string;
      name: string;
      version: string;
      status: string;
      change: "review_started" | "approved" | "rejected" | "changes_requested" | "deprecated" | "dry_run";
      at: string;
    }
  | { event: "subscribed"; filters: FeedFilters }
  | { event: "error"; code: string; message: string };

export const feedFiltersSchema = z.object({
  agentIds: z.array(z.string().max(64)).max(200).optional(),
  types: z.array(z.enum(MESSAGE_TYPES)).optional(),
  events: z.array(z.string().max(40)).max(20).optional(),
});
export type FeedFilters = z.infer<typeof feedFiltersSchema>;

export const feedClientFrameSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("subscribe"), filters: feedFiltersSchema }),
  z.object({ op: z.literal("ping") }),
]);

// ---- allowlist ----

export const DIRECTIONS = ["both", "send_only", "receive_only"] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const allowlistEdgeSchema = z.object({
  from: z.string().min(1).max(64),
  to: z.string().min(1).max(64),
  direction: z.enum(DIRECTIONS),
});
export type AllowlistEdge = z.infer<typeof allowlistEdgeSchema>;

/** `both` → a↔b; `send_only` → a may send to b; `receive_only` → a may receive from b (b → a). */
export function directedPairs(edges: readonly AllowlistEdge[]): Array<[string, string]> {
  const out = new Map<string, [string, string]>();
  for (const e of edges) {
    if (e.direction === "both" || e.direction === "send_only") out.set(`${e.from}>${e.to}`, [e.from, e.to]);
    if (e.direction === "both" || e.direction === "receive_only")
      out.set(`${e.to}>${e.from}`, [e.to, e.from]);
  }
  return [...out.values()];
}
