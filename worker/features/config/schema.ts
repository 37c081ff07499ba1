import { z } from "@hono/zod-openapi";
import { WORKFLOW_TEMPLATES } from "../../../durable-objects/workflows";
import { MODEL_TIERS, THINKING_MODES } from "../../lib/pricing";

/**
 * The tenant configuration that is versioned and pushed to every running agent.
 * Every field has a default, so `{}` parses to the default configuration (version 1).
 */
export const tenantConfigSchema = z
  .object({
    agents: z
      .object({
        defaultModelTier: z.enum(MODEL_TIERS).default("sonnet"),
        defaultThinkingMode: z.enum(THINKING_MODES).default("off"),
        systemPrompt: z
          .string()
          .max(8000)
          .default("You are a helpful agent of this company. Be precise and brief."),
        maxConcurrentTasks: z.number().int().min(1).max(64).default(4),
      })
      .prefault({}),
    messaging: z
      .object({
        /** Loop guard: a correlation chain longer than this is rejected. */
        maxHops: z.number().int().min(2).max(64).default(16),
        /** Loop guard: the same sender → recipient → type more often than this in one chain is rejected. */
        maxRepeats: z.number().int().min(1).max(100).default(4),
        defaultTtlSeconds: z
          .number()
          .int()
          .min(10)
          .max(7 * 24 * 3600)
          .default(24 * 3600),
      })
      .prefault({}),
    workflows: z
      .object({
        /** Scheduled runs of workflow templates, checked by the Cron trigger every 15 minutes. */
        schedules: z
          .array(
            z
              .object({
                template: z.enum(WORKFLOW_TEMPLATES),
                leadAgentId: z.string().min(1).max(64),
                participantIds: z.array(z.string().min(1).max(64)).min(1).max(50),
                at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM in UTC"),
                weekdays: z.array(z.number().int().min(0).max(6)).max(7).optional(),
              })
              .strict(),
          )
          .max(20)
          .default([]),
      })
      .prefault({}),
    notifications: z.object({ escalationEmails: z.array(z.email()).max(20).default([]) }).prefault({}),
    audit: z
      .object({
        /**
         * Which agent messages go to the audit log: "rejected" (default) or "all". Every message is
         * in the message timeline either way; "all" adds one audit row per message.
         */
        messages: z.enum(["rejected", "all"]).default("rejected"),
      })
      .prefault({}),
  })
  .strict()
  .openapi("TenantConfig");

export type TenantConfig = z.infer<typeof tenantConfigSchema>;

export const defaultTenantConfig = (): TenantConfig => tenantConfigSchema.parse({});
