import { z } from "zod";
import { summarizeText } from "../core/summarize";
import { defineSkill, type SkillContext, SkillError, type SkillManifest } from "../sdk";

const manifest = {
  manifestVersion: 1,
  name: "web-research",
  version: "1.0.0",
  displayName: "Web research",
  description:
    "Look a question up on Wikipedia and summarise what the best-matching articles say, with sources.",
  category: "ai",
  entry: "src/catalog/web-research.ts",
  runtime: "js",
  permissions: {
    network: { allowedDomains: ["*.wikipedia.org"] },
    files: { readPaths: [], writePaths: [] },
    env: { required: [], optional: [] },
    messages: { send: [] },
    models: { gateway: true },
  },
} satisfies SkillManifest;

const USER_AGENT = "aegis-skill-web-research/1.0.0";

const searchSchema = z.object({
  pages: z.array(z.object({ key: z.string(), title: z.string() })),
});
const summarySchema = z.object({
  title: z.string(),
  extract: z.string(),
  content_urls: z.object({ desktop: z.object({ page: z.string() }) }).optional(),
});

async function getJson(ctx: SkillContext, url: string): Promise<unknown> {
  const response = await ctx.fetch(url, {
    headers: { accept: "application/json", "user-agent": USER_AGENT },
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new SkillError(
      "upstream_error",
      `Wikipedia answered ${response.status} for ${new URL(url).pathname}`,
    );
  }
  return response.json();
}

export const webResearch = defineSkill({
  manifest,
  input: z.strictObject({
    query: z.string().trim().min(2).max(300),
    language: z
      .string()
      .regex(/^[a-z]{2,12}(?:-[a-z]{2,8})?$/, "must be a Wikipedia language code such as en or de")
      .default("en"),
    maxArticles: z.number().int().min(1).max(5).default(3),
    maxWords: z.number().int().min(20).max(1000).default(200),
  }),
  output: z.object({
    query: z.string(),
    summary: z.string().min(1),
    sources: z.array(z.object({ title: z.string(), url: z.string() })),
    usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() }),
  }),
  async handler({ query, language, maxArticles, maxWords }, ctx) {
    const origin = `https://${language}.wikipedia.org`;
    const search = searchSchema.safeParse(
      await getJson(
        ctx,
        `${origin}/w/rest.php/v1/search/page?${new URLSearchParams({ q: query, limit: String(maxArticles) })}`,
      ),
    );
    if (!search.success)
      throw new SkillError("upstream_error", "Wikipedia search answered with an unexpected shape");

    const articles: { title: string; url: string; extract: string }[] = [];
    for (const page of search.data.pages.slice(0, maxArticles)) {
      const summary = summarySchema.safeParse(
        await getJson(ctx, `${origin}/api/rest_v1/page/summary/${encodeURIComponent(page.key)}`),
      );
      if (!summary.success || summary.data.extract.trim() === "") continue;
      articles.push({
        title: summary.data.title,
        url: summary.data.content_urls?.desktop.page ?? `${origin}/wiki/${encodeURIComponent(page.key)}`,
        extract: summary.data.extract,
      });
    }

    if (articles.length === 0)
      return {
        query,
        summary: `No Wikipedia articles in language "${language}" matched "${query}".`,
        sources: [],
        usage: { inputTokens: 0, outputTokens: 0 },
      };

    const text = articles.map((article) => `## ${article.title}\n${article.extract}`).join("\n\n");
    const { summary, usage } = await summarizeText(ctx, text, { maxWords, focus: query, style: "paragraph" });
    return { query, summary, sources: articles.map(({ title, url }) => ({ title, url })), usage };
  },
});
