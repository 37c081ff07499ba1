import { posix } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { noPermissions } from "./manifest";
import {
  domainAllowed,
  envAllowed,
  isIpLiteral,
  listingAllowed,
  normalizeWorkspacePath,
  pathAllowed,
} from "./policy";

function allowing(...allowedDomains: string[]) {
  const permissions = noPermissions();
  permissions.network.allowedDomains.push(...allowedDomains);
  return { permissions };
}

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const tld = fc.stringMatching(/^[a-z]{2,6}$/);
const domain = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), tld)
  .map(([labels, end]) => [...labels, end].join("."));
const subdomain = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join("."));

function randomCase(text: string, mask: boolean[]): string {
  return [...text].map((char, i) => (mask[i % mask.length] ? char.toUpperCase() : char)).join("");
}

describe("domainAllowed", () => {
  it("matches a wildcard against subdomains of any depth, in any letter case", () => {
    fc.assert(
      fc.property(domain, subdomain, fc.array(fc.boolean(), { minLength: 1 }), (base, sub, mask) => {
        expect(domainAllowed(allowing(`*.${base}`), randomCase(`${sub}.${base}`, mask))).toBe(true);
      }),
    );
  });

  it("never lets a wildcard match the bare domain", () => {
    fc.assert(
      fc.property(domain, (base) => {
        expect(domainAllowed(allowing(`*.${base}`), base)).toBe(false);
      }),
    );
  });

  it("only allows hosts that end in .base for a wildcard, whatever the host string", () => {
    fc.assert(
      fc.property(domain, fc.string(), (base, host) => {
        if (domainAllowed(allowing(`*.${base}`), host)) {
          const normalized = host.toLowerCase().replace(/\.$/, "");
          expect(normalized.endsWith(`.${base}`)).toBe(true);
          expect(normalized).toMatch(/^[a-z0-9.-]+$/);
        }
      }),
    );
  });

  it("matches an exact entry only to that host, ignoring case and a trailing dot", () => {
    fc.assert(
      fc.property(domain, domain, (declared, other) => {
        const allowed = allowing(declared);
        expect(domainAllowed(allowed, declared.toUpperCase())).toBe(true);
        expect(domainAllowed(allowed, `${declared}.`)).toBe(true);
        expect(domainAllowed(allowed, other)).toBe(other === declared);
        expect(domainAllowed(allowed, `x.${declared}`)).toBe(false);
      }),
    );
  });

  it("refuses look-alikes that merely contain the declared name", () => {
    const allowed = allowing("api.github.com", "*.example.com");
    for (const host of [
      "api.github.com.evil.net",
      "evilapi.github.com",
      "notexample.com",
      "example.com.evil.net",
      "a.example.com/evil",
      "a..example.com",
      "",
    ])
      expect(domainAllowed(allowed, host), host).toBe(false);
  });

  it("treats every IPv4 and IPv6 form as an IP literal, never as a domain", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.ipV4(),
          fc.ipV4Extended(),
          fc.ipV6().map((ip) => `[${ip}]`),
        ),
        (ip) => {
          expect(isIpLiteral(ip)).toBe(true);
          expect(domainAllowed(allowing("*.example.com"), ip)).toBe(false);
        },
      ),
    );
    expect(isIpLiteral(new URL("http://2130706433/").hostname)).toBe(true);
    expect(isIpLiteral("api.github.com")).toBe(false);
  });
});

const segment = fc.constantFrom("notes", "reports", "a", "b.md", "..", ".", "", "x.txt");

describe("pathAllowed", () => {
  it("refuses every path with a .. segment, whatever the patterns", () => {
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 4 }),
        fc.array(segment, { maxLength: 4 }),
        (before, after) => {
          const path = [...before, "..", ...after].join("/");
          expect(normalizeWorkspacePath(path)).toBeNull();
          expect(pathAllowed(["notes/", "*/", "*", "reports/*.md"], path)).toBe(false);
        },
      ),
    );
  });

  it("keeps every allowed path inside the declared folder once resolved", () => {
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (segments, leadingSlash) => {
          const path = (leadingSlash ? "/" : "") + segments.join("/");
          if (pathAllowed(["notes/"], path)) {
            expect(posix.resolve("/workspace", path).startsWith("/workspace/notes/")).toBe(true);
          }
        },
      ),
    );
  });

  it("lets * match within one segment but not across folders", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((s) => s !== "." && s !== "..");
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(pathAllowed(["reports/*.md"], `reports/${a}.md`)).toBe(true);
        expect(pathAllowed(["reports/*.md"], `reports/${a}/${b}.md`)).toBe(false);
        expect(pathAllowed(["reports/*.md"], `reports/${a}.csv`)).toBe(false);
      }),
    );
  });

  it("treats a trailing / as a folder prefix and anything else as a whole path", () => {
    expect(pathAllowed(["notes/"], "notes/a.md")).toBe(true);
    expect(pathAllowed(["notes/"], "notes/deep/er/a.md")).toBe(true);
    expect(pathAllowed(["notes/"], "notes")).toBe(false);
    expect(pathAllowed(["notes/"], "notesfile.md")).toBe(false);
    expect(pathAllowed(["config.json"], "config.json")).toBe(true);
    expect(pathAllowed(["config.json"], "config.json/x")).toBe(false);
    expect(pathAllowed(["notes/"], "./notes//a.md")).toBe(true);
  });

  it("refuses absolute paths, backslashes and control characters", () => {
    for (const path of ["/notes/a.md", "notes\\a.md", "notes/a\u0000.md", "notes/"])
      expect(pathAllowed(["notes/", "*"], path), JSON.stringify(path)).toBe(false);
  });
});

describe("listingAllowed", () => {
  it("allows listing a covered folder, its subfolders and its ancestors only", () => {
    expect(listingAllowed(["reports/2024/"], "")).toBe(true);
    expect(listingAllowed(["reports/2024/"], "reports")).toBe(true);
    expect(listingAllowed(["reports/2024/"], "reports/2024/q1/")).toBe(true);
    expect(listingAllowed(["reports/2024/"], "reports/2023/")).toBe(false);
    expect(listingAllowed(["reports/*.md"], "reports/")).toBe(true);
    expect(listingAllowed(["reports/*.md"], "reports/sub/")).toBe(false);
    expect(listingAllowed(["notes/"], "../")).toBe(false);
  });
});

describe("envAllowed", () => {
  it("allows declared required and optional names only, case-sensitively", () => {
    const permissions = noPermissions();
    permissions.env.required.push("GITHUB_TOKEN");
    permissions.env.optional.push("GITHUB_API_URL");
    expect(envAllowed({ permissions }, "GITHUB_TOKEN")).toBe(true);
    expect(envAllowed({ permissions }, "GITHUB_API_URL")).toBe(true);
    expect(envAllowed({ permissions }, "github_token")).toBe(false);
    expect(envAllowed({ permissions }, "AWS_SECRET_ACCESS_KEY")).toBe(false);
  });
});
