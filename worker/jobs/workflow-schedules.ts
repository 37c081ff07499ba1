import { z } from "zod";
import { createDb } from "../db/client";
import { tenantConfigSchema } from "../features/config/schema";
import { triggerWorkflow } from "../features/workflows/service";

/** The Cron trigger runs every 15 minutes; a schedule fires when its HH:MM falls in the window just passed. */
export const SCHEDULE_WINDOW_MINUTES = 15;
const MAX_TENANTS_PER_RUN = 500;

const rowSchema = z.object({ tenant_id: z.string(), config: z.string() });

export function dueInWindow(
  at: string,
  weekdays: number[] | undefined,
  now: Date,
  windowMinutes = SCHEDULE_WINDOW_MINUTES,
): string | null {
  const [h, m] = at.split(":").map(Number);
  if (h === undefined || m === undefined) return null;
  const fire = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m));
  const windowStart = now.getTime() - windowMinutes * 60_000;
  if (fire.getTime() > now.getTime() || fire.getTime() <= windowStart) return null;
  if (weekdays?.length && !weekdays.includes(fire.getUTCDay())) return null;
  return fire.toISOString();
}

/** Starts every scheduled workflow due now; a dedupe key per schedule and day makes re-runs harmless. */
export async function runWorkflowSchedules(
  env: Env,
  now = new Date(),
): Promise<{ started: number; skipped: number }> {
  const db = createDb(env.DB);
  const { results } = await env.DB.prepare(
    `SELECT c.tenant_id, c.config FROM config_versions c
     JOIN (SELECT tenant_id, MAX(version) AS v FROM config_versions GROUP BY tenant_id) m ON m.tenant_id = c.tenant_id AND m.v = c.version
     JOIN tenants t ON t.id = c.tenant_id AND t.status = 'active'
     WHERE json_array_length(c.config, '$.workflows.schedules') > 0 LIMIT ?`,
  )
    .bind(MAX_TENANTS_PER_RUN)
    .all();
  let started = 0;
  let skipped = 0;
  for (const raw of results) {
    const row = rowSchema.safeParse(raw);
    if (!row.success) continue;
    const config = tenantConfigSchema.safeParse(JSON.parse(row.data.config));
    if (!config.success) continue;
    for (const [i, s] of config.data.workflows.schedules.entries()) {
      const fireAt = dueInWindow(s.at, s.weekdays, now);
      if (!fireAt) continue;
      try {
        const res = await triggerWorkflow(db, env, row.data.tenant_id, {
          template: s.template,
          leadAgentId: s.leadAgentId,
          participantIds: s.participantIds,
          trigger: "schedule",
          dedupeKey: `schedule:${i}:${s.template}:${fireAt}`,
        });
        if (res.duplicate) skipped++;
        else started++;
      } catch (err) {
        console.error("scheduled workflow failed to start", {
          tenantId: row.data.tenant_id,
          schedule: i,
          error: String(err),
        });
        skipped++;
      }
    }
  }
  return { started, skipped };
}
