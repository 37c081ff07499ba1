// The controller protocol (`/controller/v1/connect`), shared by the platform (ClusterHub, desired.ts)
// and the controller (`controller/`): zod schemas and their types, nothing else (no D1, no Workers APIs).
import { z } from "zod";

export const desiredSkillSchema = z.object({
  skillId: z.string(),
  name: z.string(),
  version: z.string(),
  /** The package in R2 for private skills; null for the platform's built-in skills. */
  sha256: z.string().nullable(),
  allowedDomains: z.array(z.string()),
});

export const desiredTenantSchema = z.object({
  kind: z.literal("tenant"),
  tenantId: z.string().min(1),
  slug: z.string().regex(/^[a-z0-9-]+$/),
  /** The namespace (Kubernetes) or working folder (local) of the tenant's agents. */
  namespace: z.string().regex(/^[a-z0-9-]{1,63}$/),
  egressMode: z.enum(["enforce", "log-only"]),
  configVersion: z.number().int().min(0),
});

export const desiredAgentSchema = z.object({
  kind: z.literal("agent"),
  tenantId: z.string().min(1),
  agentId: z.string().min(1).max(64),
  name: z.string(),
  /** active agents run; paused ones are scaled to zero (their mailbox refuses them anyway). */
  state: z.enum(["running", "stopped"]),
  modelTier: z.string(),
  thinkingMode: z.string(),
  skills: z.array(desiredSkillSchema),
  /** The union of the installed skills' `network.allowedDomains`: the agent's egress allowlist. */
  allowedDomains: z.array(z.string()),
  /** The runtime credential version the controller should hold (0: none issued yet, ask for one). */
  credentialVersion: z.number().int().min(0),
});

export const desiredResourceSchema = z.discriminatedUnion("kind", [desiredTenantSchema, desiredAgentSchema]);

/** platform → controller */
export const desiredStateFrameSchema = z.object({
  op: z.literal("desired_state"),
  generation: z.number().int().min(1),
  resources: z.array(desiredResourceSchema).max(20_000),
});

export type DesiredTenant = z.infer<typeof desiredTenantSchema>;
export type DesiredSkill = z.infer<typeof desiredSkillSchema>;
export type DesiredAgent = z.infer<typeof desiredAgentSchema>;
export type DesiredResource = z.infer<typeof desiredResourceSchema>;

export interface DesiredState {
  clusterId: string;
  generation: number;
  resources: DesiredResource[];
}

export const AGENT_RUNTIME_STATUSES = ["pending", "running", "crashloop", "stopped"] as const;

/** controller → platform */
export const controllerFrameSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("ping") }),
  z.object({ op: z.literal("applied"), generation: z.number().int().min(0) }),
  z.object({
    op: z.literal("status"),
    agents: z
      .array(
        z.object({
          agentId: z.string().min(1).max(64),
          status: z.enum(AGENT_RUNTIME_STATUSES),
          restarts: z.number().int().min(0).default(0),
          lastError: z.string().max(2000).nullable().optional(),
        }),
      )
      .max(5000),
    /** Objects the driver could not apply at the generation it last tried, with the API's message. */
    errors: z
      .array(z.object({ resource: z.string().max(300), message: z.string().max(2000) }))
      .max(500)
      .optional(),
  }),
  z.object({
    op: z.literal("egress_blocked"),
    agentId: z.string().min(1).max(64),
    domain: z.string().min(1).max(253),
    at: z.string().datetime(),
    /** log-only mode: the request went through and would have been blocked. */
    wouldBlock: z.boolean().optional(),
  }),
  z.object({
    op: z.literal("rejected"),
    generation: z.number().int().min(0),
    reason: z.string().max(2000),
  }),
]);
export type ControllerFrame = z.infer<typeof controllerFrameSchema>;
export type ControllerFrameInput = z.input<typeof controllerFrameSchema>;
