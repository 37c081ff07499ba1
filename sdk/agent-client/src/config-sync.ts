import type { ConfigFrame } from "../../../durable-objects/protocol";
import type { LogFn, Transmit } from "./wire";

export type ConfigHandler = (version: number, config: unknown) => void | Promise<void>;

export interface ConfigSyncOptions {
  apply: ConfigHandler | undefined;
  transmit: Transmit;
  onApplied: (version: number, config: unknown) => void;
  log: LogFn;
}

/**
 * Applies pushed configuration versions one at a time, in order, and confirms each with
 * `config_applied`. The platform pushes the current version again on every connect: a version already
 * applied is only confirmed again (the first confirmation may have been lost with the socket).
 * A handler that throws leaves the version unconfirmed; the next push or connect offers it again.
 */
export class ConfigSync {
  version: number | null = null;
  config: unknown = undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: ConfigSyncOptions) {}

  receive(frame: ConfigFrame): Promise<void> {
    this.chain = this.chain.then(() => this.apply(frame));
    return this.chain;
  }

  private async apply(frame: ConfigFrame): Promise<void> {
    if (this.version !== null && frame.version < this.version) {
      this.options.log("debug", "ignoring an older config version", {
        version: frame.version,
        current: this.version,
      });
      return;
    }
    if (frame.version !== this.version) {
      try {
        await this.options.apply?.(frame.version, frame.config);
      } catch (error) {
        this.options.log("error", "onConfig failed; the version stays unconfirmed", {
          version: frame.version,
          error: error instanceof Error ? error.message : String(error),
        });
        return;
      }
      this.version = frame.version;
      this.config = frame.config;
      this.options.onApplied(frame.version, frame.config);
    }
    this.options.transmit({ op: "config_applied", version: frame.version });
  }
}
