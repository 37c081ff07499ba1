export const USER_ROLES = ["platform_admin", "tenant_admin", "tenant_member"] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const TENANT_ROLES = ["tenant_admin", "tenant_member"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** Who is calling, resolved once by the auth middleware from a bearer token, API key or session cookie. */
export type Principal =
  | {
      kind: "user";
      userId: string;
      email: string;
      name: string;
      role: UserRole;
      tenantId: string | null;
      sessionId: string;
      via: "bearer" | "cookie";
    }
  | { kind: "api_key"; keyId: string; name: string; role: TenantRole; tenantId: string }
  | { kind: "agent"; agentId: string; tenantId: string };

export function actorOf(p: Principal): { type: "user" | "agent" | "system"; id: string; name: string } {
  switch (p.kind) {
    case "user":
      return { type: "user", id: p.userId, name: p.email };
    case "api_key":
      return { type: "system", id: p.keyId, name: `api-key:${p.name}` };
    case "agent":
      return { type: "agent", id: p.agentId, name: p.agentId };
  }
}
