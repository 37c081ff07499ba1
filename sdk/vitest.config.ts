import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The repository root, so the include globs read the same wherever vitest is started from.
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    environment: "node",
    include: ["sdk/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
  },
});
