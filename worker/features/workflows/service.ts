import { and, eq, inArray } from "drizzle-orm";
import type { WorkflowTemplateId } from "../../../durable-objects/workflows";
import type { Database } from "../../db/client";
import { agents } from "../../db/schema";
import { validationFailed } from "../../lib/errors";
import { hubStub } from "../../lib/objects";

export interface TriggerInput {
  template: WorkflowTemplateId;
  leadAgentId: string;
  participantIds: string[];
  trigger: string;
  dedupeKey?: string;
  timeoutSeconds?: number;
}

/** Checks that the lead and every participant are agents of this tenant, then starts the run in TenantHub. */
export async function triggerWorkflow(db: Database, env: Env, tenantId: string, input: TriggerInput) {
  const ids = [...new Set([input.leadAgentId, ...input.participantIds])];
  const rows = await db
    .select({ id: agents.id, name: agents.name })
    .from(agents)
    .where(and(eq(agents.tenantId, tenantId), inArray(agents.id, ids)))
    .all();
  const known = new Map(rows.map((r) => [r.id, r.name]));
  const details: Record<string, string[]> = {};
  if (!known.has(input.leadAgentId)) details.leadAgentId = ["Unknown agent"];
  input.participantIds.forEach((p, i) => {
    if (!known.has(p)) details[`participantIds.${i}`] = ["Unknown agent"];
    if (p === input.leadAgentId) details[`participantIds.${i}`] = ["The lead cannot also be a participant"];
  });
  if (Object.keys(details).length) throw validationFailed(details);
  return hubStub(env, tenantId).startRun({
    template: input.template,
    leadAgentId: input.leadAgentId,
    leadName: known.get(input.leadAgentId) ?? input.leadAgentId,
    participants: input.participantIds.map((id) => ({ id, name: known.get(id) ?? id })),
    trigger: input.trigger,
    ...(input.dedupeKey ? { dedupeKey: input.dedupeKey } : {}),
    ...(input.timeoutSeconds ? { timeoutSeconds: input.timeoutSeconds } : {}),
  });
}
