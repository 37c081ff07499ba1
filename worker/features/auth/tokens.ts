import { sign, verify } from "hono/jwt";
import { z } from "zod";
import { USER_ROLES } from "./principal";

/** Access tokens live 15 minutes, refresh tokens 7 days (api-contract.md). */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;
export const AGENT_TOKEN_TTL_SECONDS = 15 * 60;

const accessClaims = z.object({
  typ: z.literal("access"),
  sub: z.string(),
  sid: z.string(),
  role: z.enum(USER_ROLES),
  tid: z.string().nullable(),
  email: z.string(),
  name: z.string(),
  exp: z.number(),
});
export type AccessClaims = z.infer<typeof accessClaims>;

const agentClaims = z.object({
  typ: z.literal("agent"),
  sub: z.string(),
  tid: z.string(),
  exp: z.number(),
});
export type AgentClaims = z.infer<typeof agentClaims>;

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function signAccessToken(
  secret: string,
  claims: Omit<AccessClaims, "typ" | "exp">,
): Promise<string> {
  const iat = nowSeconds();
  return sign({ ...claims, typ: "access", iat, exp: iat + ACCESS_TOKEN_TTL_SECONDS }, secret, "HS256");
}

export async function signAgentToken(secret: string, agentId: string, tenantId: string): Promise<string> {
  const iat = nowSeconds();
  return sign(
    { typ: "agent", sub: agentId, tid: tenantId, iat, exp: iat + AGENT_TOKEN_TTL_SECONDS },
    secret,
    "HS256",
  );
}

/**
 * The HMAC key imported once per secret and isolate: importing it is most of what a verification
 * costs, and every authenticated request (and every model call) verifies a token.
 */
const hmacKeys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    hmacKeys.set(secret, key);
  }
  return key;
}

async function verifyJwt(secret: string, token: string): Promise<unknown> {
  try {
    return await verify(token, await hmacKey(secret), "HS256");
  } catch {
    return null;
  }
}

export async function verifyAccessToken(secret: string, token: string): Promise<AccessClaims | null> {
  const parsed = accessClaims.safeParse(await verifyJwt(secret, token));
  return parsed.success ? parsed.data : null;
}

export async function verifyAgentToken(secret: string, token: string): Promise<AgentClaims | null> {
  const parsed = agentClaims.safeParse(await verifyJwt(secret, token));
  return parsed.success ? parsed.data : null;
}
