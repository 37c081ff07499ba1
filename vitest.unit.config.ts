import { defineConfig } from "vitest/config";

/** Pure logic, in Node: worker/lib, the SDK packages, and the local stand-ins (scripts/standins). */
export default defineConfig({
  test: {
    include: [
      "worker/lib/**/*.test.ts",
      "sdk/**/*.test.ts",
      "controller/**/*.test.ts",
      "scripts/standins/**/*.test.ts",
    ],
    environment: "node",
    // The SDK is built once (the CLI, its publishable library, the sandbox's SDK bundle) before the tests.
    globalSetup: ["./sdk/skill-sdk/test-setup.mjs"],
  },
});
