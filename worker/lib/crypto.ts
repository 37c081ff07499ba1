const encoder = new TextEncoder();

export function toHex(buf: ArrayBuffer | Uint8Array): string {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export async function sha256Hex(input: string | Uint8Array): Promise<string> {
  const data = typeof input === "string" ? encoder.encode(input) : input;
  return toHex(await crypto.subtle.digest("SHA-256", data));
}

/** Constant-time comparison of two equal-length strings. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** workerd caps PBKDF2 at 100,000 iterations. */
export const PBKDF2_ITERATIONS = 100_000;

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/** `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>` */
export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2(password, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

/** False for a wrong password and for a stored value that is not a hash we could have written. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iter, salt, hash, extra] = stored.split("$");
  if (scheme !== "pbkdf2-sha256" || !iter || !salt || !hash || extra !== undefined) return false;
  if (!/^\d{1,6}$/.test(iter)) return false;
  const iterations = Number(iter);
  if (iterations < 1 || iterations > PBKDF2_ITERATIONS) return false;
  let saltBytes: Uint8Array;
  try {
    saltBytes = fromBase64(salt);
    fromBase64(hash);
  } catch {
    return false;
  }
  const derived = await pbkdf2(password, saltBytes, iterations);
  return timingSafeEqual(toBase64(derived), hash);
}

/**
 * A hash to compare against when the account does not exist, so an unknown email costs the
 * same PBKDF2 work as a wrong password and the two answers cannot be told apart by timing.
 */
export const DUMMY_PASSWORD_HASH = `pbkdf2-sha256$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/**
 * An AES-256-GCM key derived from a master secret (e.g. `AUTH_SECRET`) with HKDF-SHA-256. `purpose`
 * is the HKDF info: each use gets its own key, so a ciphertext of one kind never opens as another.
 */
export async function deriveAesKey(masterSecret: string, purpose: string): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(masterSecret), "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("aegis-hkdf-v1"), info: encoder.encode(purpose) },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

const SEALED = /^v1\.([A-Za-z0-9+/]{16})\.([A-Za-z0-9+/]+={0,2})$/;

/**
 * Encrypts a secret that must be used again later (a webhook signing secret), as
 * `v1.<iv b64>.<ciphertext+tag b64>` with a fresh 96-bit IV. `aad` (e.g. the row id) is
 * authenticated but not stored, so a ciphertext copied onto another row no longer opens.
 */
export async function sealSecret(
  masterSecret: string,
  purpose: string,
  plaintext: string,
  aad: string,
): Promise<string> {
  const key = await deriveAesKey(masterSecret, purpose);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(aad) },
    key,
    encoder.encode(plaintext),
  );
  return `v1.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

/** The plaintext of `sealSecret`, or null for a wrong key, purpose or aad, or a changed ciphertext. */
export async function openSecret(
  masterSecret: string,
  purpose: string,
  sealed: string,
  aad: string,
): Promise<string | null> {
  const m = SEALED.exec(sealed);
  if (!m?.[1] || !m[2]) return null;
  try {
    const key = await deriveAesKey(masterSecret, purpose);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(m[1]), additionalData: encoder.encode(aad) },
      key,
      fromBase64(m[2]),
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

export { fromHex };
