import { app } from "./app";
import { handleQueue } from "./jobs/queue";

export { AgentMailbox } from "../durable-objects/agent-mailbox";
export { TenantHub } from "../durable-objects/tenant-hub";

export default {
  fetch: app.fetch,
  queue: handleQueue,
} satisfies ExportedHandler<Env>;
