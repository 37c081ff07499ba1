#!/usr/bin/env node
// The aegis-skill command. The code is TypeScript in src/cli.ts, bundled by build.mjs (run on prepack).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bundle = new URL("../dist/cli.gen.mjs", import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write(
    "aegis-skill: dist/cli.gen.mjs is missing; run `node sdk/skill-sdk/build.mjs` first.\n",
  );
  process.exit(2);
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
