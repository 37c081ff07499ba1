/**
 * Codes the client raises itself; anything else is a code the platform answered with
 * (`not_allowed`, `loop_detected`, `agent_unavailable`, `rate_limited`, …).
 */
export type ClientErrorCode =
  | "invalid_message"
  | "timeout"
  | "queue_full"
  | "connection_lost"
  | "closed"
  | "stopped"
  | "invalid_credentials"
  | "network_error"
  | "http_error";

export interface AegisClientErrorOptions {
  /** Per-field reasons (`{ "payload.title": ["Too small"] }`) or, for a rejection, `{ id }` of the message. */
  details?: Record<string, unknown>;
  /** The HTTP status when the error came from an HTTP answer. */
  status?: number;
  cause?: unknown;
}

export class AegisClientError extends Error {
  override readonly name = "AegisClientError";
  readonly code: ClientErrorCode | (string & {});
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly status: number | undefined;

  constructor(code: ClientErrorCode | (string & {}), message: string, options: AegisClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.status = options.status;
  }
}
