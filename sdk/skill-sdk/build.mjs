// Builds @aegis/skill-sdk from its TypeScript sources into dist/ (run on prepack, by `npm run dev` and
// by the tests that need it):
// - the library: dist/<entry>.js (ESM; zod, acorn and acorn-walk stay imports) with type declarations
//   in dist/types/, one entry per `exports` subpath of package.json;
// - the CLI (dist/cli.gen.mjs) and the platform's sandbox service (dist/sandbox-service.gen.mjs);
// - dist/sandbox-sdk.gen.mjs: the library's main entry with zod inside, which the dry-run sandbox puts
//   at node_modules/@aegis/skill-sdk of the package it runs, as the agent runtime provides it.
// ".gen." keeps Biome off the generated files.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

/** The library's entries: `exports` subpath → source. */
export const LIBRARY_ENTRIES = {
  index: "src/index.ts",
  node: "src/node-host.ts",
  testing: "src/node-testing.ts",
  package: "src/package/index.ts",
  sandbox: "src/sandbox/index.ts",
};

const common = { bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" };

/**
 * esbuild, with each output written to a temporary name and renamed into place: a test or the sandbox
 * reading dist/ while another build runs sees the old file or the new one, never half of one.
 */
async function buildAtomic(options) {
  const { outputFiles } = await build({ ...options, write: false });
  for (const file of outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const temp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
}

/** One entry bundled to `<outdir>/<name>.mjs`: plain ESM for Node 20, dependencies left as imports. */
async function bundle(name, entry, outdir) {
  await buildAtomic({
    ...common,
    entryPoints: { [name]: `${here}${entry}` },
    outdir,
    outExtension: { ".js": ".mjs" },
    packages: "external",
  });
}

/** Builds the CLI bundle into `outdir` (default dist/ beside this file). */
export const buildCli = (outdir = `${here}dist`) => bundle("cli.gen", "src/cli.ts", outdir);

/** The platform's sandbox service, and the SDK bundle the sandbox gives the packages it runs. */
export async function buildSandboxService(outdir = `${here}dist`) {
  await bundle("sandbox-service.gen", "src/sandbox/service.ts", outdir);
  await buildAtomic({
    ...common,
    entryPoints: { "sandbox-sdk.gen": `${here}src/index.ts` },
    outdir,
    outExtension: { ".js": ".mjs" },
  });
}

/** The publishable library: JS per entry (shared code in chunks) and declarations with .js specifiers. */
export async function buildLibrary(outdir = `${here}dist`) {
  await buildAtomic({
    ...common,
    entryPoints: Object.fromEntries(Object.entries(LIBRARY_ENTRIES).map(([k, v]) => [k, `${here}${v}`])),
    outdir,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    packages: "external",
  });
  // Declarations go to a fresh folder that then replaces dist/types.
  const types = join(outdir, "types");
  mkdirSync(outdir, { recursive: true });
  const fresh = mkdtempSync(join(outdir, ".types-"));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", `${here}tsconfig.build.json`, "--outDir", fresh], {
    encoding: "utf8",
  });
  if (result.status !== 0) {
    rmSync(fresh, { recursive: true, force: true });
    throw new Error(`tsc (declarations) failed:\n${result.stdout}${result.stderr}`);
  }
  addJsExtensions(fresh);
  const old = `${types}.${process.pid}.old`;
  if (existsSync(types)) renameSync(types, old);
  renameSync(fresh, types);
  rmSync(old, { recursive: true, force: true });
}

/**
 * The sources import "./define" (bundler style); Node's resolution, which a consumer's TypeScript uses
 * with `moduleResolution: node16/nodenext`, wants "./define.js" or "./package/index.js".
 */
function addJsExtensions(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      addJsExtensions(path);
      continue;
    }
    if (!name.endsWith(".d.ts")) continue;
    const text = readFileSync(path, "utf8").replace(
      /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*)(["'])/g,
      (match, head, specifier, tail) => {
        if (/\.(?:js|mjs|json)$/.test(specifier)) return match;
        const target = resolve(dirname(path), specifier);
        const asDir = existsSync(join(target, "index.d.ts"));
        return `${head}${specifier}${asDir ? "/index.js" : ".js"}${tail}`;
      },
    );
    writeFileSync(path, text);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildLibrary();
  await buildCli();
  await buildSandboxService();
}
