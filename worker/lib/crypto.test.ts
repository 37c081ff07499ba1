import { describe, expect, it } from "vitest";
import {
  DUMMY_PASSWORD_HASH,
  fromHex,
  hashPassword,
  hmacSha256Hex,
  openSecret,
  PBKDF2_ITERATIONS,
  sealSecret,
  sha256Hex,
  timingSafeEqual,
  toHex,
  verifyPassword,
} from "./crypto";

/** Few iterations keep the tests fast; one test below runs at the default. */
const FAST = 1000;

const B64 = "[A-Za-z0-9+/]";
const parts = (stored: string) => {
  const [scheme = "", iterations = "", salt = "", hash = ""] = stored.split("$");
  return { scheme, iterations, salt, hash };
};
/** Changes one character of a base64 string, keeping it valid base64. */
const flipFirst = (b64: string) => (b64.startsWith("A") ? "B" : "A") + b64.slice(1);

describe("hashPassword / verifyPassword", () => {
  it("hashes at 100,000 iterations by default, and the hash verifies", async () => {
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const stored = await hashPassword("correct horse battery staple");
    expect(stored).toMatch(new RegExp(`^pbkdf2-sha256\\$100000\\$${B64}{22}==\\$${B64}{43}=$`));
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", stored)).toBe(false);
    // The stand-in hash for unknown accounts costs the same work and matches nothing.
    expect(parts(DUMMY_PASSWORD_HASH).iterations).toBe(String(PBKDF2_ITERATIONS));
    expect(await verifyPassword("", DUMMY_PASSWORD_HASH)).toBe(false);
    expect(await verifyPassword("correct horse battery staple", DUMMY_PASSWORD_HASH)).toBe(false);
  });

  it("round-trips with the iteration count it was given", async () => {
    const stored = await hashPassword("s3cret!", FAST);
    expect(stored).toMatch(new RegExp(`^pbkdf2-sha256\\$1000\\$${B64}{22}==\\$${B64}{43}=$`));
    expect(await verifyPassword("s3cret!", stored)).toBe(true);
  });

  it("rejects a wrong password", async () => {
    const stored = await hashPassword("s3cret!", FAST);
    expect(await verifyPassword("s3cret", stored)).toBe(false);
    expect(await verifyPassword("S3cret!", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("handles empty and non-ASCII passwords", async () => {
    const empty = await hashPassword("", FAST);
    expect(await verifyPassword("", empty)).toBe(true);
    expect(await verifyPassword(" ", empty)).toBe(false);
    const unicode = await hashPassword("pässwörd 🔑", FAST);
    expect(await verifyPassword("pässwörd 🔑", unicode)).toBe(true);
    expect(await verifyPassword("passwörd 🔑", unicode)).toBe(false);
  });

  it("salts: two hashes of the same password differ, and both verify", async () => {
    const a = await hashPassword("same", FAST);
    const b = await hashPassword("same", FAST);
    expect(parts(a).salt).not.toBe(parts(b).salt);
    expect(parts(a).hash).not.toBe(parts(b).hash);
    expect(await verifyPassword("same", a)).toBe(true);
    expect(await verifyPassword("same", b)).toBe(true);
  });

  it("rejects a tampered hash, salt or iteration count", async () => {
    const stored = await hashPassword("s3cret!", FAST);
    const { scheme, iterations, salt, hash } = parts(stored);
    const tampered = [
      [scheme, iterations, salt, flipFirst(hash)],
      [scheme, iterations, flipFirst(salt), hash],
      [scheme, "1001", salt, hash],
    ].map((p) => p.join("$"));
    for (const t of tampered) {
      expect(t).not.toBe(stored);
      expect(await verifyPassword("s3cret!", t), t).toBe(false);
    }
  });

  it("answers false, without throwing, for a stored string that is not a pbkdf2 hash", async () => {
    const stored = await hashPassword("s3cret!", FAST);
    const { iterations, salt, hash } = parts(stored);
    const malformed = [
      "",
      "nonsense",
      "$$$",
      `pbkdf2-sha256$${iterations}$${salt}`,
      `pbkdf2-sha256$${iterations}$$${hash}`,
      `pbkdf2-sha256$$${salt}$${hash}`,
      `pbkdf2-sha1$${iterations}$${salt}$${hash}`,
      `bcrypt$${iterations}$${salt}$${hash}`,
      "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
      "s3cret!",
    ];
    for (const m of malformed) {
      await expect(verifyPassword("s3cret!", m), m).resolves.toBe(false);
    }
  });
});

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 test vectors", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("hashes the UTF-8 bytes of a string, the same as the bytes given directly", async () => {
    const text = "héllo ✓";
    expect(await sha256Hex(new TextEncoder().encode(text))).toBe(await sha256Hex(text));
    expect(await sha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe(await sha256Hex("abc"));
  });
});

describe("hmacSha256Hex", () => {
  it("matches RFC 4231 test case 2", async () => {
    expect(await hmacSha256Hex("Jefe", "what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("depends on the key and the message", async () => {
    const base = await hmacSha256Hex("key", "message");
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await hmacSha256Hex("key", "message")).toBe(base);
    expect(await hmacSha256Hex("key2", "message")).not.toBe(base);
    expect(await hmacSha256Hex("key", "message.")).not.toBe(base);
  });
});

describe("timingSafeEqual", () => {
  it("is true only for identical strings", () => {
    expect(timingSafeEqual("", "")).toBe(true);
    expect(timingSafeEqual("abc123", "abc123")).toBe(true);
    expect(timingSafeEqual("abc123", "abc124")).toBe(false);
    expect(timingSafeEqual("abc123", "Abc123")).toBe(false);
    expect(timingSafeEqual("abc123", "abc12")).toBe(false);
    expect(timingSafeEqual("abc", "abcd")).toBe(false);
    expect(timingSafeEqual("", "a")).toBe(false);
    expect(timingSafeEqual("é", "e")).toBe(false);
  });
});

describe("toHex / fromHex", () => {
  it("encode bytes as lowercase hex and back", () => {
    const bytes = new Uint8Array([0, 1, 15, 16, 127, 128, 254, 255]);
    expect(toHex(bytes)).toBe("00010f107f80feff");
    expect(toHex(bytes.buffer)).toBe("00010f107f80feff");
    expect(Array.from(fromHex("00010f107f80feff"))).toEqual(Array.from(bytes));
    expect(Array.from(fromHex("FF"))).toEqual([255]);
  });
});

describe("verifyPassword on malformed stored values", () => {
  it.each([
    "pbkdf2-sha256$abc$AAAA$AAAA",
    "pbkdf2-sha256$0$AAAA$AAAA",
    "pbkdf2-sha256$-5$AAAA$AAAA",
    "pbkdf2-sha256$100$!!!$AAAA",
    "pbkdf2-sha256$1000000000$AAAA$AAAA",
    "pbkdf2-sha256$100$AAAA$AAAA$extra",
  ])("returns false for %s instead of throwing or running forever", async (stored) => {
    await expect(verifyPassword("pw", stored)).resolves.toBe(false);
  });
});

describe("sealSecret / openSecret (AES-256-GCM, key by HKDF from the master secret)", () => {
  const MASTER = "test-master-secret-0123456789abcdef";
  const PURPOSE = "webhook-secret";
  const SECRET = "whsec_0123456789abcdefghjkmnpqrstvwx";

  it("round-trips, with a fresh IV each time and no trace of the plaintext", async () => {
    const a = await sealSecret(MASTER, PURPOSE, SECRET, "wh_1");
    const b = await sealSecret(MASTER, PURPOSE, SECRET, "wh_1");
    expect(a).toMatch(/^v1\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/]+={0,2}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(SECRET);
    expect(a).not.toContain(SECRET.slice(6));
    expect(atob(a.split(".")[2] ?? "")).not.toContain(SECRET.slice(6));
    expect(await openSecret(MASTER, PURPOSE, a, "wh_1")).toBe(SECRET);
    expect(await openSecret(MASTER, PURPOSE, b, "wh_1")).toBe(SECRET);
    expect(await openSecret(MASTER, PURPOSE, await sealSecret(MASTER, PURPOSE, "", "x"), "x")).toBe("");
    expect(await openSecret(MASTER, PURPOSE, await sealSecret(MASTER, PURPOSE, "ключ ✓", "x"), "x")).toBe(
      "ключ ✓",
    );
  });

  it("does not open with another master secret, purpose or row (aad)", async () => {
    const sealed = await sealSecret(MASTER, PURPOSE, SECRET, "wh_1");
    expect(await openSecret(`${MASTER}x`, PURPOSE, sealed, "wh_1")).toBeNull();
    expect(await openSecret(MASTER, "another-purpose", sealed, "wh_1")).toBeNull();
    expect(await openSecret(MASTER, PURPOSE, sealed, "wh_2")).toBeNull();
  });

  it("detects a changed ciphertext or IV, and answers null for anything it did not write", async () => {
    const sealed = await sealSecret(MASTER, PURPOSE, SECRET, "wh_1");
    const [v, iv = "", ct = ""] = sealed.split(".");
    const flip = (b64: string, at: number) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      bytes[at] = (bytes[at] ?? 0) ^ 1;
      return btoa(String.fromCharCode(...bytes));
    };
    expect(await openSecret(MASTER, PURPOSE, `${v}.${iv}.${flip(ct, 0)}`, "wh_1")).toBeNull();
    expect(await openSecret(MASTER, PURPOSE, `${v}.${iv}.${flip(ct, 20)}`, "wh_1")).toBeNull();
    expect(await openSecret(MASTER, PURPOSE, `${v}.${flip(iv, 3)}.${ct}`, "wh_1")).toBeNull();
    for (const junk of ["", "v1", SECRET, `v2.${iv}.${ct}`, `v1.${iv}`, `v1.!!.${ct}`, "v1.AAAA.AAAA"]) {
      expect(await openSecret(MASTER, PURPOSE, junk, "wh_1")).toBeNull();
    }
  });
});
