import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { newId, randomToken } from "./ids";

/** Crockford-style base32: digits and lowercase letters without i, l, o, u. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const ID_BODY = /^[0-9a-hjkmnp-tv-z]{22}$/;

/** Reads back the millisecond timestamp in the first 10 characters of an id body. */
function timeOf(id: string): number {
  const body = id.slice(id.indexOf("_") + 1, id.indexOf("_") + 11);
  let t = 0;
  for (const ch of body) t = t * 32 + ALPHABET.indexOf(ch);
  return t;
}

describe("newId", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is the prefix, an underscore and 22 base32 characters", () => {
    vi.setSystemTime(new Date("2025-06-15T12:34:56.789Z"));
    for (const prefix of ["agt", "usr", "aud", "ten"]) {
      const id = newId(prefix);
      expect(id.startsWith(`${prefix}_`)).toBe(true);
      expect(id.slice(prefix.length + 1)).toMatch(ID_BODY);
    }
  });

  it("starts with the creation time", () => {
    const at = new Date("2025-06-15T12:34:56.789Z");
    vi.setSystemTime(at);
    expect(timeOf(newId("agt"))).toBe(at.getTime());
  });

  it("is unique over 10,000 ids created in the same millisecond", () => {
    vi.setSystemTime(new Date("2025-06-15T12:34:56.789Z"));
    const ids = new Set(Array.from({ length: 10_000 }, () => newId("agt")));
    expect(ids.size).toBe(10_000);
  });

  it("sorts ids created in later milliseconds after earlier ones", () => {
    const start = new Date("2025-01-01T00:00:00.000Z").getTime();
    const created: string[] = [];
    for (const offset of [0, 1, 2, 31, 32, 33, 1023, 1024, 86_400_000, 365 * 86_400_000]) {
      vi.setSystemTime(start + offset);
      created.push(newId("agt"));
    }
    expect([...created].sort()).toEqual(created);
  });

  it("sorts by creation time for any two instants (property)", () => {
    const instant = fc.integer({ min: 0, max: 2 ** 45 });
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        fc.pre(a !== b);
        const [early, late] = a < b ? [a, b] : [b, a];
        vi.setSystemTime(early);
        const first = newId("agt");
        vi.setSystemTime(late);
        const second = newId("agt");
        expect(first < second).toBe(true);
      }),
    );
  });
});

describe("randomToken", () => {
  it("is 32 characters by default", () => {
    expect(randomToken()).toHaveLength(32);
  });

  it("has the requested length", () => {
    for (const n of [0, 1, 8, 40, 44, 48, 100]) expect(randomToken(n)).toHaveLength(n);
  });

  it("uses only the base32 alphabet, and all of it", () => {
    const sample = Array.from({ length: 1000 }, () => randomToken(64)).join("");
    expect(sample).toMatch(/^[0-9a-hjkmnp-tv-z]+$/);
    expect(new Set(sample).size).toBe(32);
  });

  it("does not repeat", () => {
    const tokens = new Set(Array.from({ length: 10_000 }, () => randomToken()));
    expect(tokens.size).toBe(10_000);
  });
});
