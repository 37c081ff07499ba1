import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "../../../skill-sdk/src/node-testing";
import { createHarness, type Harness } from "../test-harness";
import { githubIssues } from "./github-issues";

const issue = (number: number, title: string, extra: object = {}) => ({
  number,
  title,
  state: "open",
  html_url: `https://github.com/acme/widgets/issues/${number}`,
  user: { login: "octocat" },
  labels: [{ name: "bug" }],
  ...extra,
});

let github: LocalServer;
let h: Harness;

beforeAll(async () => {
  github = await startLocalServer((request) => {
    if (!request.url.startsWith("/repos/acme/widgets/issues"))
      return { status: 404, body: { message: "Not Found" } };
    if (request.method === "POST") {
      const body = JSON.parse(request.body);
      return { status: 201, body: issue(43, body.title, { labels: body.labels ?? [] }) };
    }
    return { body: [issue(41, "Crash on save"), issue(42, "Add dark mode", { pull_request: { url: "x" } })] };
  });
});
afterAll(() => github.close());
beforeEach(async () => {
  github.requests.length = 0;
  h = await createHarness({
    env: { GITHUB_TOKEN: "ghp_secret" },
    routes: { "api.github.com": github.origin },
  });
});
afterEach(() => h.close());

describe("github-issues", () => {
  it("lists open issues with the tenant's token, leaving out pull requests", async () => {
    const result = await githubIssues.run(
      { action: "list", owner: "acme", repo: "widgets", labels: ["bug"] },
      h.host,
    );
    expect(result).toEqual({
      action: "list",
      issues: [
        {
          number: 41,
          title: "Crash on save",
          state: "open",
          url: "https://github.com/acme/widgets/issues/41",
          author: "octocat",
          labels: ["bug"],
        },
      ],
    });
    const [request] = github.requests;
    expect(request?.url).toBe("/repos/acme/widgets/issues?state=open&per_page=30&labels=bug");
    expect(request?.headers.authorization).toBe("Bearer ghp_secret");
    expect(request?.headers["user-agent"]).toContain("aegis");
  });

  it("opens an issue", async () => {
    const result = await githubIssues.run(
      { action: "create", owner: "acme", repo: "widgets", title: "Export fails", labels: ["bug"] },
      h.host,
    );
    expect(result).toMatchObject({
      action: "create",
      issue: { number: 43, title: "Export fails", labels: ["bug"] },
    });
    expect(JSON.parse(github.requests[0]?.body ?? "")).toEqual({ title: "Export fails", labels: ["bug"] });
  });

  it("passes GitHub's error on", async () => {
    await expect(
      githubIssues.run({ action: "list", owner: "acme", repo: "gadgets" }, h.host),
    ).rejects.toMatchObject({ code: "upstream_error", message: "GitHub answered 404: Not Found" });
  });

  it("refuses owner names that would change the URL path", async () => {
    await expect(
      githubIssues.run({ action: "list", owner: "../../admin", repo: "widgets" }, h.host),
    ).rejects.toMatchObject({ code: "invalid_input", issues: { owner: [expect.any(String)] } });
    expect(github.requests).toEqual([]);
  });

  it("will not run without GITHUB_TOKEN", async () => {
    const bare = await createHarness({ routes: { "api.github.com": github.origin } });
    try {
      await expect(
        githubIssues.run({ action: "list", owner: "acme", repo: "widgets" }, bare.host),
      ).rejects.toMatchObject({ code: "missing_env" });
    } finally {
      await bare.close();
    }
    expect(github.requests).toEqual([]);
  });
});
