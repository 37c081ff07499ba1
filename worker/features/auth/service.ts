import { and, eq, gte, isNull, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { loginFailures, refreshTokens, sessions, tenants, users } from "../../db/schema";
import { DUMMY_PASSWORD_HASH, hashPassword, sha256Hex, verifyPassword } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { newId, randomToken } from "../../lib/ids";
import type { UserRole } from "./principal";
import { ACCESS_TOKEN_TTL_SECONDS, REFRESH_TOKEN_TTL_SECONDS, signAccessToken } from "./tokens";

/** 5 failed logins for one account within 5 minutes lock further attempts until the window passes. */
export const LOGIN_FAILURE_LIMIT = 5;
export const LOGIN_FAILURE_WINDOW_SECONDS = 5 * 60;

export const invalidCredentials = () => new AppError(401, "invalid_credentials", "Invalid email or password");

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  tenantId: string | null;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

type UserRow = typeof users.$inferSelect;

export function publicUser(u: UserRow): PublicUser {
  return { id: u.id, email: u.email, name: u.name, role: u.role as UserRole, tenantId: u.tenantId };
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * Production bootstraps the first operator from secrets; `npm run dev` writes them to `.dev.vars`.
 * Runs only when that email has no account yet.
 */
export async function ensureBootstrapOperator(db: Database, env: Env, email: string): Promise<void> {
  const bootEmail = env.AEGIS_BOOTSTRAP_EMAIL ? normalizeEmail(env.AEGIS_BOOTSTRAP_EMAIL) : "";
  if (!bootEmail || bootEmail !== email || !env.AEGIS_BOOTSTRAP_PASSWORD) return;
  const existing = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).get();
  if (existing) return;
  await db
    .insert(users)
    .values({
      id: newId("usr"),
      email,
      name: "Platform operator",
      role: "platform_admin",
      tenantId: null,
      passwordHash: await hashPassword(env.AEGIS_BOOTSTRAP_PASSWORD),
    })
    .onConflictDoNothing();
}

/** Seconds until the account may try again, or 0 when it is not locked. */
export async function loginLockSeconds(db: Database, email: string, now = Date.now()): Promise<number> {
  const since = new Date(now - LOGIN_FAILURE_WINDOW_SECONDS * 1000).toISOString();
  const rows = await db
    .select({ at: loginFailures.at })
    .from(loginFailures)
    .where(and(eq(loginFailures.email, email), gte(loginFailures.at, since)))
    .orderBy(loginFailures.at)
    .all();
  if (rows.length < LOGIN_FAILURE_LIMIT) return 0;
  // Locked until enough failures have aged out of the window to fall below the limit.
  const pivot = rows[rows.length - LOGIN_FAILURE_LIMIT];
  if (!pivot) return 0;
  const unlockAt = Date.parse(pivot.at) + LOGIN_FAILURE_WINDOW_SECONDS * 1000;
  return Math.max(1, Math.ceil((unlockAt - now) / 1000));
}

export async function recordLoginFailure(db: Database, email: string, ip: string | null): Promise<void> {
  await db.insert(loginFailures).values({ id: newId("lf"), email, ip, at: new Date().toISOString() });
}

/** Checks the password; the same work and the same answer for an unknown email and a wrong password. */
export async function checkCredentials(
  db: Database,
  email: string,
  password: string,
): Promise<UserRow | null> {
  const user = await db.select().from(users).where(eq(users.email, email)).get();
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !ok || user.status !== "active") return null;
  return user;
}

export async function assertTenantActive(db: Database, tenantId: string | null): Promise<void> {
  if (!tenantId) return;
  const tenant = await db
    .select({ status: tenants.status })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .get();
  if (!tenant || tenant.status === "suspended") {
    throw new AppError(403, "tenant_suspended", "This tenant is suspended; contact your platform operator");
  }
}

async function issueRefreshToken(db: Database, sessionId: string): Promise<string> {
  const token = `rt_${randomToken(48)}`;
  await db.insert(refreshTokens).values({
    id: newId("rtk"),
    sessionId,
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000).toISOString(),
  });
  return token;
}

