import { and, desc, eq, isNull } from "drizzle-orm";
import type { Database } from "../../db/client";
import { apiKeys } from "../../db/schema";
import { sha256Hex } from "../../lib/crypto";
import { ScopedNotFound } from "../../lib/errors";
import { newId, randomToken } from "../../lib/ids";
import type { Principal, TenantRole } from "../auth/principal";

/** Keys look like `aegis_<prefix>_<secret>`; only the prefix is ever shown again, only the hash is stored. */
export function generateApiKey(): { key: string; prefix: string } {
  const prefix = randomToken(8);
  return { key: `aegis_${prefix}_${randomToken(40)}`, prefix: `aegis_${prefix}` };
}

type ApiKeyRow = typeof apiKeys.$inferSelect;

export function publicApiKey(k: ApiKeyRow) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    role: k.role as TenantRole,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  };
}

export async function listApiKeys(db: Database, tenantId: string) {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.tenantId, tenantId))
    .orderBy(desc(apiKeys.createdAt))
    .all();
  return rows.map(publicApiKey);
}

export async function createApiKey(
  db: Database,
  tenantId: string,
  input: { name: string; role: TenantRole },
  createdBy: string | null,
) {
  const { key, prefix } = generateApiKey();
  const row = {
    id: newId("key"),
    tenantId,
    name: input.name,
    prefix,
    role: input.role,
    keyHash: await sha256Hex(key),
    createdBy,
  };
  const [created] = await db.insert(apiKeys).values(row).returning();
  if (!created) throw new Error("api key insert returned nothing");
  return { apiKey: publicApiKey(created), key };
}

export async function revokeApiKey(db: Database, tenantId: string, id: string) {
  const res = await db
    .update(apiKeys)
    .set({ revokedAt: new Date().toISOString() })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
    .run();
  if (res.meta.changes !== 1) throw new ScopedNotFound("API key", "api_keys", id);
}

export async function resolveApiKey(db: Database, key: string): Promise<Principal | null> {
  const row = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, await sha256Hex(key)))
    .get();
  if (!row || row.revokedAt) return null;
  // Best effort: a lost update of last-used is harmless, a blocked request is not.
  await db.update(apiKeys).set({ lastUsedAt: new Date().toISOString() }).where(eq(apiKeys.id, row.id)).run();
  return {
    kind: "api_key",
    keyId: row.id,
    name: row.name,
    role: row.role as TenantRole,
    tenantId: row.tenantId,
  };
}
