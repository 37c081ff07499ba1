import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/http";
import { audit } from "../audit/record";
import { requireTenantAdmin } from "../auth/middleware";
import { actorOf, TENANT_ROLES, USER_ROLES } from "../auth/principal";
import { EmailSchema } from "../auth/routes";
import { createInvite, listTeam, removeMember, revokeInvite, updateMember } from "./service";

const Member = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(USER_ROLES),
    status: z.string(),
    lastLoginAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Member");

const Invite = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(TENANT_ROLES),
    expiresAt: z.string(),
    createdAt: z.string(),
  })
  .openapi("Invite");

export const teamRoutes = createRouter();

teamRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["team"],
    summary: "Members and pending invites",
    responses: {
      200: jsonResponse(z.object({ members: z.array(Member), invites: z.array(Invite) }), "The team"),
      ...errorResponses,
    },
  }),
  async (c) => c.json(await listTeam(c.get("db"), c.get("tenantId")), 200),
);

teamRoutes.openapi(
  createRoute({
    method: "post",
    path: "/invites",
    tags: ["team"],
    summary: "Invite someone; the invite link is shown once",
    middleware: [requireTenantAdmin] as const,
    request: {
      body: jsonBody(
        z.object({
          email: EmailSchema.transform((e) => e.toLowerCase()),
          name: z.string().trim().min(1).max(100).optional(),
          role: z.enum(TENANT_ROLES),
        }),
      ),
    },
    responses: {
      201: jsonResponse(z.object({ invite: Invite, inviteUrl: z.string() }), "Invited"),
      409: jsonResponse(z.object({ code: z.string() }), "email_taken"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { invite, token } = await createInvite(
      c.get("db"),
      c.get("tenantId"),
      input,
      actorOf(c.get("principal")).id,
    );
    audit(c, {
      action: "team.invited",
      target: { type: "invite", id: invite.id },
      details: { email: invite.email, role: invite.role },
    });
    const inviteUrl = `${new URL(c.req.url).origin}/invite?token=${encodeURIComponent(token)}`;
    return c.json({ invite, inviteUrl }, 201);
  },
);

teamRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/invites/{id}",
    tags: ["team"],
    summary: "Revoke a pending invite",
    middleware: [requireTenantAdmin] as const,
    request: { params: IdParam },
    responses: { 204: { description: "Revoked" }, ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    await revokeInvite(c.get("db"), c.get("tenantId"), id);
    audit(c, { action: "team.invite_revoked", target: { type: "invite", id } });
    return c.body(null, 204);
  },
);

teamRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/members/{id}",
    tags: ["team"],
    summary: "Change a member's role or status (their sessions end)",
    middleware: [requireTenantAdmin] as const,
    request: {
      params: IdParam,
      body: jsonBody(
        z
          .object({
            role: z.enum(TENANT_ROLES).optional(),
            status: z.enum(["active", "disabled"]).optional(),
          })
          .refine((b) => b.role !== undefined || b.status !== undefined, "Nothing to update"),
      ),
    },
    responses: {
      200: jsonResponse(z.object({ member: Member }), "Updated"),
      409: jsonResponse(z.object({ code: z.string() }), "last_admin"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { before, after } = await updateMember(c.get("db"), c.get("tenantId"), id, c.req.valid("json"));
    audit(c, {
      action: "team.member_updated",
      target: { type: "user", id },
      details: {
        before: { role: before.role, status: before.status },
        after: { role: after.role, status: after.status },
      },
    });
    return c.json({ member: after }, 200);
  },
);

teamRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/members/{id}",
    tags: ["team"],
    summary: "Remove a member (the account is disabled and logged out)",
    middleware: [requireTenantAdmin] as const,
    request: { params: IdParam },
    responses: {
      204: { description: "Removed" },
      409: jsonResponse(z.object({ code: z.string() }), "last_admin"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    await removeMember(c.get("db"), c.get("tenantId"), id);
    audit(c, { action: "team.member_removed", severity: "medium", target: { type: "user", id } });
    return c.body(null, 204);
  },
);
