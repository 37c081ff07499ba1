import { z } from "zod";
import {
  type AgentFrame,
  type MessageType,
  type PlatformFrame,
  payloadSchemas,
  platformFrameSchema,
} from "../../../durable-objects/protocol";

/** What a handler may put in a payload of `type`: the schema's input, so defaults may be left out. */
export type PayloadInput<T extends MessageType> = z.input<(typeof payloadSchemas)[T]>;

export type SendFrame = Extract<AgentFrame, { op: "send" }>;

/** Writes one frame to the open socket; false when there is none (the caller keeps or drops the frame). */
export type Transmit = (frame: AgentFrame) => boolean;

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFn = (level: LogLevel, message: string, data?: Record<string, unknown>) => void;

export const consoleLog: LogFn = (level, message, data) => {
  if (level === "warn" || level === "error") console[level](`[aegis-agent] ${message}`, data ?? "");
};

const envelope = {
  op: z.literal("message"),
  id: z.string(),
  from: z.string(),
  correlationId: z.string().optional(),
  sentAt: z.string(),
  hop: z.number(),
};

/** A received message with its payload parsed by the schema of its type (defaults filled in). */
export const incomingMessageSchema = z.discriminatedUnion("type", [
  z.object({ ...envelope, type: z.literal("task_handoff"), payload: payloadSchemas.task_handoff }),
  z.object({ ...envelope, type: z.literal("status_update"), payload: payloadSchemas.status_update }),
  z.object({ ...envelope, type: z.literal("data_request"), payload: payloadSchemas.data_request }),
  z.object({ ...envelope, type: z.literal("data_response"), payload: payloadSchemas.data_response }),
  z.object({ ...envelope, type: z.literal("escalation"), payload: payloadSchemas.escalation }),
  z.object({ ...envelope, type: z.literal("notification"), payload: payloadSchemas.notification }),
]);
export type IncomingMessage = z.infer<typeof incomingMessageSchema>;

export type ParsedFrame =
  | { ok: true; frame: Exclude<PlatformFrame, { op: "message" }> }
  | { ok: true; frame: IncomingMessage }
  | { ok: false; reason: string; raw: string };

/** Parses one socket frame with the platform's own schemas; a frame it does not know is reported, not thrown. */
export function parseFrame(data: unknown): ParsedFrame {
  const raw =
    typeof data === "string"
      ? data
      : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
        ? new TextDecoder().decode(data)
        : String(data);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: "not JSON", raw };
  }
  const frame = platformFrameSchema.safeParse(json);
  if (!frame.success) return { ok: false, reason: frame.error.message, raw };
  if (frame.data.op !== "message") return { ok: true, frame: frame.data };
  const message = incomingMessageSchema.safeParse(frame.data);
  if (!message.success) return { ok: false, reason: `payload: ${message.error.message}`, raw };
  return { ok: true, frame: message.data };
}

/** The same shape as the Worker's `issuesToDetails`, so local and platform validation errors read alike. */
export function issuesToDetails(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const key = issue.path.length ? issue.path.map((p) => String(p)).join(".") : "(root)";
    out[key] = [...(out[key] ?? []), issue.message];
  }
  return out;
}
