import type { DeliveryState, ErrorFrame, RejectReason, SentFrame } from "../../../durable-objects/protocol";
import { AegisClientError } from "./errors";
import type { SendFrame, Transmit } from "./wire";

export interface SendResult {
  id: string;
  status: DeliveryState;
  reason?: RejectReason;
}

interface PendingSend {
  frame: SendFrame & { clientId: string };
  resolve: (result: SendResult) => void;
  reject: (error: AegisClientError) => void;
  timer?: ReturnType<typeof setTimeout>;
}

export interface OutboxOptions {
  /** Sends that may wait for a connection; one more is refused with `queue_full`. */
  maxQueue: number;
  /** How long a transmitted send waits for its `sent` or `error` frame. */
  timeoutMs: number;
  newClientId: () => string;
}

/**
 * Sends in two stages: waiting for a socket (bounded, in order), then in flight on one socket until
 * the platform answers with the `sent` or `error` frame that carries the same clientId.
 */
export class Outbox {
  private readonly waiting: PendingSend[] = [];
  private readonly inFlight = new Map<string, PendingSend>();

  constructor(private readonly options: OutboxOptions) {}

  get queued(): number {
    return this.waiting.length;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Transmits at once when `transmit` succeeds, else queues until the next `flush`. */
  send(frame: SendFrame, transmit: Transmit): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const entry: PendingSend = {
        frame: { ...frame, clientId: this.options.newClientId() },
        resolve,
        reject,
      };
      if (this.waiting.length === 0 && this.transmit(entry, transmit)) return;
      if (this.waiting.length >= this.options.maxQueue) {
        reject(
          new AegisClientError(
            "queue_full",
            `${this.waiting.length} sends are already waiting for a connection`,
          ),
        );
        return;
      }
      this.waiting.push(entry);
    });
  }

  /** Sends what waited, in order, for as long as the socket takes frames. */
  flush(transmit: Transmit): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      if (!next || !this.transmit(next, transmit)) return;
      this.waiting.shift();
    }
  }

  /** Settles the send a `sent` or `error` frame answers; false when no send carries its clientId. */
  settle(frame: SentFrame | ErrorFrame): boolean {
    if (frame.clientId === undefined) return false;
    const entry = this.inFlight.get(frame.clientId);
    if (!entry) return false;
    this.inFlight.delete(frame.clientId);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (frame.op === "sent") {
      entry.resolve({
        id: frame.id,
        status: frame.status,
        ...(frame.reason ? { reason: frame.reason } : {}),
      });
    } else {
      entry.reject(
        new AegisClientError(frame.code, frame.message, frame.details ? { details: frame.details } : {}),
      );
    }
    return true;
  }

  /**
   * The socket closed with sends in flight: the platform may or may not have taken them, and it answers
   * only on the socket it received them on. Resending could deliver twice, so they fail instead.
   */
  connectionLost(): void {
    for (const entry of this.inFlight.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.reject(
        new AegisClientError(
          "connection_lost",
          "The connection closed before the platform confirmed this send; it may or may not have been sent",
        ),
      );
    }
    this.inFlight.clear();
  }

  /** Fails everything, waiting and in flight (the client was closed or stopped). */
  failAll(error: () => AegisClientError): void {
    for (const entry of this.waiting.splice(0)) entry.reject(error());
    for (const entry of this.inFlight.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.reject(error());
    }
    this.inFlight.clear();
  }

  private transmit(entry: PendingSend, transmit: Transmit): boolean {
    const clientId = entry.frame.clientId;
    this.inFlight.set(clientId, entry);
    if (!transmit(entry.frame)) {
      this.inFlight.delete(clientId);
      return false;
    }
    entry.timer = setTimeout(() => {
      if (this.inFlight.get(clientId) !== entry) return;
      this.inFlight.delete(clientId);
      entry.reject(
        new AegisClientError("timeout", `No answer from the platform within ${this.options.timeoutMs} ms`),
      );
    }, this.options.timeoutMs);
    return true;
  }
}
