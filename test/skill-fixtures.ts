import { MANIFEST_FILE, packPackage } from "../sdk/skill-sdk/src/package";

export const text = (value: string) => new TextEncoder().encode(value);

/** The manifest of a minimal private test skill that may reach `domains`. */
export function manifestOf(name: string, version: string, domains: string[] = []) {
  return {
    manifestVersion: 1,
    name,
    version,
    displayName: `Skill ${name}`,
    description: "A private test skill.",
    category: "communication",
    entry: "src/index.mjs",
    runtime: "js",
    permissions: {
      network: { allowedDomains: domains },
      files: { readPaths: [], writePaths: [] },
      env: { required: [], optional: [] },
      messages: { send: [] },
      models: { gateway: false },
    },
  };
}

/** A minimal skill package; `source` is src/index.mjs (by default it fetches the first domain). */
export async function skillPackage(
  name: string,
  version: string,
  opts: { domains?: string[]; source?: string; files?: Record<string, string> } = {},
): Promise<Uint8Array> {
  const domains = opts.domains ?? [];
  const source =
    opts.source ??
    (domains[0]
      ? `export async function handler(input, ctx) {\n  return ctx.fetch("https://${domains[0]}/status");\n}\n`
      : "export async function handler() {\n  return { ok: true };\n}\n");
  return packPackage(
    new Map([
      [MANIFEST_FILE, text(JSON.stringify(manifestOf(name, version, domains)))],
      ["src/index.mjs", text(source)],
      ...Object.entries(opts.files ?? {}).map(([path, value]) => [path, text(value)] as [string, Uint8Array]),
    ]),
  );
}
