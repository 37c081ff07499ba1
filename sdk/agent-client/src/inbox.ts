import type { MessageType } from "../../../durable-objects/protocol";
import type { SendResult } from "./outbox";
import type { IncomingMessage, LogFn, PayloadInput, Transmit } from "./wire";

export interface ReplyOptions {
  ttlSeconds?: number;
}

export interface MessageContext {
  /** Sends to the message's sender in the same thread (its correlationId). */
  reply<T extends MessageType>(
    type: T,
    payload: PayloadInput<T>,
    options?: ReplyOptions,
  ): Promise<SendResult>;
  /** Acknowledges now instead of when the handler returns; afterwards a throw no longer causes a redelivery. */
  ack(): void;
}

export type MessageHandler = (message: IncomingMessage, ctx: MessageContext) => Promise<void> | void;

type Reply = <T extends MessageType>(
  message: IncomingMessage,
  type: T,
  payload: PayloadInput<T>,
  options?: ReplyOptions,
) => Promise<SendResult>;

export interface InboxOptions {
  /** How many message ids are remembered to drop redeliveries (acknowledged ones are forgotten first). */
  windowSize: number;
  /** Handlers running at once; 1 keeps arrival order. */
  concurrency: number;
  transmit: Transmit;
  reply: Reply;
  log: LogFn;
}

/** queued: waiting for a handler slot; running: in a handler; acked: done, an ack was sent or is owed. */
type Seen = "queued" | "running" | "acked";

/**
 * Runs the handler for each message once per acknowledgement: a redelivered message that is waiting or
 * running is dropped, one already acknowledged is acknowledged again (the first ack may have been lost
 * with the socket), and one whose handler threw is forgotten, so the platform's redelivery runs it again.
 */
export class Inbox {
  private readonly seen = new Map<string, Seen>();
  private readonly waiting: IncomingMessage[] = [];
  private running = 0;
  private handler: MessageHandler | null = null;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: InboxOptions) {}

  setHandler(handler: MessageHandler | null): void {
    this.handler = handler;
    this.pump();
  }

  receive(message: IncomingMessage): void {
    const state = this.seen.get(message.id);
    if (state === "acked") {
      this.options.transmit({ op: "ack", id: message.id });
      return;
    }
    if (state === "queued" || state === "running") return;
    this.seen.set(message.id, "queued");
    this.trim();
    this.waiting.push(message);
    this.pump();
  }

  /**
   * Drops messages that have not reached a handler yet (the client was closed): the platform still
   * holds them and redelivers them on the next connection.
   */
  dropWaiting(): void {
    for (const message of this.waiting.splice(0)) this.seen.delete(message.id);
    this.notifyIdle();
  }

  /** Resolves when no handler runs and none is waiting for a slot. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.running === 0 && (this.waiting.length === 0 || this.handler === null);
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) {
      this.notifyIdle();
      return;
    }
    while (this.running < this.options.concurrency) {
      const message = this.waiting.shift();
      if (!message) break;
      this.running++;
      void this.run(handler, message).finally(() => {
        this.running--;
        this.pump();
      });
    }
    this.notifyIdle();
  }

  private async run(handler: MessageHandler, message: IncomingMessage): Promise<void> {
    this.seen.set(message.id, "running");
    let acked = false;
    const ack = () => {
      if (acked) return;
      acked = true;
      this.seen.set(message.id, "acked");
      this.trim();
      this.options.transmit({ op: "ack", id: message.id });
    };
    const ctx: MessageContext = {
      reply: (type, payload, options) => this.options.reply(message, type, payload, options),
      ack,
    };
    try {
      await handler(message, ctx);
      ack();
    } catch (error) {
      if (!acked) this.seen.delete(message.id);
      this.options.log("error", "message handler failed; not acknowledged, the platform redelivers it", {
        id: message.id,
        type: message.type,
        from: message.from,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Forgets the oldest acknowledged ids beyond the window; ids still in progress are always kept. */
  private trim(): void {
    if (this.seen.size <= this.options.windowSize) return;
    for (const [oldId, oldState] of this.seen) {
      if (this.seen.size <= this.options.windowSize) break;
      if (oldState === "acked") this.seen.delete(oldId);
    }
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
