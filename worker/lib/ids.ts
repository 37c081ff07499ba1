const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

/** Random base32 string of `length` characters (5 bits each) from the platform CSPRNG. */
export function randomToken(length = 32): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += alphabet[b & 31];
  return out;
}

/**
 * Sortable, prefixed ids: `<prefix>_<time base32><random>`. Time first so ids sort by creation,
 * which keeps cursor pagination and "first N agents" stable.
 */
export function newId(prefix: string): string {
  let t = Date.now();
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}${randomToken(12)}`;
}
