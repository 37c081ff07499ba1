import { describe, expect, it } from "vitest";
import { ALL_SKILLS, CATALOG_SKILLS, CORE_SKILLS } from "./index";
import { describePermissions, parseManifest } from "./sdk";

describe("the shipped skills", () => {
  it("are the ten core skills and four catalogue skills, by name", () => {
    expect(CORE_SKILLS.map((skill) => skill.manifest.name)).toEqual([
      "agent-messaging",
      "status-reporting",
      "scratchpad-memory",
      "workspace-files",
      "http-fetch",
      "json-transform",
      "summarize",
      "task-tracking",
      "reminders",
      "human-escalation",
    ]);
    expect(CATALOG_SKILLS.map((skill) => skill.manifest.name)).toEqual([
      "github-issues",
      "slack-notify",
      "csv-report",
      "web-research",
    ]);
    expect(new Set(ALL_SKILLS.map((skill) => skill.manifest.name)).size).toBe(14);
  });

  it("each carry a valid manifest at version 1.0.0", () => {
    for (const skill of ALL_SKILLS) {
      expect(parseManifest(structuredClone(skill.manifest)), skill.manifest.name).toMatchObject({ ok: true });
      expect(skill.manifest.version).toBe("1.0.0");
    }
  });

  it("give core skills no network access and no secrets", () => {
    for (const skill of CORE_SKILLS) {
      expect(skill.manifest.permissions.network.allowedDomains, skill.manifest.name).toEqual([]);
      expect(skill.manifest.permissions.env.required, skill.manifest.name).toEqual([]);
    }
    const withModels = ALL_SKILLS.filter((skill) => skill.manifest.permissions.models.gateway).map(
      (s) => s.manifest.name,
    );
    expect(withModels).toEqual(["summarize", "web-research"]);
  });

  it("describe the GitHub skill's permissions plainly", () => {
    const github = CATALOG_SKILLS.find((skill) => skill.manifest.name === "github-issues");
    expect(github && describePermissions(github.manifest)).toEqual([
      "Can connect to api.github.com",
      "No access to workspace files",
      "Needs environment variable GITHUB_TOKEN",
    ]);
  });
});
