import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { issuesToDetails, validationFailed } from "./errors";

const targetPrefix: Record<string, string | undefined> = { json: undefined, query: "query", param: "params" };

/**
 * A feature sub-app. Every zod failure on body, query or params throws the one 400 shape,
 * with field paths (`query.limit`, `params.id`, `name`).
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw validationFailed(issuesToDetails(result.error.issues, targetPrefix[result.target]));
      }
    },
  });
}

/** A required JSON request body for `createRoute`. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } } as const;
}

/** A JSON response for `createRoute`. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}

export const ErrorSchema = z
  .object({
    statusCode: z.number().int(),
    error: z.string(),
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    requestId: z.string(),
    path: z.string(),
    timestamp: z.string(),
  })
  .openapi("Error");

export const errorResponses = {
  400: jsonResponse(ErrorSchema, "Validation failed (`validation_failed`, with field paths in details)"),
  401: jsonResponse(ErrorSchema, "Not authenticated"),
  403: jsonResponse(ErrorSchema, "Not allowed"),
  404: jsonResponse(ErrorSchema, "Not found (also for another tenant's resources)"),
} as const;

export const IdParam = z.object({ id: z.string().min(1).max(64) });

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

export function pageMeta(page: number, limit: number, total: number) {
  return { page, limit, total, totalPages: Math.max(1, Math.ceil(total / limit)) };
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    meta: z.object({ page: z.number(), limit: z.number(), total: z.number(), totalPages: z.number() }),
  });
}

export function clientIp(c: Context<AppEnv>): string | null {
  return c.req.header("cf-connecting-ip") ?? c.req.header("x-real-ip") ?? null;
}

export const isMutation = (method: string) => !["GET", "HEAD", "OPTIONS"].includes(method);