async function accessTokenFor(secret: string, user: UserRow, sessionId: string): Promise<string> {
  return signAccessToken(secret, {
    sub: user.id,
    sid: sessionId,
    role: user.role as UserRole,
    tid: user.tenantId,
    email: user.email,
    name: user.name,
  });
}

export async function startSession(
  db: Database,
  secret: string,
  user: UserRow,
  meta: { ip: string | null; userAgent: string | null },
): Promise<TokenPair & { sessionId: string }> {
  const sessionId = newId("ses");
  await db.batch([
    db.insert(sessions).values({ id: sessionId, userId: user.id, ip: meta.ip, userAgent: meta.userAgent }),
    db.update(users).set({ lastLoginAt: new Date().toISOString() }).where(eq(users.id, user.id)),
    db.delete(loginFailures).where(eq(loginFailures.email, user.email)),
  ]);
  return {
    sessionId,
    accessToken: await accessTokenFor(secret, user, sessionId),
    refreshToken: await issueRefreshToken(db, sessionId),
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
  };
}

export type RefreshOutcome =
  | { ok: true; pair: TokenPair; user: UserRow; sessionId: string }
  | { ok: false; reason: "unknown" | "expired" | "revoked" | "reused"; userId?: string; sessionId?: string };

/**
 * Rotation: each refresh token works once. Presenting one that was already rotated means it was
 * stolen or replayed, so the whole family (the session) is revoked.
 */
export async function rotateRefreshToken(
  db: Database,
  secret: string,
  token: string,
): Promise<RefreshOutcome> {
  const row = await db
    .select({ token: refreshTokens, session: sessions, user: users })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.tokenHash, await sha256Hex(token)))
    .get();
  if (!row) return { ok: false, reason: "unknown" };
  const ids = { userId: row.user.id, sessionId: row.session.id };
  if (row.session.revokedAt || row.user.status !== "active") return { ok: false, reason: "revoked", ...ids };
  if (row.token.usedAt) {
    await revokeSession(db, row.session.id, "refresh_token_reuse");
    return { ok: false, reason: "reused", ...ids };
  }
  if (Date.parse(row.token.expiresAt) <= Date.now()) return { ok: false, reason: "expired", ...ids };
  const claimed = await db
    .update(refreshTokens)
    .set({ usedAt: new Date().toISOString() })
    .where(and(eq(refreshTokens.id, row.token.id), isNull(refreshTokens.usedAt)))
    .run();
  if (claimed.meta.changes !== 1) {
    // Lost a race against another use of the same token: that is reuse too.
    await revokeSession(db, row.session.id, "refresh_token_reuse");
    return { ok: false, reason: "reused", ...ids };
  }
  return {
    ok: true,
    user: row.user,
    sessionId: row.session.id,
    pair: {
      accessToken: await accessTokenFor(secret, row.user, row.session.id),
      refreshToken: await issueRefreshToken(db, row.session.id),
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    },
  };
}

export async function revokeSession(db: Database, sessionId: string, reason: string): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: new Date().toISOString(), revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}

export async function sessionIsLive(db: Database, sessionId: string, userId: string): Promise<boolean> {
  const row = await db
    .select({ revokedAt: sessions.revokedAt, status: users.status })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
    .get();
  return !!row && !row.revokedAt && row.status === "active";
}

export async function changePassword(
  db: Database,
  userId: string,
  currentPassword: string,
  newPassword: string,
  keepSessionId: string,
): Promise<void> {
  const user = await db.select().from(users).where(eq(users.id, userId)).get();
  if (!user || !(await verifyPassword(currentPassword, user.passwordHash))) {
    throw new AppError(400, "validation_failed", "Current password is incorrect", {
      currentPassword: ["Current password is incorrect"],
    });
  }
  const now = new Date().toISOString();
  await db.batch([
    db
      .update(users)
      .set({ passwordHash: await hashPassword(newPassword) })
      .where(eq(users.id, userId)),
    // Every other session of this user ends: a changed password must lock out whoever had the old one.
    db
      .update(sessions)
      .set({ revokedAt: now, revokedReason: "password_changed" })
      .where(
        and(eq(sessions.userId, userId), isNull(sessions.revokedAt), sql`${sessions.id} <> ${keepSessionId}`),
      ),
  ]);
}
