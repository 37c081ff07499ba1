import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomToken } from "./ids";
import { redact } from "./redact";

const R = "[REDACTED]";

/** Every string in a value, keys included. */
function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) allStrings(v, out);
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allStrings(v, out);
    }
  }
  return out;
}

/** The string under `key` of a redacted object; fails the test if there is none. */
function stringAt(value: unknown, key: string): string {
  const field: unknown = value !== null && typeof value === "object" ? Reflect.get(value, key) : undefined;
  if (typeof field !== "string")
    throw new Error(`expected a string under ${key}, got ${JSON.stringify(value)}`);
  return field;
}

/** How many objects/arrays deep a value goes. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfMDFqIiwidGlkIjoidGVuXzAxaiJ9.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PEM = [
  "-----BEGIN PRIVATE KEY-----",
  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
  "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
  "-----END PRIVATE KEY-----",
].join("\n");

describe("redact by key name", () => {
  it.each([
    "password",
    "token",
    "secret",
    "authorization",
    "Authorization",
    "apiKey",
    "api_key",
    "X-Api-Key",
    "credential",
    "privateKey",
    "private_key",
    "cookie",
    "Set-Cookie",
    "clientSecret",
    "accessToken",
    "refresh_token",
  ])("removes the value under %s", (key) => {
    const input = { [key]: "hunter2", keep: "visible" };
    expect(redact(input)).toEqual({ [key]: R, keep: "visible" });
  });

  it("removes the whole value under a secret key, whatever its type", () => {
    expect(
      redact({
        password: { old: "a", new: "b" },
        token: ["t1", "t2"],
        secret: 123456,
        credential: null,
      }),
    ).toEqual({ password: R, token: R, secret: R, credential: R });
  });

  it("at any depth and inside arrays", () => {
    const input = {
      request: {
        headers: { authorization: "Basic dXNlcjpwYXNz", accept: "application/json" },
        body: {
          users: [
            { name: "Ada", password: "hunter2" },
            { name: "Bob", apiKey: "k-123" },
          ],
        },
      },
      batch: [[{ cookie: "sid=abc" }]],
    };
    const out = redact(input);
    expect(out).toEqual({
      request: {
        headers: { authorization: R, accept: "application/json" },
        body: {
          users: [
            { name: "Ada", password: R },
            { name: "Bob", apiKey: R },
          ],
        },
      },
      batch: [[{ cookie: R }]],
    });
    const strings = allStrings(out);
    for (const secret of ["dXNlcjpwYXNz", "hunter2", "k-123", "sid=abc"]) {
      expect(
        strings.some((s) => s.includes(secret)),
        secret,
      ).toBe(false);
    }
  });

  it("does not change the caller's object", () => {
    const input = { user: { name: "Ada", password: "hunter2" }, note: `Bearer ${"x".repeat(20)}` };
    const copy = structuredClone(input);
    redact(input);
    expect(input).toEqual(copy);
  });
});

describe("redact by value pattern", () => {
  const agentCredential = `agk_${randomToken(44)}`;
  const apiKey = `aegis_${randomToken(8)}_${randomToken(40)}`;

  it.each([
    ["a Bearer token", "Bearer abcDEF123.456-ghi_789~+/="],
    ["a lowercase bearer token", "bearer abcdefghijklmnop"],
    ["a JWT", JWT],
    ["a Stripe live secret key", "sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv"],
    ["a Stripe test secret key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"],
    ["a Stripe webhook secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ["an agent credential (agk_)", agentCredential],
    ["an Aegis API key (aegis_)", apiKey],
    ["a PEM private key", PEM],
    ["an RSA PEM private key", PEM.replaceAll("PRIVATE KEY", "RSA PRIVATE KEY")],
    ["a card number with spaces", "4242 4242 4242 4242"],
    ["a card number with dashes", "4242-4242-4242-4242"],
    ["a card number without separators", "4242424242424242"],
  ])("removes %s from free text", (_name, secret) => {
    const note = stringAt(redact({ note: `before ${secret} after` }), "note");
    expect(note).toContain(R);
    expect(note).not.toContain(secret);
    expect(note).toMatch(/^before /);
    expect(note).toMatch(/after$/);
  });

  it("removes the secret part of a PEM key entirely", () => {
    const note = stringAt(redact({ note: PEM }), "note");
    expect(note).not.toContain("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj");
    expect(note).not.toContain("BEGIN PRIVATE KEY");
  });

  it("removes every occurrence, in strings at any depth and in arrays", () => {
    const out = redact({
      log: [`first ${JWT}`, { line: `then ${agentCredential} and ${apiKey}` }],
      args: ["Bearer aaaaaaaaaaaaaaaa", "Bearer bbbbbbbbbbbbbbbb"],
    });
    const strings = allStrings(out);
    for (const secret of [JWT, agentCredential, apiKey, "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]) {
      expect(
        strings.some((s) => s.includes(secret)),
        secret,
      ).toBe(false);
    }
    expect(out).toEqual({
      log: [`first ${R}`, { line: `then ${R} and ${R}` }],
      args: [R, R],
    });
  });

  it("redacts a top-level string", () => {
    expect(redact(`token is ${apiKey}`)).toBe(`token is ${R}`);
  });
});

describe("redact preserves what is not secret", () => {
  it("returns numbers, booleans, null, short strings and their structure exactly", () => {
    const input = {
      count: 42,
      ratio: -0.5,
      big: 1714000000000,
      ok: true,
      off: false,
      nothing: null,
      name: "Ada Lovelace",
      email: "ada@example.com",
      at: "2025-06-15T12:34:56.789Z",
      id: "agt_01jz3k5m7n9p1q3r5s7t9v",
      model: "sonnet",
      tags: ["a", "b", ["c", 1, null]],
      nested: { level1: { level2: { level3: { value: "deep", list: [1, 2, 3] } } } },
      empty: { obj: {}, arr: [], str: "" },
    };
    expect(redact(input)).toEqual(input);
  });

  it("passes scalars through", () => {
    expect(redact(7)).toBe(7);
    expect(redact(true)).toBe(true);
    expect(redact(null)).toBe(null);
    expect(redact(undefined)).toBe(undefined);
    expect(redact("hello")).toBe("hello");
  });

  it("keeps short Bearer-like and key-like words that are not secrets", () => {
    expect(redact({ note: "Bearer abc", prefix: "aegis_ab12cd34", word: "task_list" })).toEqual({
      note: "Bearer abc",
      prefix: "aegis_ab12cd34",
      word: "task_list",
    });
  });
});

describe("redact limits size", () => {
  it("truncates long strings with a marker saying how much was cut", () => {
    const long = "x".repeat(5000);
    const out = redact({ body: long });
    expect(out).toEqual({ body: `${"x".repeat(1024)}…[truncated 3976]` });
  });

  it("leaves a string at the limit unchanged", () => {
    const atLimit = "y".repeat(1024);
    expect(redact(atLimit)).toBe(atLimit);
  });

  it("removes a secret that straddles the truncation point, not just its tail", () => {
    const key = `sk_live_${"A".repeat(40)}`;
    const text = `${"x".repeat(1010)} ${key} ${"z".repeat(2000)}`;
    const out = redact(text);
    expect(typeof out).toBe("string");
    expect(String(out)).not.toContain("sk_live_");
    expect(String(out)).not.toContain("AAAA");
    expect(String(out)).toContain("…[truncated");
  });

  it("cuts deep nesting with a marker", () => {
    type Nest = { child?: Nest; level: number };
    let deep: Nest = { level: 100 };
    for (let level = 99; level >= 0; level--) deep = { child: deep, level };
    const out = redact(deep);
    expect(depthOf(out)).toBeLessThan(10);
    expect(allStrings(out)).toContain("[truncated]");
    expect(out).toMatchObject({ level: 0, child: { level: 1, child: { level: 2 } } });
  });

  it("survives a circular structure", () => {
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;
    const out = redact(loop);
    expect(depthOf(out)).toBeLessThan(10);
    expect(out).toMatchObject({ name: "loop", self: { name: "loop" } });
  });
});

describe("redact properties", () => {
  it("never throws on arbitrary JSON and returns JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const out = redact(value);
        expect(() => JSON.stringify(out)).not.toThrow();
      }),
    );
  });

  it('never lets a value under a "password" key through, wherever it is injected', () => {
    // A path of wrappers from the root to the object that holds the password.
    const step = fc.oneof(
      fc.record({ kind: fc.constant("object" as const), key: fc.string(), sibling: fc.jsonValue() }),
      fc.record({ kind: fc.constant("array" as const), before: fc.array(fc.jsonValue(), { maxLength: 3 }) }),
    );
    const secretArb = fc.string({ minLength: 1 }).map((s) => `S3CR3T-${s}`);
    const holderArb = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 });
    fc.assert(
      fc.property(holderArb, secretArb, fc.array(step, { maxLength: 10 }), (holder, secret, path) => {
        let value: unknown = { ...holder, password: secret };
        for (const s of path) {
          value = s.kind === "object" ? { other: s.sibling, [s.key]: value } : [...s.before, value];
        }
        const strings = allStrings(redact(value));
        expect(strings.some((str) => str.includes("S3CR3T-"))).toBe(false);
      }),
    );
  });
});

describe("redact: precision (ordinary data stays)", () => {
  it("keeps counters and ids whose names merely contain secret words", () => {
    const input = {
      inputTokens: 1200,
      outputTokens: 300,
      maxTokens: 4096,
      sessionId: "ses_01jz",
      passengers: 3,
      bypassCache: true,
    };
    expect(redact(input)).toEqual(input);
  });

  it("still redacts real secret keys in any casing", () => {
    expect(redact({ accessToken: "a", client_secret: "b", "X-Api-Key": "c", Authorization: "d" })).toEqual({
      accessToken: "[REDACTED]",
      client_secret: "[REDACTED]",
      "X-Api-Key": "[REDACTED]",
      Authorization: "[REDACTED]",
    });
  });

  it("keeps timestamps and other long digit runs that are not Luhn-valid card numbers", () => {
    expect(redact({ msg: "job 1714000000000 done" })).toEqual({ msg: "job 1714000000000 done" });
    expect(redact({ msg: "4242 4242 4242 4242 after" })).toEqual({ msg: "[REDACTED] after" });
  });

  it("catches the refresh and invite tokens the platform itself issues", () => {
    const out = JSON.stringify(
      redact({ a: `refresh rt_${"a".repeat(48)}`, b: `https://x/invite?token=inv_${"b".repeat(40)}` }),
    );
    expect(out).not.toContain("a".repeat(48));
    expect(out).not.toContain("b".repeat(40));
  });

  it("keeps a __proto__ key as data and marks truncated arrays", () => {
    const out = redact(JSON.parse('{"__proto__":{"a":1},"b":2}')) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(["__proto__", "b"]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    const arr = redact(Array.from({ length: 105 }, (_, i) => i)) as unknown[];
    expect(arr).toHaveLength(101);
    expect(arr[100]).toBe("[+5 more]");
  });
});
