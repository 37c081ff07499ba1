import { defineConfig } from "vitest/config";

/**
 * The controller's kubernetes driver against a real kube-apiserver + etcd (../shared/k8s, built once
 * into a cache outside the repository; see scripts/k8s-setup.ts). One API server, so one file at a time.
 */
export default defineConfig({
  test: {
    include: ["controller/**/*.k8s.test.ts"],
    environment: "node",
    globalSetup: ["./scripts/k8s-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
