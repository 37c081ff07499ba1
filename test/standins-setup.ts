import type { TestProject } from "vitest/node";
import { start as startMail } from "../scripts/standins/mail.mjs";
import { start as startReceiver } from "../scripts/standins/webhook-receiver.mjs";

/** The bearer key the worker sends to the mail stand-in in tests. */
export const TEST_MAIL_API_KEY = "test-mail-key-0123456789";

/**
 * Vitest global setup, in Node: the stand-ins for the systems outside Cloudflare (the mail API and
 * a tenant's webhook endpoint) start here, before the workerd pool, on free ports of 127.0.0.1.
 * Their URLs reach the Worker as bindings (vitest.config.ts) and the tests through `inject()`.
 */
export default async function setup(project: TestProject) {
  const mail = await startMail(0, { apiKey: TEST_MAIL_API_KEY });
  const receiver = await startReceiver(0);
  project.provide("mailUrl", mail.url);
  project.provide("mailApiUrl", mail.sendUrl);
  project.provide("mailApiKey", mail.apiKey);
  project.provide("receiverUrl", receiver.url);
  return async () => {
    await Promise.all([mail.close(), receiver.close()]);
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
  }
}
