import { z } from "zod";
import { DELIVERY_STATES, defineSkill, jsonObjectSchema, type SkillManifest } from "../sdk";

const manifest = {
  manifestVersion: 1,
  name: "agent-messaging",
  version: "1.0.0",
  displayName: "Agent messaging",
  description: "Send a message to another agent of the same tenant, as the tenant's allowlist permits.",
  category: "communication",
  entry: "src/core/agent-messaging.ts",
  runtime: "js",
  permissions: {
    network: { allowedDomains: [] },
    files: { readPaths: [], writePaths: [] },
    env: { required: [], optional: [] },
    // Escalations go through human-escalation, which insists on a severity and a reason.
    messages: { send: ["task_handoff", "status_update", "data_request", "data_response", "notification"] },
    models: { gateway: false },
  },
} satisfies SkillManifest;

const sendableTypes = z.enum(manifest.permissions.messages.send);

export const agentMessaging = defineSkill({
  manifest,
  input: z.strictObject({
    to: z.string().trim().min(1).max(128).describe("The receiving agent's id or name."),
    type: sendableTypes,
    payload: jsonObjectSchema,
    correlationId: z.string().min(1).max(128).optional().describe("Ties a reply to the message it answers."),
  }),
  output: z.object({ id: z.string().min(1), status: z.enum(DELIVERY_STATES) }),
  async handler(input, ctx) {
    const { id, status } = await ctx.messages.send({
      to: input.to,
      type: input.type,
      payload: input.payload,
      ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
    });
    return { id, status };
  },
});
