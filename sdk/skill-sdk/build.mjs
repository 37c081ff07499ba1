// Bundles the CLI (TypeScript source) into dist/cli.gen.mjs (".gen." keeps Biome off it), plain ESM that Node 20 runs without a loader.
// Dependencies (zod, acorn, acorn-walk) stay imports, resolved from node_modules at run time.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

/** Builds the bundle into `outdir` (default dist/ beside this file). */
export async function buildCli(outdir = `${here}dist`) {
  await build({
    entryPoints: { "cli.gen": `${here}src/cli.ts` },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  });
}

/** The platform's sandbox service (`src/sandbox/service.ts`) as plain ESM, for `npm run dev`. */
export async function buildSandboxService(outdir = `${here}dist`) {
  await build({
    entryPoints: { "sandbox-service.gen": `${here}src/sandbox/service.ts` },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildCli();
  await buildSandboxService();
}
