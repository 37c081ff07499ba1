import { createRoute, z } from "@hono/zod-openapi";
import { desc, eq } from "drizzle-orm";
import { configVersions } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { createRouter, errorResponses, jsonResponse } from "../../lib/http";
import { tenantConfigSchema } from "./schema";

export const configRoutes = createRouter();

configRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["config"],
    summary: "The tenant's current configuration",
    responses: {
      200: jsonResponse(
        z.object({
          version: z.number().int(),
          config: tenantConfigSchema,
          updatedAt: z.string(),
          updatedBy: z.string().nullable(),
        }),
        "The latest version",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const row = await c
      .get("db")
      .select()
      .from(configVersions)
      .where(eq(configVersions.tenantId, c.get("tenantId")))
      .orderBy(desc(configVersions.version))
      .get();
    if (!row) throw notFound("Configuration");
    const config = tenantConfigSchema.parse(JSON.parse(row.config));
    return c.json({ version: row.version, config, updatedAt: row.createdAt, updatedBy: row.createdBy }, 200);
  },
);

configRoutes.openapi(
  createRoute({
    method: "get",
    path: "/schema",
    tags: ["config"],
    summary: "JSON Schema of the configuration, for the form editor",
    responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "JSON Schema"), ...errorResponses },
  }),
  (c) => c.json(z.toJSONSchema(tenantConfigSchema, { io: "input" }) as Record<string, unknown>, 200),
);
