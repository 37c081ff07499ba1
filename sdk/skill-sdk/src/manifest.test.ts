import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineSkill } from "./define";
import { InvalidManifestError } from "./errors";
import {
  describePermissions,
  manifestJsonSchema,
  noPermissions,
  parseManifest,
  type SkillManifest,
} from "./manifest";

function manifest(overrides: Partial<SkillManifest> = {}): SkillManifest {
  return {
    manifestVersion: 1,
    name: "github-issues",
    version: "1.2.3",
    displayName: "GitHub issues",
    description: "List and open issues.",
    category: "integrations",
    entry: "src/index.ts",
    runtime: "js",
    permissions: {
      network: { allowedDomains: ["api.github.com", "*.example.com"] },
      files: { readPaths: ["notes/", "reports/*.md"], writePaths: ["reports/"] },
      env: { required: ["GITHUB_TOKEN"], optional: ["GITHUB_API_URL"] },
      messages: { send: ["task_handoff", "notification"] },
      models: { gateway: true },
    },
    ...overrides,
  };
}

function withPermissions(change: (permissions: SkillManifest["permissions"]) => void): unknown {
  const value = manifest();
  change(value.permissions);
  return value;
}

function issuesOf(raw: unknown): Record<string, string[]> {
  const result = parseManifest(raw);
  if (result.ok) throw new Error("expected the manifest to be refused");
  return result.issues;
}

describe("skillManifestSchema", () => {
  it("accepts a complete manifest and returns it unchanged", () => {
    const result = parseManifest(manifest());
    expect(result).toEqual({ ok: true, manifest: manifest() });
  });

  it.each([
    ["10.0.0.1", "IP addresses"],
    ["169.254.169.254", "IP addresses"],
    ["[::1]", "IPv6"],
    ["::1", "IPv6"],
    ["api.github.com:8443", "ports"],
    ["https://api.github.com", "scheme"],
    ["*", "bare *"],
    ["*.com", "at least two labels"],
    ["localhost", "at least two labels"],
    ["api.*.github.com", "leading *."],
    ["api.github.com/repos", "path"],
    ["under_score.example.com", "not a valid hostname"],
    ["example.123", "last label"],
  ])("refuses the domain %s, saying why", (domain, reason) => {
    const issues = issuesOf(withPermissions((p) => p.network.allowedDomains.push(domain)));
    expect(issues["permissions.network.allowedDomains.2"]?.join(" ")).toContain(reason);
  });

  it.each([
    ["../secrets/", ".."],
    ["notes/../../etc/passwd", ".."],
    ["/etc/passwd", "relative"],
    ["notes\\file.txt", "forward slashes"],
    ["~/notes/", "relative"],
    ["notes//a.md", "empty segments"],
    ["./notes/", ". segments"],
    ["reports/**/x.md", "**"],
    ["C:/Windows/", "may only contain"],
  ])("refuses the path pattern %s at its field path", (pattern, reason) => {
    const issues = issuesOf(withPermissions((p) => p.files.writePaths.push(pattern)));
    expect(issues["permissions.files.writePaths.1"]?.join(" ")).toContain(reason);
  });

  it.each(["1.0", "01.0.0", "v1.0.0", "1.0.0.0", "latest"])("refuses the version %s", (version) => {
    expect(issuesOf(manifest({ version }))).toHaveProperty(["version"]);
  });

  it.each(["1.0.0", "0.1.0-beta.2", "2.0.0+build.7"])("accepts the version %s", (version) => {
    expect(parseManifest(manifest({ version })).ok).toBe(true);
  });

  it.each(["GitHub", "github_issues", "-github", "github--issues", "g", "a".repeat(65)])(
    "refuses the name %s",
    (name) => {
      expect(issuesOf(manifest({ name }))).toHaveProperty(["name"]);
    },
  );

  it("refuses lower-case, reserved and duplicated environment variables", () => {
    const issues = issuesOf(
      withPermissions((p) => {
        p.env.required.push("github_pat", "AEGIS_AGENT_TOKEN");
        p.env.optional.push("GITHUB_TOKEN");
      }),
    );
    expect(issues["permissions.env.required.1"]).toEqual(["must be UPPER_SNAKE_CASE"]);
    expect(issues["permissions.env.required.2"]?.[0]).toContain("reserved");
    expect(issues["permissions.env.optional.1"]).toEqual(["GITHUB_TOKEN is already required"]);
  });

  it("refuses message types the messaging API does not have", () => {
    const raw = withPermissions(() => {});
    const issues = issuesOf(JSON.parse(JSON.stringify(raw).replace('"notification"', '"broadcast"')));
    expect(Object.keys(issues)).toEqual(["permissions.messages.send.1"]);
  });

  it("refuses unknown keys, so a misspelt permission is not silently ignored", () => {
    const raw = JSON.parse(JSON.stringify(manifest()).replace('"allowedDomains"', '"allowedDomain"'));
    const issues = issuesOf(raw);
    expect(issues["permissions.network"]?.join(" ")).toContain("allowedDomain");
    expect(issues["permissions.network.allowedDomains"]).toBeDefined();
  });

  it("refuses an entry outside the package or of the wrong kind", () => {
    expect(issuesOf(manifest({ entry: "../index.ts" }))).toHaveProperty(["entry"]);
    expect(issuesOf(manifest({ entry: "src/index.py" }))).toHaveProperty(["entry"]);
  });

  it("reports every broken field at once", () => {
    const issues = issuesOf({ ...manifest({ name: "Bad", version: "x" }), runtime: "python" });
    expect(Object.keys(issues).sort()).toEqual(["name", "runtime", "version"]);
  });

  it("is available as JSON Schema for editors", () => {
    expect(manifestJsonSchema).toMatchObject({
      type: "object",
      additionalProperties: false,
      required: expect.arrayContaining(["manifestVersion", "name", "version", "permissions"]),
      properties: {
        runtime: { const: "js" },
        permissions: {
          properties: {
            messages: {
              properties: {
                send: { items: { enum: expect.arrayContaining(["task_handoff", "escalation"]) } },
              },
            },
          },
        },
      },
    });
  });
});

describe("defineSkill", () => {
  it("throws InvalidManifestError with field paths when the manifest is invalid", () => {
    const define = () =>
      defineSkill({
        manifest: manifest({ version: "one" }),
        input: z.object({}),
        output: z.object({}),
        handler: async () => ({}),
      });
    expect(define).toThrow(InvalidManifestError);
    expect(define).toThrow(/version: must be a semantic version/);
  });
});

describe("describePermissions", () => {
  it("says in plain words what the skill may do", () => {
    expect(describePermissions(manifest())).toEqual([
      "Can connect to api.github.com and any subdomain of example.com",
      "Can read files in notes/ and files matching reports/*.md",
      "Can create and change files in reports/",
      "Needs environment variable GITHUB_TOKEN",
      "Can use environment variable GITHUB_API_URL if set",
      "Can send task_handoff and notification messages to other agents",
      "Can call models through the Aegis gateway",
    ]);
  });

  it("says when a skill has no network or file access and nothing else", () => {
    expect(describePermissions({ permissions: noPermissions() })).toEqual([
      "No network access",
      "No access to workspace files",
    ]);
  });

  it("lists several variables and single files naturally", () => {
    const permissions = noPermissions();
    permissions.env.required.push("A_KEY", "B_KEY", "C_KEY");
    permissions.files.readPaths.push("config.json");
    expect(describePermissions({ permissions })).toEqual([
      "No network access",
      "Can read the file config.json",
      "Needs environment variables A_KEY, B_KEY and C_KEY",
    ]);
  });
});
