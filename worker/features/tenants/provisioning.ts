import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../../db/client";
import { configVersions, provisioningJobs, tenants, users } from "../../db/schema";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { buildAuditEvent, enqueueAudit } from "../audit/record";
import { enqueueBillingSync } from "../billing/stripe";
import { defaultTenantConfig } from "../config/schema";
import { ensureCatalog } from "../skills/catalog";

export const PROVISIONING_STEPS = [
  { name: "tenant_record", label: "Create tenant record" },
  { name: "admin_user", label: "Create admin user" },
  { name: "default_config", label: "Write default configuration (version 1)" },
  { name: "tenant_hub", label: "Initialise TenantHub" },
  { name: "core_skills", label: "Make core skills available" },
] as const;
export type StepName = (typeof PROVISIONING_STEPS)[number]["name"];

export const STEP_STATUSES = ["pending", "running", "completed", "failed"] as const;
const stepSchema = z.object({
  name: z.enum(PROVISIONING_STEPS.map((s) => s.name) as [StepName, ...StepName[]]),
  label: z.string(),
  status: z.enum(STEP_STATUSES),
  error: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type ProvisioningStep = z.infer<typeof stepSchema>;
const stepsSchema = z.array(stepSchema);

export const provisionMessageSchema = z.object({
  kind: z.literal("provision"),
  id: z.string(),
  jobId: z.string(),
  attempt: z.number().int().min(0),
});
export type ProvisionMessage = z.infer<typeof provisionMessageSchema>;

type JobRow = typeof provisioningJobs.$inferSelect;

export function initialSteps(): ProvisioningStep[] {
  return PROVISIONING_STEPS.map((s) => ({ name: s.name, label: s.label, status: "pending" }));
}

export function publicJob(job: JobRow) {
  return {
    id: job.id,
    tenantId: job.tenantId,
    status: job.status as (typeof STEP_STATUSES)[number],
    steps: stepsSchema.parse(JSON.parse(job.steps)).map(({ name, label, status, error }) => ({
      name,
      label,
      status,
      ...(error ? { error } : {}),
    })),
    attempts: job.attempts,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

export async function latestJob(db: Database, tenantId: string): Promise<JobRow | undefined> {
  return db
    .select()
    .from(provisioningJobs)
    .where(eq(provisioningJobs.tenantId, tenantId))
    .orderBy(desc(provisioningJobs.createdAt))
    .get();
}

export function provisionMessage(job: Pick<JobRow, "id" | "attempts">): ProvisionMessage {
  return { kind: "provision", id: newId("msg"), jobId: job.id, attempt: job.attempts };
}

/** An error a step may show to the operator. Anything else is logged and shown as a generic message. */
export class StepError extends Error {}

type StepContext = { db: Database; env: Env; job: JobRow; tenant: typeof tenants.$inferSelect };

/** Each step is idempotent: running it twice leaves what running it once left. */
const stepHandlers: Record<StepName, (ctx: StepContext) => Promise<void>> = {
  async tenant_record({ db, tenant }) {
    const clash = await db
      .select({ id: tenants.id })
      .from(tenants)
      .where(eq(tenants.slug, tenant.slug))
      .all();
    if (clash.some((t) => t.id !== tenant.id))
      throw new StepError(`Slug '${tenant.slug}' belongs to another tenant`);
  },

  async admin_user({ db, job, tenant }) {
    const existing = await db.select().from(users).where(eq(users.email, job.adminEmail)).get();
    if (existing) {
      if (existing.tenantId === tenant.id && existing.role === "tenant_admin") return;
      throw new StepError(`The email ${job.adminEmail} already belongs to another account`);
    }
    await db
      .insert(users)
      .values({
        id: `usr_${job.id.slice(4)}`,
        tenantId: tenant.id,
        email: job.adminEmail,
        name: job.adminName,
        role: "tenant_admin",
        passwordHash: job.adminPasswordHash,
      })
      .onConflictDoNothing();
  },

  async default_config({ db, tenant }) {
    await db
      .insert(configVersions)
      .values({
        tenantId: tenant.id,
        version: 1,
        config: JSON.stringify(defaultTenantConfig()),
        createdBy: "system",
      })
      .onConflictDoNothing();
  },

  async tenant_hub({ env, tenant }) {
    const hub = env.TENANT_HUB.get(env.TENANT_HUB.idFromName(tenant.id));
    const res = await hub.initialize({ tenantId: tenant.id, slug: tenant.slug, planTier: tenant.planTier });
    if (!res.ok) throw new StepError(`TenantHub refused initialisation (${res.code})`);
  },

  async core_skills({ db }) {
    await ensureCatalog(db);
  },
};

async function saveSteps(db: Database, jobId: string, steps: ProvisioningStep[], status: JobRow["status"]) {
  await db
    .update(provisioningJobs)
    .set({ steps: JSON.stringify(steps), status, updatedAt: new Date().toISOString() })
    .where(eq(provisioningJobs.id, jobId));
}

/**
 * Runs the job's steps in order from the first one not completed. A message from an earlier
 * attempt, or for a finished job, changes nothing; a redelivered message resumes where it stopped.
 */
export async function runProvisioning(db: Database, env: Env, message: ProvisionMessage): Promise<void> {
  const job = await db.select().from(provisioningJobs).where(eq(provisioningJobs.id, message.jobId)).get();
  if (!job || job.attempts !== message.attempt || job.status === "completed" || job.status === "failed")
    return;
  const tenant = await db.select().from(tenants).where(eq(tenants.id, job.tenantId)).get();
  if (!tenant) return;
  const steps = stepsSchema.parse(JSON.parse(job.steps));

  for (const step of steps) {
    if (step.status === "completed") continue;
    step.status = "running";
    step.startedAt = new Date().toISOString();
    delete step.error;
    await saveSteps(db, job.id, steps, "running");
    try {
      await stepHandlers[step.name]({ db, env, job, tenant });
    } catch (err) {
      const shown = err instanceof StepError ? err.message : "Internal error; see the platform logs";
      if (!(err instanceof StepError))
        console.error("provisioning step failed", { jobId: job.id, step: step.name, error: String(err) });
      step.status = "failed";
      step.error = shown;
      step.finishedAt = new Date().toISOString();
      await db.batch([
        db
          .update(provisioningJobs)
          .set({ steps: JSON.stringify(steps), status: "failed", updatedAt: new Date().toISOString() })
          .where(eq(provisioningJobs.id, job.id)),
        db
          .update(tenants)
          .set({ status: "failed", updatedAt: new Date().toISOString() })
          .where(eq(tenants.id, tenant.id)),
      ]);
      await enqueueAudit(env, [
        buildAuditEvent({
          action: "tenant.provisioning_failed",
          tenantId: tenant.id,
          severity: "high",
          target: { type: "tenant", id: tenant.id },
          details: { step: step.name, error: shown, attempt: job.attempts },
        }),
      ]);
      return;
    }
    step.status = "completed";
    step.finishedAt = new Date().toISOString();
    await saveSteps(db, job.id, steps, "running");
  }

  await db.batch([
    db
      .update(provisioningJobs)
      .set({ steps: JSON.stringify(steps), status: "completed", updatedAt: new Date().toISOString() })
      .where(eq(provisioningJobs.id, job.id)),
    db
      .update(tenants)
      .set({ status: "active", updatedAt: new Date().toISOString() })
      .where(eq(tenants.id, tenant.id)),
  ]);
  // Its Stripe customer and subscription (platform fee, agents) are created by the billing sync.
  await enqueueBillingSync(env, tenant.id);
  await enqueueAudit(env, [
    buildAuditEvent({
      action: "tenant.provisioned",
      tenantId: tenant.id,
      target: { type: "tenant", id: tenant.id },
      details: { attempt: job.attempts },
    }),
  ]);
}

/** Resumes a failed job from its failed step (completed steps are kept). */
export async function retryProvisioning(db: Database, env: Env, tenantId: string) {
  const job = await latestJob(db, tenantId);
  if (!job) throw new AppError(404, "not_found", "No provisioning job for this tenant");
  if (job.status !== "failed") {
    throw new AppError(409, "not_failed", `Provisioning is ${job.status}; only a failed job can be retried`);
  }
  const steps = stepsSchema
    .parse(JSON.parse(job.steps))
    .map((s) =>
      s.status === "completed" ? s : { name: s.name, label: s.label, status: "pending" as const },
    );
  const attempts = job.attempts + 1;
  const claimed = await db
    .update(provisioningJobs)
    .set({ steps: JSON.stringify(steps), status: "pending", attempts, updatedAt: new Date().toISOString() })
    .where(and(eq(provisioningJobs.id, job.id), eq(provisioningJobs.status, "failed")))
    .run();
  if (claimed.meta.changes !== 1)
    throw new AppError(409, "conflict", "Provisioning changed meanwhile; reload");
  await db.update(tenants).set({ status: "provisioning" }).where(eq(tenants.id, tenantId));
  await env.PROVISIONING.send(provisionMessage({ id: job.id, attempts }));
  const updated = await latestJob(db, tenantId);
  if (!updated) throw new Error("provisioning job vanished");
  return publicJob(updated);
}
