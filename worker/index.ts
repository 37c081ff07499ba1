import { app } from "./app";
import { runAuditRetention } from "./jobs/audit-retention";
import { handleQueue } from "./jobs/queue";
import { runWorkflowSchedules } from "./jobs/workflow-schedules";

export { AgentMailbox } from "../durable-objects/agent-mailbox";
export { TenantHub } from "../durable-objects/tenant-hub";

export default {
  fetch: app.fetch,
  queue: handleQueue,
  async scheduled(controller, env, ctx) {
    if (controller.cron === "*/15 * * * *")
      ctx.waitUntil(runWorkflowSchedules(env, new Date(controller.scheduledTime)));
  },
} satisfies ExportedHandler<Env>;
