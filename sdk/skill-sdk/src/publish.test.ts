// @aegis/skill-sdk as a consumer gets it: what `npm pack` puts in the tarball, and that the built
// library (dist/, made by build.mjs in the unit suite's global setup) imports and type-checks from
// outside the repository's sources, with Node's own module resolution.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
let consumer = "";

beforeAll(async () => {
  // A project of its own that depends on the SDK (and its zod peer) through node_modules.
  consumer = await mkdtemp(join(tmpdir(), "aegis-sdk-consumer-"));
  await mkdir(join(consumer, "node_modules", "@aegis"), { recursive: true });
  await symlink(packageDir, join(consumer, "node_modules", "@aegis", "skill-sdk"), "dir");
  await symlink(dirname(require.resolve("zod/package.json")), join(consumer, "node_modules", "zod"), "dir");
  await writeFile(join(consumer, "package.json"), JSON.stringify({ name: "consumer", type: "module" }));
});

afterAll(async () => {
  if (consumer) await rm(consumer, { recursive: true, force: true });
});

describe("@aegis/skill-sdk as published", () => {
  it("npm pack ships the built library, its types, the CLI and the README, and no sources or tests", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: packageDir,
      encoding: "utf8",
    });
    const [packed] = JSON.parse(out) as Array<{ name: string; files: Array<{ path: string }> }>;
    const paths = (packed?.files ?? []).map((f) => f.path);
    expect(packed?.name).toBe("@aegis/skill-sdk");
    for (const path of [
      "package.json",
      "README.md",
      "bin/aegis-skill.mjs",
      "dist/cli.gen.mjs",
      "dist/index.js",
      "dist/package.js",
      "dist/sandbox.js",
      "dist/types/index.d.ts",
      "dist/types/package/index.d.ts",
      "dist/sandbox-sdk.gen.mjs",
    ]) {
      expect(paths, path).toContain(path);
    }
    expect(paths.filter((p) => p.startsWith("src/") || p.endsWith(".test.ts"))).toEqual([]);
  });

  it("imports in plain Node: defineSkill runs a skill with a context limited to its manifest", async () => {
    await writeFile(
      join(consumer, "run.mjs"),
      `import { z } from "zod";
import { createMemoryKv, defineSkill, PermissionDeniedError } from "@aegis/skill-sdk";
import { DEFAULT_PACKAGE_LIMITS } from "@aegis/skill-sdk/package";

const skill = defineSkill({
  manifest: {
    manifestVersion: 1, name: "greeter", version: "1.0.0", displayName: "Greeter",
    description: "Greets.", category: "communication", entry: "src/index.mjs", runtime: "js",
    permissions: {
      network: { allowedDomains: ["api.example.com"] }, files: { readPaths: [], writePaths: [] },
      env: { required: [], optional: [] }, messages: { send: [] }, models: { gateway: false },
    },
  },
  input: z.object({ name: z.string() }),
  output: z.object({ greeting: z.string(), refused: z.boolean() }),
  async handler(input, ctx) {
    let refused = false;
    try { await ctx.fetch("https://elsewhere.example/"); } catch (e) { refused = e instanceof PermissionDeniedError; }
    return { greeting: "Hello, " + input.name + "!", refused };
  },
});
const uses = [];
const host = {
  fetch: async () => new Response("{}"), readFile: async () => null, writeFile: async () => {},
  listFiles: async () => [], env: {}, sendMessage: async () => ({ id: "m", status: "queued" }),
  callModel: async () => { throw new Error("no model"); }, kv: createMemoryKv(), reportStatus: async () => {},
  now: () => new Date(0), reportPermissionUse: (e) => uses.push(e.target + ":" + e.allowed),
};
console.log(JSON.stringify({ out: await skill.run({ name: "Ada" }, host), uses, maxFiles: DEFAULT_PACKAGE_LIMITS.maxFiles }));
`,
    );
    const run = spawnSync(process.execPath, ["run.mjs"], { cwd: consumer, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({
      out: { greeting: "Hello, Ada!", refused: true },
      uses: ["elsewhere.example:false"],
      maxFiles: 200,
    });
  });

  it("type-checks for a consumer using Node's module resolution (nodenext)", async () => {
    await writeFile(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          lib: ["es2023", "dom"],
          types: [],
        },
        files: ["skill.ts"],
      }),
    );
    await writeFile(
      join(consumer, "skill.ts"),
      `import { defineSkill, type SkillContext, type SkillManifest } from "@aegis/skill-sdk";
import { type AnalysisResult, validatePackage } from "@aegis/skill-sdk/package";
import { z } from "zod";

const manifest: SkillManifest = {
  manifestVersion: 1, name: "typed", version: "1.0.0", displayName: "Typed", description: "Typed.",
  category: "communication", entry: "src/index.mjs", runtime: "js",
  permissions: {
    network: { allowedDomains: [] }, files: { readPaths: [], writePaths: [] },
    env: { required: [], optional: [] }, messages: { send: [] }, models: { gateway: false },
  },
};
export const skill = defineSkill({
  manifest,
  input: z.object({ n: z.number() }),
  output: z.object({ double: z.number() }),
  async handler(input, _ctx: SkillContext) {
    return { double: input.n * 2 };
  },
});
export const check: (bytes: Uint8Array) => Promise<AnalysisResult> = validatePackage;
// A wrong output type must not compile: the declarations carry the SDK's real types.
// @ts-expect-error handler returns a string where the output schema says number
defineSkill({ manifest, input: z.object({}), output: z.object({ n: z.number() }), handler: async () => ({ n: "x" }) });
`,
    );
    const tsc = require.resolve("typescript/bin/tsc");
    const result = spawnSync(process.execPath, [tsc, "-p", consumer], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
