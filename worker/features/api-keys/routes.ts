import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/http";
import { audit } from "../audit/record";
import { requireTenantAdmin } from "../auth/middleware";
import { actorOf, TENANT_ROLES } from "../auth/principal";
import { createApiKey, listApiKeys, revokeApiKey } from "./service";

const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    role: z.enum(TENANT_ROLES),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi("ApiKey");

export const apiKeyRoutes = createRouter();

apiKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["settings"],
    summary: "API keys of the tenant",
    responses: {
      200: jsonResponse(z.object({ data: z.array(ApiKeySchema) }), "Keys (prefix only)"),
      401: errorResponses[401],
    },
  }),
  async (c) => c.json({ data: await listApiKeys(c.get("db"), c.get("tenantId")) }, 200),
);

apiKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["settings"],
    summary: "Create an API key (the key is shown once)",
    middleware: [requireTenantAdmin] as const,
    request: {
      body: jsonBody(z.object({ name: z.string().trim().min(1).max(80), role: z.enum(TENANT_ROLES) })),
    },
    responses: {
      201: jsonResponse(z.object({ apiKey: ApiKeySchema, key: z.string() }), "The new key"),
      400: errorResponses[400],
      403: errorResponses[403],
    },
  }),
  async (c) => {
    const result = await createApiKey(
      c.get("db"),
      c.get("tenantId"),
      c.req.valid("json"),
      actorOf(c.get("principal")).id,
    );
    audit(c, {
      action: "api_key.created",
      target: { type: "api_key", id: result.apiKey.id },
      details: { name: result.apiKey.name, role: result.apiKey.role, prefix: result.apiKey.prefix },
    });
    return c.json(result, 201);
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["settings"],
    summary: "Revoke an API key",
    middleware: [requireTenantAdmin] as const,
    request: { params: IdParam },
    responses: { 204: { description: "Revoked" }, 403: errorResponses[403], 404: errorResponses[404] },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    await revokeApiKey(c.get("db"), c.get("tenantId"), id);
    audit(c, { action: "api_key.revoked", target: { type: "api_key", id } });
    return c.body(null, 204);
  },
);
