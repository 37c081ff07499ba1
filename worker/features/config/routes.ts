import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../../lib/http";
import { audit } from "../audit/record";
import { actorOf } from "../auth/principal";
import { tenantConfigSchema } from "./schema";
import { configStatus, configVersion, latestConfig, listConfigVersions, saveConfig } from "./service";

const ConfigVersion = z
  .object({
    version: z.number().int(),
    config: tenantConfigSchema,
    updatedAt: z.string(),
    updatedBy: z.string().nullable(),
  })
  .openapi("ConfigVersion");
const SaveResult = z
  .object({
    version: z.number().int(),
    pushedTo: z.array(z.string()).openapi({ description: "Connected agents that received the version now" }),
    pending: z
      .array(z.string())
      .openapi({ description: "Offline agents; they get the latest version when they connect" }),
  })
  .openapi("ConfigSaveResult");
const conflict = {
  409: jsonResponse(z.object({ code: z.string() }), "version_conflict: someone saved first"),
};

export const configRoutes = createRouter();

configRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["config"],
    summary: "The tenant's current configuration",
    responses: { 200: jsonResponse(ConfigVersion, "The latest version"), ...errorResponses },
  }),
  async (c) => c.json(await latestConfig(c.get("db"), c.get("tenantId")), 200),
);

configRoutes.openapi(
  createRoute({
    method: "put",
    path: "/",
    tags: ["config"],
    summary: "Save a new version and push it to every running agent (hot reload)",
    request: {
      body: jsonBody(z.object({ config: tenantConfigSchema, expectedVersion: z.number().int().min(1) })),
    },
    responses: { 200: jsonResponse(SaveResult, "Saved and pushed"), ...errorResponses, ...conflict },
  }),
  async (c) => {
    const { config, expectedVersion } = c.req.valid("json");
    const saved = await saveConfig(
      c.get("db"),
      c.env,
      c.get("tenantId"),
      config,
      expectedVersion,
      actorOf(c.get("principal")).name,
    );
    audit(c, {
      action: "config.updated",
      target: { type: "config", id: String(saved.version) },
      details: { before: saved.before, after: saved.after, version: saved.version },
    });
    return c.json({ version: saved.version, pushedTo: saved.pushedTo, pending: saved.pending }, 200);
  },
);

configRoutes.openapi(
  createRoute({
    method: "get",
    path: "/versions",
    tags: ["config"],
    summary: "Version history, newest first",
    responses: {
      200: jsonResponse(
        z.object({
          data: z.array(
            z.object({ version: z.number(), updatedAt: z.string(), updatedBy: z.string().nullable() }),
          ),
        }),
        "Versions",
      ),
      ...errorResponses,
    },
  }),
  async (c) => c.json({ data: await listConfigVersions(c.get("db"), c.get("tenantId")) }, 200),
);

configRoutes.openapi(
  createRoute({
    method: "get",
    path: "/versions/{version}",
    tags: ["config"],
    summary: "One version",
    request: { params: z.object({ version: z.coerce.number().int().min(1) }) },
    responses: { 200: jsonResponse(ConfigVersion, "The version"), ...errorResponses },
  }),
  async (c) => c.json(await configVersion(c.get("db"), c.get("tenantId"), c.req.valid("param").version), 200),
);

configRoutes.openapi(
  createRoute({
    method: "post",
    path: "/rollback",
    tags: ["config"],
    summary: "Roll back: a new version equal to an old one, pushed like any save",
    request: { body: jsonBody(z.object({ version: z.number().int().min(1) })) },
    responses: { 200: jsonResponse(SaveResult, "Rolled back"), ...errorResponses, ...conflict },
  }),
  async (c) => {
    const db = c.get("db");
    const tenantId = c.get("tenantId");
    const target = await configVersion(db, tenantId, c.req.valid("json").version);
    const current = await latestConfig(db, tenantId);
    const saved = await saveConfig(
      db,
      c.env,
      tenantId,
      target.config,
      current.version,
      actorOf(c.get("principal")).name,
    );
    audit(c, {
      action: "config.rolled_back",
      target: { type: "config", id: String(saved.version) },
      details: { before: saved.before, after: saved.after, from: current.version, to: target.version },
    });
    return c.json({ version: saved.version, pushedTo: saved.pushedTo, pending: saved.pending }, 200);
  },
);

configRoutes.openapi(
  createRoute({
    method: "get",
    path: "/status",
    tags: ["config"],
    summary: "Which agents are connected and which version each applied",
    responses: {
      200: jsonResponse(
        z.object({
          version: z.number(),
          agents: z.array(
            z.object({
              agentId: z.string(),
              name: z.string(),
              connected: z.boolean(),
              appliedVersion: z.number().nullable(),
              appliedAt: z.string().nullable(),
            }),
          ),
        }),
        "Per-agent status",
      ),
      ...errorResponses,
    },
  }),
  async (c) => c.json(await configStatus(c.get("db"), c.env, c.get("tenantId")), 200),
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
