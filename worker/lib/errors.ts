import type { ContentfulStatusCode } from "hono/utils/http-status";

const reasons: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export function reasonPhrase(status: number): string {
  return reasons[status] ?? "Error";
}

export type ErrorDetails = Record<string, unknown>;

/** The one error type. Services throw it; `app.onError` renders it in the api-contract shape. */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetails,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (what = "Resource") => new AppError(404, "not_found", `${what} not found`);
export const forbidden = (message = "You do not have permission to do this", code = "forbidden") =>
  new AppError(403, code, message);
export const unauthenticated = (message = "Authentication required") =>
  new AppError(401, "unauthenticated", message);
export const conflict = (message: string, code = "conflict", details?: ErrorDetails) =>
  new AppError(409, code, message, details);

/** Turns zod issues into `{ "field.path": ["reason"] }`; the root is "(root)". */
export function issuesToDetails(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  prefix?: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const parts = issue.path.map((p) => String(p));
    if (prefix) parts.unshift(prefix);
    const key = parts.length ? parts.join(".") : "(root)";
    const list = out[key] ?? [];
    list.push(issue.message);
    out[key] = list;
  }
  return out;
}

export function validationFailed(details: Record<string, string[]>, message = "Request validation failed") {
  return new AppError(400, "validation_failed", message, details);
}

export const SCOPED_RESOURCES = [
  "agents",
  "users",
  "skills",
  "api_keys",
  "invites",
  "alerts",
  "webhooks",
] as const;
export type ScopedResource = (typeof SCOPED_RESOURCES)[number];

/**
 * A tenant-scoped lookup that found nothing. It answers a plain 404, and `app.onError` checks
 * whether the id belongs to another tenant: if so, the attempt is audited as a cross-tenant access.
 */
export class ScopedNotFound extends AppError {
  constructor(
    what: string,
    readonly resource: ScopedResource,
    readonly resourceId: string,
  ) {
    super(404, "not_found", `${what} not found`);
  }
}
