import { app } from "./app";
import { createDb } from "./db/client";
import { reportOverage } from "./features/billing/stripe";
import { runAuditRetention } from "./jobs/audit-retention";
import { runChainVerification } from "./jobs/audit-verification";
import { handleQueue } from "./jobs/queue";
import { runQuotaReset } from "./jobs/quota-reset";
import { runWorkflowSchedules } from "./jobs/workflow-schedules";

export { AgentMailbox } from "../durable-objects/agent-mailbox";
export { ClusterHub } from "../durable-objects/cluster-hub";
export { TenantHub } from "../durable-objects/tenant-hub";

export default {
  fetch: app.fetch,
  queue: handleQueue,
  async scheduled(controller, env, ctx) {
    const at = new Date(controller.scheduledTime);
    if (controller.cron === "*/15 * * * *") {
      ctx.waitUntil(runWorkflowSchedules(env, at));
      // Overage beyond the quota goes to Stripe as meter events (bounded, safe to re-run).
      ctx.waitUntil(
        reportOverage(createDb(env.DB), env).catch((err) =>
          console.error("overage report failed", { error: String(err) }),
        ),
      );
    }
    if (controller.cron === "0 0 1 * *") ctx.waitUntil(runQuotaReset(env, at));
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
