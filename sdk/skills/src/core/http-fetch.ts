import { z } from "zod";
import { defineSkill, type SkillManifest } from "../sdk";

/** Response bodies are cut at this many bytes unless the caller asks for less. */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;

const FORBIDDEN_REQUEST_HEADERS = new Set([
  "host",
  "cookie",
  "connection",
  "content-length",
  "transfer-encoding",
]);

export interface HttpFetchVariant {
  /** Skill name, e.g. "http-fetch-github". Default "http-fetch". */
  name?: string;
  /** Hosts the variant may reach; see `permissions.network.allowedDomains`. Default: none. */
  allowedDomains?: string[];
  displayName?: string;
}

/**
 * Builds the http-fetch skill for a set of domains. The core skill declares no domains, so on its own
 * it can reach nothing: a tenant installs a variant whose manifest names the hosts it needs (reviewed
 * like any other manifest), and that variant is limited to them because every request goes through
 * `ctx.fetch`.
 */
export function createHttpFetchSkill(variant: HttpFetchVariant = {}) {
  const allowedDomains = variant.allowedDomains ?? [];
  const manifest = {
    manifestVersion: 1,
    name: variant.name ?? "http-fetch",
    version: "1.0.0",
    displayName: variant.displayName ?? "HTTP fetch",
    description:
      allowedDomains.length === 0
        ? "GET or POST over HTTP(S) to declared domains. Declares none: install a variant for the hosts you need."
        : `GET or POST over HTTP(S) to ${allowedDomains.join(", ")}.`,
    category: "network",
    entry: "src/core/http-fetch.ts",
    runtime: "js",
    permissions: {
      network: { allowedDomains },
      files: { readPaths: [], writePaths: [] },
      env: { required: [], optional: [] },
      messages: { send: [] },
      models: { gateway: false },
    },
  } satisfies SkillManifest;

  return defineSkill({
    manifest,
    input: z
      .strictObject({
        method: z.enum(["GET", "POST"]).default("GET"),
        url: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }),
        headers: z
          .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "not a valid header name"), z.string().max(4096))
          .refine(
            (headers) =>
              Object.keys(headers).every((name) => !FORBIDDEN_REQUEST_HEADERS.has(name.toLowerCase())),
            "host, cookie, connection, content-length and transfer-encoding cannot be set",
          )
          .default({}),
        body: z
          .string()
          .max(256 * 1024)
          .optional(),
        maxBytes: z.number().int().min(1).max(DEFAULT_MAX_RESPONSE_BYTES).default(DEFAULT_MAX_RESPONSE_BYTES),
      })
      .refine((request) => request.method === "POST" || request.body === undefined, {
        message: "only POST requests carry a body",
        path: ["body"],
      }),
    output: z.object({
      url: z.string(),
      status: z.number().int(),
      headers: z.record(z.string(), z.string()),
      body: z.string(),
      truncated: z.boolean(),
    }),
    async handler(input, ctx) {
      const response = await ctx.fetch(input.url, {
        method: input.method,
        headers: input.headers,
        ...(input.body === undefined ? {} : { body: input.body }),
      });
      const { text, truncated } = await readLimited(response, input.maxBytes);
      return {
        url: input.url,
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: text,
        truncated,
      };
    },
  });
}

/** Reads at most `limit` bytes of the body, so a huge response cannot exhaust the agent's memory. */
export async function readLimited(
  response: Response,
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  if (response.body === null) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const bytes = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // A cut may split a multi-byte character; the decoder replaces the fragment instead of failing.
  return { text: new TextDecoder().decode(bytes), truncated };
}

export const httpFetch = createHttpFetchSkill();
