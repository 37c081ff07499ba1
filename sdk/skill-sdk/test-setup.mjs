// Vitest global setup for the unit suite: builds @aegis/skill-sdk (build.mjs) once, before any test
// file runs, so the CLI tests, the publish checks and the dry-run sandbox all use one finished dist/.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup() {
  const build = spawnSync(process.execPath, [fileURLToPath(new URL("./build.mjs", import.meta.url))], {
    encoding: "utf8",
  });
  if (build.status !== 0 || build.stderr !== "") {
    throw new Error(
      `building @aegis/skill-sdk failed (exit ${build.status}):\n${build.stdout}${build.stderr}`,
    );
  }
}
