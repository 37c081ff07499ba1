import { defineConfig } from "vitest/config";

/** Pure logic, in Node: worker/lib and the SDK packages. */
export default defineConfig({
  test: {
    include: ["worker/lib/**/*.test.ts", "sdk/**/*.test.ts"],
    environment: "node",
  },
});
