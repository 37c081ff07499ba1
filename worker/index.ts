import { app } from "./app";
import { runAuditRetention } from "./jobs/audit-retention";
import { runChainVerification } from "./jobs/audit-verification";
import { handleQueue } from "./jobs/queue";
import { runWorkflowSchedules } from "./jobs/workflow-schedules";

export { AgentMailbox } from "../durable-objects/agent-mailbox";
export { TenantHub } from "../durable-objects/tenant-hub";

export default {
  fetch: app.fetch,
  queue: handleQueue,
  async scheduled(controller, env, ctx) {
    const at = new Date(controller.scheduledTime);
    if (controller.cron === "*/15 * * * *") ctx.waitUntil(runWorkflowSchedules(env, at));
    if (controller.cron === "0 3 * * *") {
      // Independent jobs: a failure archiving one chain must not skip verifying the others.
      ctx.waitUntil(
        Promise.allSettled([runAuditRetention(env, at), runChainVerification(env)]).then((results) => {
          for (const r of results) {
            if (r.status === "rejected") console.error("daily audit job failed", { error: String(r.reason) });
          }
        }),
      );
    }
  },
} satisfies ExportedHandler<Env>;
