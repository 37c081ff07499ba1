import { z } from "zod";
import type { ModelRequest, ModelResponse } from "./context";
import { SkillError } from "./errors";

/** Options for a model client that speaks the Anthropic Messages API (the Aegis gateway does). */
export interface MessagesApiOptions {
  /** Full endpoint, e.g. `https://aegis.example.com/v1/models/messages`. */
  url: string;
  /** Model used when a request names none. */
  defaultModel: string;
  /** Extra headers, typically `authorization` with the agent token. */
  headers?: Record<string, string>;
  /** Defaults to the global `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
}

const messagesResponseSchema = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  model: z.string(),
  stop_reason: z.string().nullable(),
  usage: z.object({
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
  }),
});

const errorBodySchema = z.object({
  error: z.object({ message: z.string() }).optional(),
  code: z.string().optional(),
  message: z.string().optional(),
});

/** A `SkillHost.callModel` implementation over any Messages-API endpoint. */
export function createMessagesApiModel(
  options: MessagesApiOptions,
): (request: ModelRequest) => Promise<ModelResponse> {
  const send = options.fetch ?? ((request: Request) => fetch(request));
  return async (request) => {
    const response = await send(
      new Request(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "anthropic-version": "2023-06-01",
          ...options.headers,
        },
        body: JSON.stringify({
          model: request.model ?? options.defaultModel,
          max_tokens: request.maxTokens,
          ...(request.system === undefined ? {} : { system: request.system }),
          messages: request.messages,
        }),
      }),
    );
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const parsedError = errorBodySchema.safeParse(body);
      const detail = parsedError.success
        ? (parsedError.data.error?.message ?? parsedError.data.message)
        : undefined;
      throw new SkillError(
        "model_error",
        `The model gateway answered ${response.status}${detail ? `: ${detail}` : ""}`,
      );
    }
    const parsed = messagesResponseSchema.safeParse(body);
    if (!parsed.success)
      throw new SkillError("model_error", "The model gateway answered with an unexpected shape");
    const { content, model, stop_reason, usage } = parsed.data;
    return {
      text: content.map((block) => (block.type === "text" ? (block.text ?? "") : "")).join(""),
      usage: { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens },
      model,
      ...(stop_reason === null ? {} : { stopReason: stop_reason }),
    };
  };
}
