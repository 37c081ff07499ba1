// Bundles the controller CLI and the agent runtime it starts (local driver) into dist/ as plain ESM
// for Node 20 (".gen." keeps Biome off them); ws and zod stay imports from node_modules.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

export async function buildController(outdir = `${here}dist`) {
  await build({
    entryPoints: {
      "cli.gen": `${here}src/cli.ts`,
      "agent-runtime.gen": `${here}../sdk/agent-runtime/src/main.ts`,
    },
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

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildController();
