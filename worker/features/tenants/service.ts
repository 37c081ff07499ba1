import { and, count, desc, eq, inArray, isNull, like, ne, or, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client";
import { agents, provisioningJobs, sessions, tenants, users } from "../../db/schema";
import { hashPassword } from "../../lib/crypto";
import { AppError, notFound } from "../../lib/errors";
import { newId, randomToken } from "../../lib/ids";
import { DEFAULT_MONTHLY_TOKEN_QUOTA, PLANS, type PlanTier } from "../../lib/pricing";
import { initialSteps, latestJob, provisionMessage, publicJob } from "./provisioning";

type TenantRow = typeof tenants.$inferSelect;

export function publicTenant(t: TenantRow) {
  return {
    id: t.id,
    name: t.name,
    slug: t.slug,
    region: t.region,
    status: t.status,
    planTier: t.planTier as PlanTier,
    overageBillingEnabled: t.overageBillingEnabled,
    monthlyTokenQuota: t.monthlyTokenQuota,
    contractPlatformFeeUsd: t.contractPlatformFeeUsd,
    contractIncludedAgents: t.contractIncludedAgents,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export interface CreateTenantInput {
  name: string;
  slug: string;
  planTier: PlanTier;
  adminEmail: string;
  adminName: string;
  region?: string;
  monthlyTokenQuota?: number;
}

/**
 * Writes the tenant (status `provisioning`) and its provisioning job in one transaction, then
 * hands the steps to the PROVISIONING queue. The admin's one-time password is returned here, once;
 * only its hash is kept.
 */
export async function createTenant(db: Database, env: Env, input: CreateTenantInput) {
  const slugTaken = await db
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.slug, input.slug))
    .get();
  if (slugTaken) {
    throw new AppError(409, "slug_taken", `The slug '${input.slug}' is taken`, {
      slug: ["This slug is taken"],
    });
  }
  const emailTaken = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.email, input.adminEmail))
    .get();
  if (emailTaken) {
    throw new AppError(409, "email_taken", "That email already has an account", {
      adminEmail: ["This email already has an account"],
    });
  }
  const oneTimePassword = `${randomToken(6)}-${randomToken(6)}-${randomToken(6)}`;
  const tenantId = newId("ten");
  const job = {
    id: newId("prv"),
    tenantId,
    status: "pending",
    steps: JSON.stringify(initialSteps()),
    adminEmail: input.adminEmail,
    adminName: input.adminName,
    adminPasswordHash: await hashPassword(oneTimePassword),
    attempts: 0,
  };
  try {
    await db.batch([
      db.insert(tenants).values({
        id: tenantId,
        name: input.name,
        slug: input.slug,
        region: input.region ?? null,
        planTier: input.planTier,
        status: "provisioning",
        monthlyTokenQuota: input.monthlyTokenQuota ?? DEFAULT_MONTHLY_TOKEN_QUOTA,
      }),
      db.insert(provisioningJobs).values(job),
    ]);
  } catch (err) {
    if (String(err).includes("UNIQUE")) {
      throw new AppError(409, "slug_taken", `The slug '${input.slug}' is taken`, {
        slug: ["This slug is taken"],
      });
    }
    throw err;
  }
  await env.PROVISIONING.send(provisionMessage(job));
  const tenant = await getTenant(db, tenantId);
  const saved = await latestJob(db, tenantId);
  if (!saved) throw new Error("provisioning job missing after insert");
  return { tenant, provisioning: publicJob(saved), admin: { email: input.adminEmail, oneTimePassword } };
}

export async function getTenantRow(db: Database, id: string): Promise<TenantRow> {
  const row = await db
    .select()
    .from(tenants)
    .where(and(eq(tenants.id, id), ne(tenants.status, "deleted")))
    .get();
  if (!row) throw notFound("Tenant");
  return row;
}

export async function getTenant(db: Database, id: string) {
  return publicTenant(await getTenantRow(db, id));
}

