import { z } from "zod";
import { AGENT_STATES, DELIVERY_STATES, defineSkill, type SkillManifest } from "../sdk";

const manifest = {
  manifestVersion: 1,
  name: "status-reporting",
  version: "1.0.0",
  displayName: "Status reporting",
  description:
    "Report what the agent is doing and how far along it is, to the dashboard and optionally to other agents.",
  category: "communication",
  entry: "src/core/status-reporting.ts",
  runtime: "js",
  permissions: {
    network: { allowedDomains: [] },
    files: { readPaths: [], writePaths: [] },
    env: { required: [], optional: [] },
    messages: { send: ["status_update"] },
    models: { gateway: false },
  },
} satisfies SkillManifest;

export const statusReporting = defineSkill({
  manifest,
  input: z.strictObject({
    state: z.enum(AGENT_STATES),
    message: z.string().trim().max(500).optional(),
    progress: z.number().min(0).max(100).optional().describe("Percent complete."),
    notify: z
      .array(z.string().trim().min(1).max(128))
      .max(10)
      .default([])
      .describe("Agents that should also get a status_update message."),
  }),
  output: z.object({
    reported: z.literal(true),
    notified: z.array(z.object({ to: z.string(), id: z.string(), status: z.enum(DELIVERY_STATES) })),
  }),
  async handler({ state, message, progress, notify }, ctx) {
    const status = {
      state,
      ...(message === undefined ? {} : { message }),
      ...(progress === undefined ? {} : { progress }),
    };
    await ctx.status.report(status);
    const notified = [];
    for (const to of new Set(notify)) {
      const sent = await ctx.messages.send({
        to,
        type: "status_update",
        payload: { ...status, at: ctx.now().toISOString() },
      });
      notified.push({ to, id: sent.id, status: sent.status });
    }
    return { reported: true as const, notified };
  },
});
