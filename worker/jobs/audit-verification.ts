import { createDb } from "../db/client";
import { auditChainHeads } from "../db/schema";
import { buildAuditEvent, enqueueAudit } from "../features/audit/record";
import { verifyChain } from "../features/audit/service";

/** Chains verified per Cron run; the heads are ordered by their last write, oldest first. */
const MAX_CHAINS_PER_RUN = 200;

/**
 * Daily: verifies every chain (bounded per run) without anyone asking, and records a broken one as
 * `audit.verify_failed` (critical), which the alert rules turn into an alert and a webhook.
 */
export async function runChainVerification(env: Env): Promise<{ checked: number; broken: string[] }> {
  const db = createDb(env.DB);
  const heads = await db
    .select({ chain: auditChainHeads.chain })
    .from(auditChainHeads)
    .orderBy(auditChainHeads.updatedAt)
    .limit(MAX_CHAINS_PER_RUN)
    .all();
  const broken: string[] = [];
  for (const { chain } of heads) {
    const result = await verifyChain(db, chain);
    if (result.valid) continue;
    broken.push(chain);
    await enqueueAudit(env, [
      buildAuditEvent({
        action: "audit.verify_failed",
        tenantId: chain === "platform" ? null : chain,
        actor: { type: "system", id: null, name: "scheduled verification" },
        severity: "critical",
        target: { type: "audit", id: result.firstBrokenId },
        details: { checked: result.checked, firstBrokenId: result.firstBrokenId, reason: result.reason },
      }),
    ]);
  }
  return { checked: heads.length, broken };
}