export async function listTenants(
  db: Database,
  q: { page: number; limit: number; q?: string; status?: string },
) {
  const filters: SQL[] = [ne(tenants.status, "deleted")];
  if (q.q) {
    const pattern = `%${q.q.replace(/[%_]/g, "")}%`;
    const match = or(like(tenants.name, pattern), like(tenants.slug, pattern));
    if (match) filters.push(match);
  }
  if (q.status) filters.push(eq(tenants.status, q.status));
  const where = and(...filters);
  const [rows, total] = await Promise.all([
    db
      .select()
      .from(tenants)
      .where(where)
      .orderBy(desc(tenants.createdAt))
      .limit(q.limit)
      .offset((q.page - 1) * q.limit)
      .all(),
    db.select({ n: count() }).from(tenants).where(where).get(),
  ]);
  return { rows: rows.map(publicTenant), total: total?.n ?? 0 };
}

export interface UpdateTenantInput {
  name?: string;
  planTier?: PlanTier;
  overageBillingEnabled?: boolean;
  monthlyTokenQuota?: number;
  status?: "active" | "suspended";
  contractPlatformFeeUsd?: number | null;
  contractIncludedAgents?: number | null;
}

export async function updateTenant(db: Database, id: string, input: UpdateTenantInput) {
  const before = await getTenantRow(db, id);
  const plan = PLANS[input.planTier ?? (before.planTier as PlanTier)];
  const overage = input.overageBillingEnabled ?? before.overageBillingEnabled;
  if (overage && !plan.overageEligible) {
    throw new AppError(403, "plan_not_eligible", `Plan '${plan.tier}' does not allow overage billing`, {
      overageBillingEnabled: [`Not available on the ${plan.label} plan`],
    });
  }
  if (input.status && before.status !== "active" && before.status !== "suspended") {
    throw new AppError(409, "conflict", `A ${before.status} tenant cannot be ${input.status}`);
  }
  if (input.planTier && plan.maxAgents !== null) {
    const n = (await db.select({ n: count() }).from(agents).where(eq(agents.tenantId, id)).get())?.n ?? 0;
    if (n > plan.maxAgents) {
      throw new AppError(
        409,
        "agent_limit_exceeded",
        `The tenant has ${n} agents; ${plan.label} allows ${plan.maxAgents}`,
        {
          planTier: [`Remove agents first: ${n} > ${plan.maxAgents}`],
        },
      );
    }
  }
  const [after] = await db
    .update(tenants)
    .set({ ...input, updatedAt: new Date().toISOString() })
    .where(eq(tenants.id, id))
    .returning();
  if (!after) throw notFound("Tenant");
  if (input.status === "suspended") await revokeTenantSessions(db, id, "tenant_suspended");
  return { before: publicTenant(before), after: publicTenant(after) };
}

async function revokeTenantSessions(db: Database, tenantId: string, reason: string) {
  const members = db.select({ id: users.id }).from(users).where(eq(users.tenantId, tenantId));
  await db
    .update(sessions)
    .set({ revokedAt: new Date().toISOString(), revokedReason: reason })
    .where(and(inArray(sessions.userId, members), isNull(sessions.revokedAt)));
}

/** Soft delete: the tenant disappears from every list and its users are logged out; its data is kept. */
export async function deleteTenant(db: Database, id: string) {
  await getTenantRow(db, id);
  await db
    .update(tenants)
    .set({ status: "deleted", updatedAt: new Date().toISOString() })
    .where(eq(tenants.id, id));
  await revokeTenantSessions(db, id, "tenant_deleted");
}

export async function platformStats(db: Database) {
  const [t, active, failed, a] = await Promise.all([
    db.select({ n: count() }).from(tenants).where(ne(tenants.status, "deleted")).get(),
    db.select({ n: count() }).from(tenants).where(eq(tenants.status, "active")).get(),
    db.select({ n: count() }).from(tenants).where(eq(tenants.status, "failed")).get(),
    db.select({ n: count() }).from(agents).get(),
  ]);
  return {
    tenants: t?.n ?? 0,
    activeTenants: active?.n ?? 0,
    provisioningFailed: failed?.n ?? 0,
    agents: a?.n ?? 0,
  };
}
