// Shared setup for the skills' tests (Node only): a temporary workspace, recorded messages, a clock the
// test moves, and a local Messages-API server standing in for the model gateway.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeHost, type NodeSkillHost } from "../../skill-sdk/src/node-host";
import { type FakeMessagesRequest, startFakeMessagesApi } from "../../skill-sdk/src/node-testing";
import { createMessagesApiModel, type OutgoingMessage } from "./sdk";

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Hostname → local origin; any host not listed is unreachable. */
  routes?: Record<string, string>;
  /** What the fake model answers. Default: a fixed sentence naming the call number. */
  modelReply?: (request: FakeMessagesRequest) => string;
}

export interface Harness {
  host: NodeSkillHost;
  sent: OutgoingMessage[];
  model: Awaited<ReturnType<typeof startFakeMessagesApi>>;
  clock: { now: Date; advance(seconds: number): void };
  close(): Promise<void>;
}

export const START_TIME = new Date("2030-01-15T09:00:00.000Z");

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const workspace = await mkdtemp(join(tmpdir(), "aegis-skills-"));
  const sent: OutgoingMessage[] = [];
  let calls = 0;
  const model = await startFakeMessagesApi(options.modelReply ?? (() => `Summary number ${++calls}.`));
  const clock = {
    now: new Date(START_TIME),
    advance(seconds: number) {
      clock.now = new Date(clock.now.getTime() + seconds * 1000);
    },
  };
  const host = await createNodeHost({
    workspaceRoot: workspace,
    env: options.env ?? {},
    routes: options.routes ?? {},
    now: () => clock.now,
    sendMessage: async (message) => {
      sent.push(message);
      return { id: `msg_${sent.length}`, status: "queued" };
    },
    callModel: createMessagesApiModel({ url: model.url, defaultModel: "claude-test" }),
  });
  return {
    host,
    sent,
    model,
    clock,
    async close() {
      await model.close();
      await rm(workspace, { recursive: true, force: true });
    },
  };
}
