import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "../../../skill-sdk/src/node-testing";
import { createHarness, type Harness } from "../test-harness";
import { webResearch } from "./web-research";

let wikipedia: LocalServer;
let h: Harness;

beforeAll(async () => {
  wikipedia = await startLocalServer((request) => {
    const url = new URL(request.url, "http://local");
    if (url.pathname === "/w/rest.php/v1/search/page")
      return url.searchParams.get("q") === "nothing at all"
        ? { body: { pages: [] } }
        : {
            body: {
              pages: [
                { key: "Honey_bee", title: "Honey bee" },
                { key: "Waggle_dance", title: "Waggle dance" },
              ],
            },
          };
    if (url.pathname === "/api/rest_v1/page/summary/Honey_bee")
      return {
        body: {
          title: "Honey bee",
          extract: "Honey bees are eusocial flying insects.",
          content_urls: { desktop: { page: "https://en.wikipedia.org/wiki/Honey_bee" } },
        },
      };
    if (url.pathname === "/api/rest_v1/page/summary/Waggle_dance")
      return { body: { title: "Waggle dance", extract: "Bees dance to share where food is." } };
    return { status: 404, body: {} };
  });
});
afterAll(() => wikipedia.close());
beforeEach(async () => {
  wikipedia.requests.length = 0;
  h = await createHarness({
    routes: { "en.wikipedia.org": wikipedia.origin },
    modelReply: () => "Bees live in colonies and dance to share food sources.",
  });
});
afterEach(() => h.close());

describe("web-research", () => {
  it("finds articles and summarises them with their sources", async () => {
    const result = await webResearch.run({ query: "how do bees communicate", maxArticles: 2 }, h.host);
    expect(result).toMatchObject({
      query: "how do bees communicate",
      summary: "Bees live in colonies and dance to share food sources.",
      sources: [
        { title: "Honey bee", url: "https://en.wikipedia.org/wiki/Honey_bee" },
        { title: "Waggle dance", url: "https://en.wikipedia.org/wiki/Waggle_dance" },
      ],
    });
    expect(wikipedia.requests[0]?.url).toBe("/w/rest.php/v1/search/page?q=how+do+bees+communicate&limit=2");
    const prompt = h.model.calls[0]?.messages[0]?.content ?? "";
    expect(prompt).toContain("Honey bees are eusocial flying insects.");
    expect(prompt).toContain("Focus on: how do bees communicate.");
  });

  it("says so when nothing matches, without calling the model", async () => {
    const result = await webResearch.run({ query: "nothing at all" }, h.host);
    expect(result).toMatchObject({
      sources: [],
      summary: 'No Wikipedia articles in language "en" matched "nothing at all".',
    });
    expect(h.model.calls).toEqual([]);
  });

  it("refuses a language code that is not one", async () => {
    await expect(webResearch.run({ query: "bees", language: "en.evil.com/" }, h.host)).rejects.toMatchObject({
      issues: { language: [expect.any(String)] },
    });
    expect(wikipedia.requests).toEqual([]);
  });
});
