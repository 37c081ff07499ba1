import { and, desc, eq, gt, isNull } from "drizzle-orm";
import type { Database } from "../../db/client";
import { invites, sessions, users } from "../../db/schema";
import { hashPassword, sha256Hex } from "../../lib/crypto";
import { AppError, notFound, ScopedNotFound } from "../../lib/errors";
import { newId, randomToken } from "../../lib/ids";
import type { TenantRole, UserRole } from "../auth/principal";

export const INVITE_TTL_DAYS = 7;

type UserRow = typeof users.$inferSelect;

function member(u: UserRow) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role as UserRole,
    status: u.status,
    lastLoginAt: u.lastLoginAt,
    createdAt: u.createdAt,
  };
}

function publicInvite(i: typeof invites.$inferSelect) {
  return {
    id: i.id,
    email: i.email,
    name: i.name,
    role: i.role as TenantRole,
    expiresAt: i.expiresAt,
    createdAt: i.createdAt,
  };
}

export async function listTeam(db: Database, tenantId: string) {
  const [members, pending] = await Promise.all([
    db.select().from(users).where(eq(users.tenantId, tenantId)).orderBy(users.createdAt).all(),
    db
      .select()
      .from(invites)
      .where(
        and(
          eq(invites.tenantId, tenantId),
          isNull(invites.acceptedAt),
          isNull(invites.revokedAt),
          gt(invites.expiresAt, new Date().toISOString()),
        ),
      )
      .orderBy(desc(invites.createdAt))
      .all(),
  ]);
  return { members: members.map(member), invites: pending.map(publicInvite) };
}

/** The invite token goes into the link shown once; only its hash is stored. */
export async function createInvite(
  db: Database,
  tenantId: string,
  input: { email: string; name?: string; role: TenantRole },
  invitedBy: string | null,
) {
  const existing = await db.select({ id: users.id }).from(users).where(eq(users.email, input.email)).get();
  if (existing) {
    throw new AppError(409, "email_taken", "That email already has an account", {
      email: ["This email already has an account"],
    });
  }
  const token = `inv_${randomToken(40)}`;
  const [row] = await db
    .insert(invites)
    .values({
      id: newId("inv"),
      tenantId,
      email: input.email,
      name: input.name ?? null,
      role: input.role,
      tokenHash: await sha256Hex(token),
      invitedBy,
      expiresAt: new Date(Date.now() + INVITE_TTL_DAYS * 86_400_000).toISOString(),
    })
    .returning();
  if (!row) throw new Error("invite insert returned nothing");
  return { invite: publicInvite(row), token };
}

export async function revokeInvite(db: Database, tenantId: string, id: string) {
  const res = await db
    .update(invites)
    .set({ revokedAt: new Date().toISOString() })
    .where(
      and(
        eq(invites.id, id),
        eq(invites.tenantId, tenantId),
        isNull(invites.acceptedAt),
        isNull(invites.revokedAt),
      ),
    )
    .run();
  if (res.meta.changes !== 1) throw new ScopedNotFound("Invite", "invites", id);
}

export async function acceptInvite(
  db: Database,
  token: string,
  name: string,
  password: string,
): Promise<UserRow> {
  const invite = await db
    .select()
    .from(invites)
    .where(eq(invites.tokenHash, await sha256Hex(token)))
    .get();
  if (!invite || invite.acceptedAt || invite.revokedAt || Date.parse(invite.expiresAt) <= Date.now()) {
    throw new AppError(404, "invite_invalid", "This invite is invalid, expired or already used");
  }
  const id = newId("usr");
  const now = new Date().toISOString();
  try {
    await db.batch([
      db.insert(users).values({
        id,
        tenantId: invite.tenantId,
        email: invite.email,
        name,
        role: invite.role,
        passwordHash: await hashPassword(password),
      }),
      db
        .update(invites)
        .set({ acceptedAt: now })
        .where(and(eq(invites.id, invite.id), isNull(invites.acceptedAt))),
    ]);
  } catch (err) {
    if (String(err).includes("UNIQUE"))
      throw new AppError(409, "email_taken", "That email already has an account");
    throw err;
  }
  const user = await db.select().from(users).where(eq(users.id, id)).get();
  if (!user) throw new Error("accepted user vanished");
  return user;
}

async function tenantMember(db: Database, tenantId: string, id: string): Promise<UserRow> {
  const row = await db
    .select()
    .from(users)
    .where(and(eq(users.id, id), eq(users.tenantId, tenantId)))
    .get();
  if (!row) throw new ScopedNotFound("Member", "users", id);
  return row;
}

async function assertNotLastAdmin(db: Database, tenantId: string, userId: string) {
  const admins = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.role, "tenant_admin"), eq(users.status, "active")))
    .all();
  if (admins.length === 1 && admins[0]?.id === userId) {
    throw new AppError(409, "last_admin", "A tenant must keep at least one active admin");
  }
}

export async function updateMember(
  db: Database,
  tenantId: string,
  id: string,
  input: { role?: TenantRole; status?: "active" | "disabled" },
) {
  const before = await tenantMember(db, tenantId, id);
  if ((input.role && input.role !== "tenant_admin") || input.status === "disabled")
    await assertNotLastAdmin(db, tenantId, id);
  const [after] = await db.update(users).set(input).where(eq(users.id, id)).returning();
  if (!after) throw notFound("Member");
  if (input.status === "disabled" || (input.role && input.role !== before.role)) {
    await db
      .update(sessions)
      .set({ revokedAt: new Date().toISOString(), revokedReason: "membership_changed" })
      .where(and(eq(sessions.userId, id), isNull(sessions.revokedAt)));
  }
  return { before: member(before), after: member(after) };
}

/** Removing a member disables the account (history keeps its name) and ends its sessions. */
export async function removeMember(db: Database, tenantId: string, id: string) {
  return updateMember(db, tenantId, id, { status: "disabled" });
}
