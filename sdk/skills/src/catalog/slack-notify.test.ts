import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "../../../skill-sdk/src/node-testing";
import { PermissionDeniedError } from "../sdk";
import { createHarness, type Harness } from "../test-harness";
import { slackNotify } from "./slack-notify";

let slack: LocalServer;
let h: Harness | undefined;

beforeAll(async () => {
  slack = await startLocalServer((request) =>
    request.url === "/services/T1/B1/valid" ? { body: "ok" } : { status: 404, body: "no_service" },
  );
});
afterAll(() => slack.close());
afterEach(async () => {
  slack.requests.length = 0;
  await h?.close();
});

async function withWebhook(url: string): Promise<Harness> {
  h = await createHarness({
    env: { SLACK_WEBHOOK_URL: url },
    routes: { "hooks.slack.com": slack.origin, "evil.example.net": slack.origin },
  });
  return h;
}

describe("slack-notify", () => {
  it("posts the message to the webhook", async () => {
    const { host } = await withWebhook("https://hooks.slack.com/services/T1/B1/valid");
    await expect(slackNotify.run({ title: "Deploy", text: "v2.3 is live" }, host)).resolves.toEqual({
      delivered: true,
    });
    expect(slack.requests).toMatchObject([{ method: "POST", url: "/services/T1/B1/valid" }]);
    expect(JSON.parse(slack.requests[0]?.body ?? "")).toEqual({ text: "*Deploy*\nv2.3 is live" });
  });

  it("passes Slack's refusal on", async () => {
    const { host } = await withWebhook("https://hooks.slack.com/services/T1/B1/revoked");
    await expect(slackNotify.run({ text: "hello" }, host)).rejects.toMatchObject({
      code: "upstream_error",
      message: "Slack answered 404: no_service",
    });
  });

  it("will not send to a webhook on another host", async () => {
    const { host } = await withWebhook("https://evil.example.net/services/T1/B1/valid");
    await expect(slackNotify.run({ text: "hello" }, host)).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(slack.requests).toEqual([]);
  });

  it("refuses an empty message", async () => {
    const { host } = await withWebhook("https://hooks.slack.com/services/T1/B1/valid");
    await expect(slackNotify.run({ text: "" }, host)).rejects.toMatchObject({
      issues: { text: [expect.any(String)] },
    });
  });
});
