import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { tenants, users } from "../../db/schema";
import type { AppEnv } from "../../env";
import { AppError, notFound, unauthenticated } from "../../lib/errors";
import { clientIp, createRouter, errorResponses, jsonBody, jsonResponse } from "../../lib/http";
import { audit } from "../audit/record";
import { acceptInvite } from "../team/service";
import { authenticate, REFRESH_COOKIE, SESSION_COOKIE } from "./middleware";
import { USER_ROLES } from "./principal";
import {
  assertTenantActive,
  changePassword,
  checkCredentials,
  ensureBootstrapOperator,
  invalidCredentials,
  loginLockSeconds,
  normalizeEmail,
  publicUser,
  recordLoginFailure,
  revokeSession,
  rotateRefreshToken,
  startSession,
  type TokenPair,
} from "./service";
import { ACCESS_TOKEN_TTL_SECONDS, REFRESH_TOKEN_TTL_SECONDS } from "./tokens";

export const PasswordSchema = z.string().min(12, "Must be at least 12 characters").max(256);
export const EmailSchema = z.email().max(254);

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(USER_ROLES),
    tenantId: z.string().nullable(),
  })
  .openapi("User");

const TokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number(),
});
const LoginResponse = TokenPairSchema.extend({ user: UserSchema }).openapi("LoginResponse");

function setSessionCookies(c: Context<AppEnv>, pair: TokenPair) {
  const secure = new URL(c.req.url).protocol === "https:";
  setCookie(c, SESSION_COOKIE, pair.accessToken, {
    httpOnly: true,
    secure,
    sameSite: "Strict",
    path: "/",
    maxAge: ACCESS_TOKEN_TTL_SECONDS,
  });
  setCookie(c, REFRESH_COOKIE, pair.refreshToken, {
    httpOnly: true,
    secure,
    sameSite: "Strict",
    path: "/api/auth",
    maxAge: REFRESH_TOKEN_TTL_SECONDS,
  });
}

/** Starts a session for the user (login, accepted invite) and sets the web UI's cookies. */
async function openSession(c: Context<AppEnv>, user: Parameters<typeof publicUser>[0]) {
  const session = await startSession(c.get("db"), c.env.AUTH_SECRET, user, {
    ip: clientIp(c),
    userAgent: c.req.header("user-agent")?.slice(0, 256) ?? null,
  });
  setSessionCookies(c, session);
  return session;
}

function loginBody(session: TokenPair, user: Parameters<typeof publicUser>[0]) {
  return {
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    expiresIn: session.expiresIn,
    user: publicUser(user),
  };
}

function clearSessionCookies(c: Context<AppEnv>) {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
  deleteCookie(c, REFRESH_COOKIE, { path: "/api/auth" });
}

