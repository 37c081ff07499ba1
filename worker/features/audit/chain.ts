import { sha256Hex } from "../../lib/crypto";

/** The prev_hash of the first row of every chain. */
export const GENESIS = "0".repeat(64);

export interface ChainedContent {
  id: string;
  tenantId: string | null;
  chain: string;
  seq: number;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  severity: string;
  /** The stored JSON text, hashed as stored, so re-serialisation can never change a hash. */
  details: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  at: string;
}

export const chainOf = (tenantId: string | null) => tenantId ?? "platform";

/** hash = SHA-256(prev_hash ‖ canonical content); the field order is fixed here and nowhere else. */
export async function rowHash(prevHash: string, c: ChainedContent): Promise<string> {
  const canonical = JSON.stringify([
    c.id,
    c.tenantId,
    c.chain,
    c.seq,
    c.actorType,
    c.actorId,
    c.actorName,
    c.action,
    c.targetType,
    c.targetId,
    c.severity,
    c.details,
    c.ip,
    c.userAgent,
    c.requestId,
    c.at,
  ]);
  return sha256Hex(`${prevHash}\n${canonical}`);
}
