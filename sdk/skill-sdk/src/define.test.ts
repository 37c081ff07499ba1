import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineSkill } from "./define";
import { SkillError, SkillInputError, SkillOutputError } from "./errors";
import { noPermissions } from "./manifest";
import { createNodeHost, type NodeSkillHost } from "./node-host";

let workspace: string;
let host: NodeSkillHost;

beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), "aegis-define-"));
  host = await createNodeHost({ workspaceRoot: workspace, env: { GREETING: "Hello" } });
});

afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

function greeter(options: { requiredEnv?: string; badOutput?: boolean } = {}) {
  const permissions = noPermissions();
  permissions.env.required.push(options.requiredEnv ?? "GREETING");
  let calls = 0;
  const skill = defineSkill({
    manifest: {
      manifestVersion: 1,
      name: "greeter",
      version: "1.0.0",
      displayName: "Greeter",
      description: "Greets people.",
      category: "communication",
      entry: "src/index.ts",
      runtime: "js",
      permissions,
    },
    input: z.object({
      person: z.object({ name: z.string().min(1) }),
      times: z.number().int().min(1).default(1),
    }),
    output: z.object({ text: z.string().max(40) }),
    async handler(input, ctx) {
      calls++;
      const greeting = ctx.env.get(options.requiredEnv ?? "GREETING") ?? "";
      const text = Array.from({ length: input.times }, () => `${greeting}, ${input.person.name}!`).join(" ");
      return { text: options.badOutput ? text.repeat(10) : text };
    },
  });
  return { skill, calls: () => calls };
}

describe("Skill.run", () => {
  it("validates input, applies defaults, runs the handler with its context and returns its output", async () => {
    const { skill } = greeter();
    await expect(skill.run({ person: { name: "Ada" } }, host)).resolves.toEqual({ text: "Hello, Ada!" });
    expect(host.permissionLog).toEqual([
      { skill: "greeter", kind: "env", target: "GREETING", allowed: true },
    ]);
  });

  it("rejects bad input with the path of each bad field, before the handler runs", async () => {
    const { skill, calls } = greeter();
    const attempt = skill.run({ person: { name: "" }, times: 1.5 }, host);
    await expect(attempt).rejects.toBeInstanceOf(SkillInputError);
    const error = await attempt.catch((caught: unknown) => caught);
    if (!(error instanceof SkillInputError)) throw error;
    expect(Object.keys(error.issues).sort()).toEqual(["person.name", "times"]);
    expect(error.message).toContain("person.name");
    expect(calls()).toBe(0);
  });

  it("refuses to run when a required environment variable is missing", async () => {
    const { skill, calls } = greeter({ requiredEnv: "SLACK_WEBHOOK_URL" });
    await expect(skill.run({ person: { name: "Ada" } }, host)).rejects.toMatchObject({
      code: "missing_env",
      message: expect.stringContaining("SLACK_WEBHOOK_URL"),
    });
    expect(calls()).toBe(0);
  });

  it("treats output that breaks the skill's own schema as a skill bug", async () => {
    const { skill } = greeter({ badOutput: true });
    const attempt = skill.run({ person: { name: "Ada" } }, host);
    await expect(attempt).rejects.toBeInstanceOf(SkillOutputError);
    await expect(attempt).rejects.toBeInstanceOf(SkillError);
    await expect(attempt).rejects.toMatchObject({
      code: "invalid_output",
      issues: { text: [expect.any(String)] },
    });
  });

  it("exposes a frozen manifest", () => {
    const { skill } = greeter();
    expect(Object.isFrozen(skill.manifest.permissions.env.required)).toBe(true);
  });
});
