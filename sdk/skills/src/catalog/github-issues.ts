import { z } from "zod";
import { defineSkill, type SkillContext, SkillError, type SkillManifest } from "../sdk";

const manifest = {
  manifestVersion: 1,
  name: "github-issues",
  version: "1.0.0",
  displayName: "GitHub issues",
  description: "List and open issues in a GitHub repository with a token the tenant provides.",
  category: "integrations",
  entry: "src/catalog/github-issues.ts",
  runtime: "js",
  permissions: {
    network: { allowedDomains: ["api.github.com"] },
    files: { readPaths: [], writePaths: [] },
    env: { required: ["GITHUB_TOKEN"], optional: [] },
    messages: { send: [] },
    models: { gateway: false },
  },
} satisfies SkillManifest;

const API = "https://api.github.com";

// Owner and repo go into the URL path, so they are held to GitHub's own character set.
const owner = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "not a GitHub user or organisation name");
const repo = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,100}$/, "not a GitHub repository name")
  .refine((name) => name !== "." && name !== "..", "not a GitHub repository name");

const issueSchema = z.object({
  number: z.number().int(),
  title: z.string(),
  state: z.string(),
  html_url: z.string(),
  user: z.object({ login: z.string() }).nullable(),
  labels: z.array(z.union([z.string(), z.object({ name: z.string().optional() })])),
  pull_request: z.unknown().optional(),
});
type GitHubIssue = z.infer<typeof issueSchema>;

const issueOut = z.object({
  number: z.number().int(),
  title: z.string(),
  state: z.string(),
  url: z.string(),
  author: z.string().nullable(),
  labels: z.array(z.string()),
});

function toIssue(issue: GitHubIssue): z.infer<typeof issueOut> {
  return {
    number: issue.number,
    title: issue.title,
    state: issue.state,
    url: issue.html_url,
    author: issue.user?.login ?? null,
    labels: issue.labels.flatMap((label) => {
      const name = typeof label === "string" ? label : label.name;
      return name === undefined ? [] : [name];
    }),
  };
}

async function github(
  ctx: SkillContext,
  path: string,
  init: { method: string; body?: unknown },
): Promise<unknown> {
  const token = ctx.env.get("GITHUB_TOKEN");
  if (!token) throw new SkillError("missing_env", "GITHUB_TOKEN is not set");
  const response = await ctx.fetch(`${API}${path}`, {
    method: init.method,
    headers: {
      accept: "application/vnd.github+json",
      authorization: `Bearer ${token}`,
      "user-agent": "aegis-skill-github-issues/1.0.0",
      "x-github-api-version": "2022-11-28",
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const message = z.object({ message: z.string() }).safeParse(body);
    throw new SkillError(
      "upstream_error",
      `GitHub answered ${response.status}${message.success ? `: ${message.data.message}` : ""}`,
    );
  }
  return body;
}

const output = z.discriminatedUnion("action", [
  z.object({ action: z.literal("list"), issues: z.array(issueOut) }),
  z.object({ action: z.literal("create"), issue: issueOut }),
]);

export const githubIssues = defineSkill({
  manifest,
  input: z.discriminatedUnion("action", [
    z.strictObject({
      action: z.literal("list"),
      owner,
      repo,
      state: z.enum(["open", "closed", "all"]).default("open"),
      labels: z.array(z.string().min(1).max(50)).max(10).optional(),
      limit: z.number().int().min(1).max(100).default(30),
    }),
    z.strictObject({
      action: z.literal("create"),
      owner,
      repo,
      title: z.string().trim().min(1).max(256),
      body: z.string().max(65_536).optional(),
      labels: z.array(z.string().min(1).max(50)).max(10).optional(),
    }),
  ]),
  output,
  async handler(input, ctx): Promise<z.input<typeof output>> {
    const base = `/repos/${encodeURIComponent(input.owner)}/${encodeURIComponent(input.repo)}/issues`;
    if (input.action === "list") {
      const query = new URLSearchParams({ state: input.state, per_page: String(input.limit) });
      if (input.labels) query.set("labels", input.labels.join(","));
      const parsed = z.array(issueSchema).safeParse(await github(ctx, `${base}?${query}`, { method: "GET" }));
      if (!parsed.success) throw new SkillError("upstream_error", "GitHub answered with an unexpected shape");
      // The issues endpoint also returns pull requests; this skill is about issues.
      const issues = parsed.data.filter((issue) => issue.pull_request === undefined).map(toIssue);
      return { action: "list", issues };
    }
    const created = issueSchema.safeParse(
      await github(ctx, base, {
        method: "POST",
        body: {
          title: input.title,
          ...(input.body === undefined ? {} : { body: input.body }),
          ...(input.labels === undefined ? {} : { labels: input.labels }),
        },
      }),
    );
    if (!created.success) throw new SkillError("upstream_error", "GitHub answered with an unexpected shape");
    return { action: "create", issue: toIssue(created.data) };
  },
});
