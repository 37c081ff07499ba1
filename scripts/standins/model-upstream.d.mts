export interface ModelUpstreamCall {
  at: string;
  /** null when the body was not JSON or had no model. */
  model: string | null;
  stream: boolean;
  /** The `x-standin-behavior` header as received. */
  behavior: string | null;
  headers: { "anthropic-version": string | null; "x-api-key-present": boolean };
}

export interface ModelUpstream {
  port: number;
  /** What MODEL_UPSTREAM_URL should be: POST /v1/messages, GET/DELETE /calls, GET /health. */
  url: string;
  /** What MODEL_UPSTREAM_KEY should be (sent as `x-api-key`). */
  apiKey: string;
  calls: ModelUpstreamCall[];
  close(): Promise<void>;
}

export interface StandinBehavior {
  error?: number;
  delay?: number;
  noUsage?: boolean;
  hang?: boolean;
}

/** Parses an `x-standin-behavior` header; a string is why it is not valid. */
export function parseBehavior(header: string | null | undefined): StandinBehavior | string;

export function start(port?: number, options?: { apiKey?: string }): Promise<ModelUpstream>;
