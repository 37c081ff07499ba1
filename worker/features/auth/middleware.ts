import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { tenants } from "../../db/schema";
import type { AppEnv } from "../../env";
import { type AppError, forbidden, notFound, unauthenticated, validationFailed } from "../../lib/errors";
import { isMutation } from "../../lib/http";
import { resolveApiKey } from "../api-keys/service";
import { audit } from "../audit/record";
import type { Principal } from "./principal";
import { sessionIsLive } from "./service";
import { verifyAccessToken } from "./tokens";

export const SESSION_COOKIE = "aegis_session";
export const REFRESH_COOKIE = "aegis_refresh";

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(" ");
  return scheme?.toLowerCase() === "bearer" && value ? value.trim() : undefined;
}

/** Resolves the caller from `Authorization: Bearer` (access token or API key) or the session cookie. */
export async function principalFrom(c: Parameters<MiddlewareHandler<AppEnv>>[0]): Promise<Principal | null> {
  const header = bearer(c.req.header("authorization"));
  if (header) return principalFromToken(c, header, "bearer");
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? principalFromToken(c, cookie, "cookie") : null;
}

export async function principalFromToken(
  c: Parameters<MiddlewareHandler<AppEnv>>[0],
  token: string,
  via: "bearer" | "cookie",
): Promise<Principal | null> {
  if (token.startsWith("aegis_")) return via === "bearer" ? resolveApiKey(c.get("db"), token) : null;
  const claims = await verifyAccessToken(c.env.AUTH_SECRET, token);
  if (!claims) return null;
  if (!(await sessionIsLive(c.get("db"), claims.sid, claims.sub))) return null;
  return {
    kind: "user",
    userId: claims.sub,
    email: claims.email,
    name: claims.name,
    role: claims.role,
    tenantId: claims.tid,
    sessionId: claims.sid,
    via,
  };
}

/**
 * Requires a user or API key. Cookie-authenticated mutations must come from our own origin,
 * which is what makes an HttpOnly cookie safe against cross-site request forgery.
 */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const principal = await principalFrom(c);
  if (!principal || principal.kind === "agent") throw unauthenticated();
  c.set("principal", principal);
  if (principal.kind === "user" && principal.via === "cookie" && isMutation(c.req.method)) {
    const origin = c.req.header("origin");
    if (!origin || origin !== new URL(c.req.url).origin) {
      audit(c, { action: "auth.origin_rejected", severity: "medium", details: { origin: origin ?? null } });
      throw forbidden("Cross-origin request refused", "origin_mismatch");
    }
  }
  await next();
};

function deny(c: Parameters<MiddlewareHandler<AppEnv>>[0], reason: string): AppError {
  audit(c, {
    action: "auth.permission_denied",
    severity: "medium",
    details: { method: c.req.method, path: c.req.path, reason },
  });
  return forbidden();
}

export const requirePlatformAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const p = c.get("principal");
  if (p.kind !== "user" || p.role !== "platform_admin") throw deny(c, "platform_admin required");
  await next();
};

/**
 * Sets the tenant a dashboard request acts on: the caller's own, or `?tenantId=` for an operator.
 * `tenant_member` (and member API keys) are read-only.
 */
export const tenantScope: MiddlewareHandler<AppEnv> = async (c, next) => {
  const p = c.get("principal");
  let tenantId: string | null = p.tenantId;
  if (p.kind === "user" && p.role === "platform_admin") {
    tenantId = c.req.query("tenantId") ?? null;
    if (!tenantId) throw validationFailed({ "query.tenantId": ["Operators must name the tenant to act on"] });
    const exists = await c
      .get("db")
      .select({ id: tenants.id })
      .from(tenants)
      .where(eq(tenants.id, tenantId))
      .get();
    if (!exists) throw notFound("Tenant");
  }
  if (!tenantId) throw forbidden();
  c.set("tenantId", tenantId);
  const role = p.kind === "user" || p.kind === "api_key" ? p.role : null;
  if (role === "tenant_member" && isMutation(c.req.method)) throw deny(c, "tenant_member is read-only");
  await next();
};

/** Only tenant admins (and operators acting on a tenant) may manage the team and API keys. */
export const requireTenantAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const p = c.get("principal");
  const role = p.kind === "user" || p.kind === "api_key" ? p.role : null;
  if (role !== "tenant_admin" && role !== "platform_admin") throw deny(c, "tenant_admin required");
  await next();
};
