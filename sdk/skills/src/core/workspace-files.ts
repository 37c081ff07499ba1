import { z } from "zod";
import { defineSkill, normalizeWorkspacePath, type SkillManifest } from "../sdk";

/** Largest file, in UTF-8 bytes, the skill writes in one call. */
export const MAX_WORKSPACE_FILE_BYTES = 1024 * 1024;

const manifest = {
  manifestVersion: 1,
  name: "workspace-files",
  version: "1.0.0",
  displayName: "Workspace files",
  description: "Read, write and list text files in the agent's workspace/ folder.",
  category: "files",
  entry: "src/core/workspace-files.ts",
  runtime: "js",
  permissions: {
    network: { allowedDomains: [] },
    files: { readPaths: ["workspace/"], writePaths: ["workspace/"] },
    env: { required: [], optional: [] },
    messages: { send: [] },
    models: { gateway: false },
  },
} satisfies SkillManifest;

// Traversal is refused here as bad input so the caller learns which field is wrong; the context would
// refuse it anyway, as a permission denial.
const filePath = z
  .string()
  .min(1)
  .max(1024)
  .refine((path) => {
    const normalized = normalizeWorkspacePath(path);
    return normalized !== null && !normalized.endsWith("/");
  }, "must be a file path inside the workspace (no leading /, no .., no backslashes)");

const output = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("read"),
    path: z.string(),
    exists: z.boolean(),
    content: z.string().nullable(),
  }),
  z.object({ action: z.literal("write"), path: z.string(), bytes: z.number().int().nonnegative() }),
  z.object({ action: z.literal("list"), files: z.array(z.string()) }),
]);

export const workspaceFiles = defineSkill({
  manifest,
  input: z.discriminatedUnion("action", [
    z.strictObject({ action: z.literal("read"), path: filePath }),
    z.strictObject({
      action: z.literal("write"),
      path: filePath,
      content: z
        .string()
        .refine(
          (text) => new TextEncoder().encode(text).byteLength <= MAX_WORKSPACE_FILE_BYTES,
          "must be at most 1 MiB",
        ),
    }),
    z.strictObject({ action: z.literal("list"), prefix: z.string().max(1024).default("workspace/") }),
  ]),
  output,
  async handler(input, ctx): Promise<z.input<typeof output>> {
    switch (input.action) {
      case "read": {
        const content = await ctx.fs.read(input.path);
        return { action: "read", path: input.path, exists: content !== null, content };
      }
      case "write":
        await ctx.fs.write(input.path, input.content);
        return {
          action: "write",
          path: input.path,
          bytes: new TextEncoder().encode(input.content).byteLength,
        };
      case "list":
        return { action: "list", files: await ctx.fs.list(input.prefix) };
    }
  },
});
