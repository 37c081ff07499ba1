import { z } from "zod";

/** One model call's usage, as the gateway read it from the upstream's response. */
export const usageEventSchema = z.object({
  id: z.string().min(1).max(64),
  tenantId: z.string().min(1).max(64),
  agentId: z.string().min(1).max(64),
  model: z.string().min(1).max(200),
  modelTier: z.enum(["haiku", "sonnet", "opus"]),
  at: z.iso.datetime(),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  thinkingTokens: z.number().int().min(0),
  cacheReadTokens: z.number().int().min(0),
  cacheWriteTokens: z.number().int().min(0),
  /** The upstream sent no usage block: counted as zero and flagged, never estimated. */
  usageMissing: z.boolean(),
  stream: z.boolean(),
});
export type UsageEvent = z.infer<typeof usageEventSchema>;

export const usageMessageSchema = z.object({ kind: z.literal("usage"), event: usageEventSchema });

export interface Tokens {
  inputTokens: number;
  outputTokens: number;
  thinkingTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

const count = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;

/**
 * Tokens from an Anthropic `usage` block. Thinking tokens are part of `output_tokens` upstream; when
 * the upstream reports them apart (`thinking_tokens`) they are split out so nothing counts twice.
 * Returns null when there is no usable usage block.
 */
export function tokensFromUsage(usage: unknown): Tokens | null {
  if (!usage || typeof usage !== "object") return null;
  const u = usage as Record<string, unknown>;
  const input = count(u.input_tokens);
  const output = count(u.output_tokens);
  if (input === undefined || output === undefined) return null;
  const thinking = Math.min(count(u.thinking_tokens) ?? 0, output);
  return {
    inputTokens: input,
    outputTokens: output - thinking,
    thinkingTokens: thinking,
    cacheReadTokens: count(u.cache_read_input_tokens) ?? 0,
    cacheWriteTokens: count(u.cache_creation_input_tokens) ?? 0,
  };
}

/**
 * Follows a Messages API event stream (SSE) and keeps the usage it reports: `message_start` carries
 * input and cache tokens, each `message_delta` the cumulative output. Feed it text chunks in order.
 */
export class StreamUsage {
  private buffer = "";
  private start: Record<string, unknown> | null = null;
  private delta: Record<string, unknown> | null = null;

  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end < 0) break;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.read(block);
    }
    // An event never needs more than this; a stream without blank lines must not grow memory.
    if (this.buffer.length > 1_000_000) this.buffer = "";
  }

  private read(block: string) {
    const data = block
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).trimStart())
      .join("\n");
    if (!data) return;
    let event: { type?: string; message?: { usage?: unknown }; usage?: unknown };
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (event.type === "message_start" && event.message?.usage && typeof event.message.usage === "object") {
      this.start = event.message.usage as Record<string, unknown>;
    } else if (event.type === "message_delta" && event.usage && typeof event.usage === "object") {
      this.delta = { ...(this.delta ?? {}), ...(event.usage as Record<string, unknown>) };
    }
  }

  /** The final usage: null if the stream reported none (or ended before its message_delta). */
  tokens(): Tokens | null {
    if (!this.start || !this.delta) return null;
    return tokensFromUsage({ ...this.start, ...this.delta });
  }
}
