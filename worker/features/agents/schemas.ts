import { z } from "@hono/zod-openapi";
import { MODEL_TIERS, QUOTA_STATES, THINKING_MODES } from "../../lib/pricing";

export const AgentSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    role: z.string().nullable(),
    modelTier: z.enum(MODEL_TIERS),
    thinkingMode: z.enum(THINKING_MODES),
    status: z.string(),
    included: z
      .boolean()
      .openapi({ description: "One of the plan's included agents (billed at $0 base fee)" }),
    costPerMonth: z.number(),
    monthlyTokensUsed: z.number().int(),
    monthlyTokenQuotaOverride: z.number().int().nullable(),
    tokenQuotaResetAt: z.string(),
    quota: z.number().int(),
    quotaState: z.enum(QUOTA_STATES),
    runtime: z.object({
      status: z.enum(["pending", "starting", "running", "crashloop", "stopped"]),
      restarts: z.number().int(),
      lastError: z.string().optional(),
      connectedAt: z.string().optional(),
    }),
    credentialPrefix: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Agent");

const AgentName = z
  .string()
  .trim()
  .min(2)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, "Letters, digits, spaces, dots, dashes and underscores");

export const CreateAgentBody = z.object({
  name: AgentName,
  role: z.string().trim().max(200).optional(),
  modelTier: z.enum(MODEL_TIERS),
  thinkingMode: z.enum(THINKING_MODES),
  skills: z.array(z.string().min(1).max(80)).max(50).optional(),
});

export const UpdateAgentBody = z
  .object({
    name: AgentName.optional(),
    role: z.string().trim().max(200).nullable().optional(),
    modelTier: z.enum(MODEL_TIERS).optional(),
    thinkingMode: z.enum(THINKING_MODES).optional(),
    monthlyTokenQuotaOverride: z.number().int().min(0).max(10_000_000_000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "Nothing to update");

export const PricingPreviewQuery = z.object({
  modelTier: z.enum(MODEL_TIERS),
  thinkingMode: z.enum(THINKING_MODES).default("off"),
});
