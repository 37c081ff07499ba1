import { and, inArray, lt } from "drizzle-orm";
import { createDb } from "../db/client";
import { agents } from "../db/schema";
import { refreshBillingProfiles } from "../features/billing/profile";
import { nextQuotaReset } from "../lib/pricing";

/**
 * 00:00 UTC on the 1st: every agent still counting an earlier month starts the new one at zero,
 * in `normal`, with its acknowledgement cleared; each mailbox gets the new profile. History stays
 * in usage_records and usage_calls. (The usage consumer does the same for an agent whose first
 * call of the month arrives before this runs.) Bounded batches; safe to re-run.
 */
export async function runQuotaReset(env: Env, at: Date, batch = 200): Promise<number> {
  const db = createDb(env.DB);
  const month = at.toISOString().slice(0, 7);
  let reset = 0;
  for (;;) {
    const rows = await db
      .select({ id: agents.id, tenantId: agents.tenantId })
      .from(agents)
      .where(lt(agents.usageMonth, month))
      .limit(batch)
      .all();
    if (rows.length === 0) break;
    await db
      .update(agents)
      .set({
        monthlyTokensUsed: 0,
        quotaState: "normal",
        quotaAcknowledgedAt: null,
        usageMonth: month,
        tokenQuotaResetAt: nextQuotaReset(at),
      })
      .where(
        and(
          inArray(
            agents.id,
            rows.map((r) => r.id),
          ),
          lt(agents.usageMonth, month),
        ),
      );
    reset += rows.length;
    const byTenant = new Map<string, string[]>();
    for (const r of rows) byTenant.set(r.tenantId, [...(byTenant.get(r.tenantId) ?? []), r.id]);
    for (const [tenantId, ids] of byTenant) await refreshBillingProfiles(db, env, tenantId, ids);
  }
  return reset;
}
