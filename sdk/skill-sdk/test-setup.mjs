// Vitest global setup for the unit suite: builds @aegis/skill-sdk (build.mjs) and the controller's
// programs (controller/build.mjs) once, before any test file runs, so every test uses one finished dist/.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup() {
  for (const script of ["./build.mjs", "../../controller/build.mjs"]) {
    const build = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
      encoding: "utf8",
    });
    if (build.status !== 0 || build.stderr !== "") {
      throw new Error(`${script} failed (exit ${build.status}):\n${build.stdout}${build.stderr}`);
    }
  }
}
