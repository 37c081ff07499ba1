import { z } from "zod";
import { defineSkill, noPermissions, type SkillManifest } from "../sdk";

/** Largest value, in UTF-8 bytes, that one key may hold. */
export const MAX_SCRATCHPAD_VALUE_BYTES = 16 * 1024;

const manifest = {
  manifestVersion: 1,
  name: "scratchpad-memory",
  version: "1.0.0",
  displayName: "Scratchpad memory",
  description: "Keep short notes between steps: get, put, delete and list keys in the agent's own memory.",
  category: "memory",
  entry: "src/core/scratchpad-memory.ts",
  runtime: "js",
  permissions: noPermissions(),
} satisfies SkillManifest;

const key = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

const value = z
  .string()
  .refine(
    (text) => new TextEncoder().encode(text).byteLength <= MAX_SCRATCHPAD_VALUE_BYTES,
    `must be at most ${MAX_SCRATCHPAD_VALUE_BYTES} bytes (16 KiB)`,
  );

const output = z.discriminatedUnion("action", [
  z.object({ action: z.literal("get"), key: z.string(), value: z.string().nullable() }),
  z.object({ action: z.literal("put"), key: z.string(), bytes: z.number().int() }),
  z.object({ action: z.literal("delete"), key: z.string(), deleted: z.boolean() }),
  z.object({ action: z.literal("list"), keys: z.array(z.string()) }),
]);

export const scratchpadMemory = defineSkill({
  manifest,
  input: z.discriminatedUnion("action", [
    z.strictObject({ action: z.literal("get"), key }),
    z.strictObject({ action: z.literal("put"), key, value }),
    z.strictObject({ action: z.literal("delete"), key }),
    z.strictObject({ action: z.literal("list"), prefix: z.string().max(256).default("") }),
  ]),
  output,
  async handler(input, ctx): Promise<z.input<typeof output>> {
    switch (input.action) {
      case "get":
        return { action: "get", key: input.key, value: await ctx.kv.get(input.key) };
      case "put":
        await ctx.kv.put(input.key, input.value);
        return { action: "put", key: input.key, bytes: new TextEncoder().encode(input.value).byteLength };
      case "delete": {
        const existed = (await ctx.kv.get(input.key)) !== null;
        if (existed) await ctx.kv.delete(input.key);
        return { action: "delete", key: input.key, deleted: existed };
      }
      case "list":
        return { action: "list", keys: await ctx.kv.list(input.prefix) };
    }
  },
});
