import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      main: "./worker/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          AUTH_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
          AEGIS_BOOTSTRAP_EMAIL: "admin@aegis.test",
          AEGIS_BOOTSTRAP_PASSWORD: "operator-password-123",
          // The stand-ins started by test/standins-setup.ts, before the pool, on 127.0.0.1.
          MAIL_API_URL: inject("mailApiUrl"),
          MAIL_API_KEY: inject("mailApiKey"),
          MODEL_UPSTREAM_URL: inject("modelUpstreamUrl"),
          MODEL_UPSTREAM_KEY: inject("modelUpstreamKey"),
          STRIPE_API_URL: inject("stripeApiUrl"),
          STRIPE_SECRET_KEY: inject("stripeSecretKey"),
          STRIPE_WEBHOOK_SECRET: inject("stripeWebhookSecret"),
          SKILL_SANDBOX_URL: inject("sandboxUrl"),
          SKILL_SANDBOX_SECRET: inject("sandboxSecret"),
          // Short, so the gateway's 504 is testable against the stand-in's `delay:` knob.
          MODEL_UPSTREAM_TIMEOUT_MS: "1500",
          // Short, so a dry-run that never ends is stopped quickly.
          SKILL_DRY_RUN_TIMEOUT_MS: "2000",
        },
        // Tests drive the provisioning consumer themselves (test/helpers.ts), so every step is
        // observed deterministically; audit events and notifications are consumed as in production
        // (retries and the dead-letter queue are driven by hand in test/webhooks.test.ts).
        queueConsumers: {
          "aegis-audit": { maxBatchTimeout: 0.05 },
          "aegis-notify": { maxBatchTimeout: 0.05 },
          "aegis-usage": { maxBatchTimeout: 0.05 },
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts", "worker/**/*.test.ts", "durable-objects/**/*.test.ts"],
    exclude: ["worker/lib/**/*.test.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    globalSetup: ["./test/standins-setup.ts"],
  },
});
