import { z } from "zod";
import { defineSkill, SkillError, type SkillManifest } from "../sdk";

const manifest = {
  manifestVersion: 1,
  name: "slack-notify",
  version: "1.0.0",
  displayName: "Slack notify",
  description: "Post a message to a Slack channel through an incoming webhook the tenant provides.",
  category: "integrations",
  entry: "src/catalog/slack-notify.ts",
  runtime: "js",
  permissions: {
    network: { allowedDomains: ["hooks.slack.com"] },
    files: { readPaths: [], writePaths: [] },
    env: { required: ["SLACK_WEBHOOK_URL"], optional: [] },
    messages: { send: [] },
    models: { gateway: false },
  },
} satisfies SkillManifest;

/** Slack's limit for the text of one message. */
export const SLACK_TEXT_LIMIT = 40_000;

export const slackNotify = defineSkill({
  manifest,
  input: z.strictObject({
    text: z.string().trim().min(1).max(SLACK_TEXT_LIMIT),
    /** Shown above the text in bold. */
    title: z.string().trim().min(1).max(150).optional(),
  }),
  output: z.object({ delivered: z.literal(true) }),
  async handler(input, ctx) {
    const webhook = ctx.env.get("SLACK_WEBHOOK_URL");
    if (!webhook) throw new SkillError("missing_env", "SLACK_WEBHOOK_URL is not set");
    let url: URL;
    try {
      url = new URL(webhook);
    } catch {
      throw new SkillError("invalid_config", "SLACK_WEBHOOK_URL is not a URL");
    }
    // The path of a webhook URL is its credential; it must not travel in clear text.
    if (url.protocol !== "https:") throw new SkillError("invalid_config", "SLACK_WEBHOOK_URL must use https");
    // The webhook URL is a secret: errors name the host only, never the URL.
    const response = await ctx.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: input.title ? `*${input.title}*\n${input.text}` : input.text }),
    });
    if (!response.ok) {
      const detail = (await response.text().catch(() => "")).slice(0, 200);
      throw new SkillError(
        "upstream_error",
        `Slack answered ${response.status}${detail ? `: ${detail}` : ""}`,
      );
    }
    await response.body?.cancel();
    return { delivered: true as const };
  },
});
