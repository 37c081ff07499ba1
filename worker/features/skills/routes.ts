import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorResponses, jsonResponse } from "../../lib/http";
import { audit } from "../audit/record";
import { actorOf } from "../auth/principal";
import { installSkill, listCatalog, listInstalled, uninstallSkill } from "./service";

const CatalogSkill = z
  .object({
    id: z.string(),
    name: z.string(),
    displayName: z.string(),
    description: z.string(),
    category: z.string(),
    visibility: z.enum(["core", "public", "private"]),
    isCore: z.boolean(),
    latestVersion: z.string(),
    permissions: z.array(z.string()).openapi({ description: "The manifest's permissions in plain language" }),
  })
  .openapi("CatalogSkill");

const InstalledSkill = z
  .object({
    agentId: z.string(),
    skillId: z.string(),
    name: z.string(),
    displayName: z.string(),
    version: z.string(),
    isCore: z.boolean(),
    installedAt: z.string(),
  })
  .openapi("InstalledSkill");

const Id = z.string().min(1).max(80);

export const skillRoutes = createRouter();

skillRoutes.openapi(
  createRoute({
    method: "get",
    path: "/skills",
    tags: ["skills"],
    summary: "Skills the tenant can install: core, public and its own private ones",
    responses: {
      200: jsonResponse(z.object({ data: z.array(CatalogSkill) }), "The catalogue"),
      ...errorResponses,
    },
  }),
  async (c) => c.json({ data: await listCatalog(c.get("db"), c.get("tenantId")) }, 200),
);

skillRoutes.openapi(
  createRoute({
    method: "get",
    path: "/skills/installed",
    tags: ["skills"],
    summary: "Installed skills, of one agent or of all",
    request: { query: z.object({ agentId: Id.optional() }) },
    responses: {
      200: jsonResponse(z.object({ data: z.array(InstalledSkill) }), "Installs"),
      ...errorResponses,
    },
  }),
  async (c) =>
    c.json({ data: await listInstalled(c.get("db"), c.get("tenantId"), c.req.valid("query").agentId) }, 200),
);

skillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agents/{agentId}/skills/{skillId}/install",
    tags: ["skills"],
    summary: "Install an approved version of a skill on an agent",
    request: {
      params: z.object({ agentId: Id, skillId: Id }),
      body: {
        required: false,
        content: { "application/json": { schema: z.object({ version: z.string().max(64).optional() }) } },
      },
    },
    responses: {
      201: jsonResponse(z.object({ installed: InstalledSkill }), "Installed"),
      409: jsonResponse(z.object({ code: z.string() }), "already_installed or version_not_approved"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { agentId, skillId } = c.req.valid("param");
    const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
    const installed = await installSkill(
      c.get("db"),
      c.get("tenantId"),
      agentId,
      skillId,
      body.version,
      actorOf(c.get("principal")).id,
    );
    audit(c, {
      action: "skill.installed",
      target: { type: "agent", id: agentId },
      details: { skillId, name: installed.name, version: installed.version },
    });
    return c.json({ installed }, 201);
  },
);

skillRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agents/{agentId}/skills/{skillId}/uninstall",
    tags: ["skills"],
    summary: "Uninstall a skill (core skills: 409 skill_not_removable)",
    request: { params: z.object({ agentId: Id, skillId: Id }) },
    responses: {
      204: { description: "Uninstalled" },
      409: jsonResponse(z.object({ code: z.string() }), "skill_not_removable"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { agentId, skillId } = c.req.valid("param");
    const skill = await uninstallSkill(c.get("db"), c.get("tenantId"), agentId, skillId);
    audit(c, {
      action: "skill.uninstalled",
      target: { type: "agent", id: agentId },
      details: { skillId, name: skill.name },
    });
    return c.body(null, 204);
  },
);
