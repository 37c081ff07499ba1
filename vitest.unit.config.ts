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
    // The kubernetes driver's tests against a real API server are a suite of their own (vitest.k8s.config.ts).
    exclude: ["**/node_modules/**", "**/*.k8s.test.ts"],
    environment: "node",
    // The SDK is built once (the CLI, its publishable library, the sandbox's SDK bundle) before the tests.
    globalSetup: ["./sdk/skill-sdk/test-setup.mjs"],
  },
});
