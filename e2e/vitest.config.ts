import { defineConfig } from "vitest/config";

/** Browser flows: Chromium (playwright-core) against `npm run dev` on a free port, with its own state. */
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    globalSetup: ["e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 180_000,
  },
});
