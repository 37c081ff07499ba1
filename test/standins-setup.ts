import type { TestProject } from "vitest/node";
import { start as startMail } from "../scripts/standins/mail.mjs";
import { start as startModelUpstream } from "../scripts/standins/model-upstream.mjs";
import { start as startStripe } from "../scripts/standins/stripe.mjs";
import { start as startReceiver } from "../scripts/standins/webhook-receiver.mjs";
import { startSandboxService } from "../sdk/skill-sdk/src/sandbox/service";

/** The bearer key the worker sends to the mail stand-in in tests. */
export const TEST_MAIL_API_KEY = "test-mail-key-0123456789";
/** The `x-api-key` the gateway sends to the model upstream stand-in in tests. */
export const TEST_MODEL_UPSTREAM_KEY = "test-upstream-key-0123456789";
/** The Stripe stand-in's secret key and webhook endpoint secret in tests. */
export const TEST_STRIPE_SECRET_KEY = "sk_test_standin_0123456789";
export const TEST_STRIPE_WEBHOOK_SECRET = "whsec_test_0123456789";

/**
 * Vitest global setup, in Node: the stand-ins for the systems outside Cloudflare (the mail API, the
 * model upstream, Stripe and a tenant's webhook endpoint) start here, before the workerd pool, on free
 * ports of 127.0.0.1. Their URLs reach the Worker as bindings (vitest.config.ts) and the tests
 * through `inject()`.
 */
export default async function setup(project: TestProject) {
  const mail = await startMail(0, { apiKey: TEST_MAIL_API_KEY });
  const receiver = await startReceiver(0);
  const model = await startModelUpstream(0, { apiKey: TEST_MODEL_UPSTREAM_KEY });
  const stripe = await startStripe(0, {
    secretKey: TEST_STRIPE_SECRET_KEY,
    webhookSecret: TEST_STRIPE_WEBHOOK_SECRET,
  });
  // Not a stand-in: the platform's own dry-run sandbox service, which the Worker calls over HTTP.
  const sandbox = await startSandboxService(0, { secret: "test-sandbox-secret-0123456789" });
  project.provide("sandboxUrl", sandbox.url);
  project.provide("sandboxSecret", sandbox.secret);
  project.provide("mailUrl", mail.url);
  project.provide("mailApiUrl", mail.sendUrl);
  project.provide("mailApiKey", mail.apiKey);
  project.provide("receiverUrl", receiver.url);
  project.provide("modelUpstreamUrl", model.url);
  project.provide("modelUpstreamKey", model.apiKey);
  project.provide("stripeApiUrl", stripe.url);
  project.provide("stripeSecretKey", stripe.secretKey);
  project.provide("stripeWebhookSecret", stripe.webhookSecret);
  return async () => {
    await Promise.all([mail.close(), receiver.close(), model.close(), stripe.close(), sandbox.close()]);
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The mail stand-in: GET /messages lists what the Worker sent. */
    mailUrl: string;
    mailApiUrl: string;
    mailApiKey: string;
    /** The webhook receiver stand-in: POST anything, GET /deliveries, POST /fail. */
    receiverUrl: string;
    /** The model upstream stand-in (Anthropic's Messages API): GET /calls, `x-standin-behavior`. */
    modelUpstreamUrl: string;
    modelUpstreamKey: string;
    /** The Stripe API stand-in (STRIPE_API_URL): GET /__state, POST /__sign, POST /__fail. */
    stripeApiUrl: string;
    stripeSecretKey: string;
    stripeWebhookSecret: string;
    /** The skill dry-run sandbox service (SKILL_SANDBOX_URL, SKILL_SANDBOX_SECRET). */
    sandboxUrl: string;
    sandboxSecret: string;
  }
}
