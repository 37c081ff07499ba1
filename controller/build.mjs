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

/**
 * The container images' programs, each one self-contained file (dependencies bundled in), for the
 * Dockerfiles in controller/docker: the controller, the agent runtime and the egress proxy.
 */
export async function buildImagePrograms(outdir = `${here}dist/image`) {
  await build({
    entryPoints: {
      controller: `${here}src/cli-main.ts`,
      "agent-runtime": `${here}../sdk/agent-runtime/src/main.ts`,
      "egress-proxy": `${here}src/egress/main.ts`,
    },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    // Bundled CommonJS dependencies (the Kubernetes client) may call require() on Node built-ins.
    banner: {
      js: "import { createRequire as __aegisRequire } from 'node:module'; const require = __aegisRequire(import.meta.url);",
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildController();
  await buildImagePrograms();
}
