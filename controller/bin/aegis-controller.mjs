#!/usr/bin/env node
// The aegis-controller command. The code is TypeScript in src/cli.ts, bundled by build.mjs.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.gen.mjs", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    "aegis-controller: dist/cli.gen.mjs is missing; run `node controller/build.mjs` first.\n",
  );
  process.exit(2);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
