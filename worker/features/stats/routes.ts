import { createRoute, z } from "@hono/zod-openapi";
import { count, eq } from "drizzle-orm";
import { agentSkills, users } from "../../db/schema";
import { createRouter, errorResponses, jsonResponse } from "../../lib/http";
import { monthlyTotalUsd, PLAN_TIERS, type PlanTier } from "../../lib/pricing";
import { listAgents } from "../agents/service";
import { getTenantRow } from "../tenants/service";

export const statsRoutes = createRouter();

statsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["dashboard"],
    summary: "The tenant at a glance",
    responses: {
      200: jsonResponse(
        z.object({
          agents: z.object({ total: z.number(), active: z.number(), paused: z.number() }),
          skillsInstalled: z.number(),
          members: z.number(),
          planTier: z.enum(PLAN_TIERS),
          monthlyTotalUsd: z.number(),
        }),
        "Counts and the monthly total",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenantId");
    const [tenant, { rows }, skills, members] = await Promise.all([
      getTenantRow(db, tenantId),
      listAgents(db, tenantId),
      db.select({ n: count() }).from(agentSkills).where(eq(agentSkills.tenantId, tenantId)).get(),
      db.select({ n: count() }).from(users).where(eq(users.tenantId, tenantId)).get(),
    ]);
    const planTier = tenant.planTier as PlanTier;
    return c.json(
      {
        agents: {
          total: rows.length,
          active: rows.filter((a) => a.status === "active").length,
          paused: rows.filter((a) => a.status === "paused").length,
        },
        skillsInstalled: skills?.n ?? 0,
        members: members?.n ?? 0,
        planTier,
        monthlyTotalUsd: monthlyTotalUsd(
          {
            planTier,
            contractPlatformFeeUsd: tenant.contractPlatformFeeUsd,
            contractIncludedAgents: tenant.contractIncludedAgents,
          },
          rows,
        ),
      },
      200,
    );
  },
);
