// Bundles the CLI (TypeScript source) into dist/cli.gen.mjs (".gen." keeps Biome off it), plain ESM that Node 20 runs without a loader.
// Dependencies (zod, acorn, acorn-walk) stay imports, resolved from node_modules at run time.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

/** One entry bundled to `<outdir>/<name>.mjs`: plain ESM for Node 20, dependencies left as imports. */
async function bundle(name, entry, outdir) {
  await build({
    entryPoints: { [name]: `${here}${entry}` },
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

/** Builds the CLI bundle into `outdir` (default dist/ beside this file). */
export const buildCli = (outdir = `${here}dist`) => bundle("cli.gen", "src/cli.ts", outdir);

/** The platform's sandbox service (`src/sandbox/service.ts`), for `npm run dev`. */
export const buildSandboxService = (outdir = `${here}dist`) =>
  bundle("sandbox-service.gen", "src/sandbox/service.ts", outdir);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildCli();
  await buildSandboxService();
}