export const authRoutes = createRouter();

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/login",
    tags: ["auth"],
    summary: "Log in with email and password",
    request: {
      body: jsonBody(z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(256) })),
    },
    responses: {
      200: jsonResponse(LoginResponse, "Tokens, also set as HttpOnly cookies for the web UI"),
      400: errorResponses[400],
      401: errorResponses[401],
      429: jsonResponse(z.object({ code: z.string() }), "Too many failed attempts; see Retry-After"),
    },
  }),
  async (c) => {
    const db = c.get("db");
    const body = c.req.valid("json");
    const email = normalizeEmail(body.email);
    const locked = await loginLockSeconds(db, email);
    if (locked > 0) {
      audit(c, {
        action: "auth.login_locked",
        severity: "high",
        target: { type: "user", id: null },
        details: { email },
      });
      throw new AppError(
        429,
        "too_many_attempts",
        "Too many failed login attempts; try again later",
        undefined,
        {
          "Retry-After": String(locked),
        },
      );
    }
    await ensureBootstrapOperator(db, c.env, email);
    const user = await checkCredentials(db, email, body.password);
    if (!user) {
      await recordLoginFailure(db, email, clientIp(c));
      audit(c, {
        action: "auth.login_failed",
        severity: "medium",
        target: { type: "user", id: null },
        details: { email },
      });
      throw invalidCredentials();
    }
    await assertTenantActive(db, user.tenantId);
    const session = await openSession(c, user);
    audit(c, {
      action: "auth.login",
      tenantId: user.tenantId,
      actor: { type: "user", id: user.id, name: user.email },
      target: { type: "session", id: session.sessionId },
    });
    return c.json(loginBody(session, user), 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/refresh",
    tags: ["auth"],
    summary: "Exchange a refresh token for a new pair (rotation; reuse revokes the family)",
    description:
      "The refresh token comes from the body or, for the web UI, from the HttpOnly refresh cookie.",
    request: {
      body: {
        required: false,
        content: {
          "application/json": { schema: z.object({ refreshToken: z.string().min(1).max(512).optional() }) },
        },
      },
    },
    responses: { 200: jsonResponse(TokenPairSchema, "A new token pair"), 401: errorResponses[401] },
  }),
  async (c) => {
    const fromBody = c.req.header("content-type")?.includes("json")
      ? c.req.valid("json").refreshToken
      : undefined;
    const token = fromBody ?? getCookie(c, REFRESH_COOKIE);
    if (!token) throw unauthenticated("Refresh token required");
    const outcome = await rotateRefreshToken(c.get("db"), c.env.AUTH_SECRET, token);
    if (!outcome.ok) {
      if (outcome.reason === "reused") {
        audit(c, {
          action: "auth.refresh_token_reused",
          severity: "high",
          actor: { type: "user", id: outcome.userId ?? null, name: null },
          target: { type: "session", id: outcome.sessionId ?? null },
          details: { revoked: "session" },
        });
      }
      clearSessionCookies(c);
      throw new AppError(401, "invalid_refresh_token", "Refresh token is invalid, expired or revoked");
    }
    setSessionCookies(c, outcome.pair);
    return c.json(outcome.pair, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/logout",
    middleware: [authenticate] as const,
    tags: ["auth"],
    summary: "End the session; its refresh tokens stop working",
    responses: { 204: { description: "Logged out" }, 401: errorResponses[401] },
  }),
  async (c) => {
    const p = c.get("principal");
    if (p.kind === "user") {
      await revokeSession(c.get("db"), p.sessionId, "logout");
      audit(c, { action: "auth.logout", target: { type: "session", id: p.sessionId } });
    }
    clearSessionCookies(c);
    return c.body(null, 204);
  },
);

const TenantSummary = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  planTier: z.string(),
  status: z.string(),
});

authRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me",
    middleware: [authenticate] as const,
    tags: ["auth"],
    summary: "The caller",
    responses: {
      200: jsonResponse(z.object({ user: UserSchema, tenant: TenantSummary.nullable() }), "The current user"),
      401: errorResponses[401],
    },
  }),
  async (c) => {
    const p = c.get("principal");
    const db = c.get("db");
    if (p.kind !== "user") throw unauthenticated("A user session is required");
    const user = await db.select().from(users).where(eq(users.id, p.userId)).get();
    if (!user) throw notFound("User");
    const tenant = user.tenantId
      ? ((await db
          .select({
            id: tenants.id,
            name: tenants.name,
            slug: tenants.slug,
            planTier: tenants.planTier,
            status: tenants.status,
          })
          .from(tenants)
          .where(eq(tenants.id, user.tenantId))
          .get()) ?? null)
      : null;
    return c.json({ user: publicUser(user), tenant }, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/password",
    middleware: [authenticate] as const,
    tags: ["auth"],
    summary: "Change your password (ends your other sessions)",
    request: {
      body: jsonBody(z.object({ currentPassword: z.string().min(1).max(256), newPassword: PasswordSchema })),
    },
    responses: { 204: { description: "Changed" }, 400: errorResponses[400], 401: errorResponses[401] },
  }),
  async (c) => {
    const p = c.get("principal");
    if (p.kind !== "user") throw unauthenticated("A user session is required");
    const body = c.req.valid("json");
    await changePassword(c.get("db"), p.userId, body.currentPassword, body.newPassword, p.sessionId);
    audit(c, { action: "auth.password_changed", target: { type: "user", id: p.userId } });
    return c.body(null, 204);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/invites/accept",
    tags: ["auth"],
    summary: "Accept a team invite: creates the account and logs it in",
    request: {
      body: jsonBody(
        z.object({
          token: z.string().min(10).max(200),
          name: z.string().trim().min(1).max(100),
          password: PasswordSchema,
        }),
      ),
    },
    responses: {
      200: jsonResponse(LoginResponse, "Logged in"),
      400: errorResponses[400],
      404: errorResponses[404],
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const db = c.get("db");
    const user = await acceptInvite(db, body.token, body.name, body.password);
    const session = await openSession(c, user);
    audit(c, {
      action: "team.invite_accepted",
      tenantId: user.tenantId,
      actor: { type: "user", id: user.id, name: user.email },
      target: { type: "user", id: user.id },
    });
    return c.json(loginBody(session, user), 200);
  },
);
