import { z } from "zod";
import { DELIVERY_STATES, defineSkill, jsonObjectSchema, type SkillManifest } from "../sdk";

/**
 * The mailbox address the platform routes to the tenant's humans (dashboard alert, on-call webhook).
 * A tenant may name a more specific target, such as a team, with `to`.
 */
export const HUMAN_ESCALATION_TARGET = "humans";

export const ESCALATION_SEVERITIES = ["low", "medium", "high", "critical"] as const;

const manifest = {
  manifestVersion: 1,
  name: "human-escalation",
  version: "1.0.0",
  displayName: "Human escalation",
  description: "Ask a human for help or a decision: sends an escalation with a severity and a reason.",
  category: "safety",
  entry: "src/core/human-escalation.ts",
  runtime: "js",
  permissions: {
    network: { allowedDomains: [] },
    files: { readPaths: [], writePaths: [] },
    env: { required: [], optional: [] },
    messages: { send: ["escalation"] },
    models: { gateway: false },
  },
} satisfies SkillManifest;

export const humanEscalation = defineSkill({
  manifest,
  input: z.strictObject({
    severity: z.enum(ESCALATION_SEVERITIES),
    title: z.string().trim().min(1).max(200),
    // A human acts on this alone, so it has to say something.
    reason: z.string().trim().min(10, "explain the reason in at least 10 characters").max(4000),
    context: jsonObjectSchema.optional().describe("Facts the human needs: ids, links, what was tried."),
    to: z.string().trim().min(1).max(128).default(HUMAN_ESCALATION_TARGET),
    correlationId: z.string().min(1).max(128).optional(),
  }),
  output: z.object({ id: z.string().min(1), status: z.enum(DELIVERY_STATES), to: z.string() }),
  async handler(input, ctx) {
    const sent = await ctx.messages.send({
      to: input.to,
      type: "escalation",
      payload: {
        severity: input.severity,
        title: input.title,
        reason: input.reason,
        context: input.context ?? {},
        raisedAt: ctx.now().toISOString(),
      },
      ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
    });
    return { id: sent.id, status: sent.status, to: input.to };
  },
});
