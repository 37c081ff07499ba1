import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "../../../skill-sdk/src/node-testing";
import { describePermissions, PermissionDeniedError, SkillInputError } from "../sdk";
import { createHarness, type Harness } from "../test-harness";
import { createHttpFetchSkill, httpFetch } from "./http-fetch";

let server: LocalServer;
let h: Harness;

beforeAll(async () => {
  server = await startLocalServer((request) =>
    request.url === "/big"
      ? { body: "0123456789".repeat(100) }
      : {
          status: request.method === "POST" ? 201 : 200,
          body: { method: request.method, body: request.body },
        },
  );
});
afterAll(() => server.close());
beforeEach(async () => {
  server.requests.length = 0;
  h = await createHarness({ routes: { "status.example.com": server.origin } });
});
afterEach(() => h.close());

const statusFetch = createHttpFetchSkill({
  name: "http-fetch-status",
  allowedDomains: ["status.example.com"],
});

describe("http-fetch", () => {
  it("declares no domains, so on its own it reaches nothing", async () => {
    expect(describePermissions(httpFetch.manifest)[0]).toBe("No network access");
    await expect(httpFetch.run({ url: "https://status.example.com/health" }, h.host)).rejects.toBeInstanceOf(
      PermissionDeniedError,
    );
    expect(server.requests).toEqual([]);
  });

  it("a variant GETs and POSTs to its declared domain", async () => {
    const got = await statusFetch.run({ url: "https://status.example.com/health" }, h.host);
    expect(got).toMatchObject({ status: 200, truncated: false, url: "https://status.example.com/health" });
    expect(JSON.parse(got.body)).toEqual({ method: "GET", body: "" });
    expect(got.headers["content-type"]).toBe("application/json");

    const posted = await statusFetch.run(
      {
        method: "POST",
        url: "https://status.example.com/events",
        headers: { "content-type": "text/plain" },
        body: "up",
      },
      h.host,
    );
    expect(posted.status).toBe(201);
    expect(JSON.parse(posted.body)).toEqual({ method: "POST", body: "up" });
  });

  it("cuts long bodies at maxBytes", async () => {
    const result = await statusFetch.run({ url: "https://status.example.com/big", maxBytes: 25 }, h.host);
    expect(result).toMatchObject({ body: "0123456789012345678901234", truncated: true });
  });

  it("a variant still cannot leave its domain", async () => {
    await expect(statusFetch.run({ url: "https://api.example.com/" }, h.host)).rejects.toMatchObject({
      kind: "network",
      target: "api.example.com",
    });
  });

  it("refuses a body on GET and non-http URLs", async () => {
    const attempt = statusFetch.run({ url: "https://status.example.com/", body: "x" }, h.host);
    await expect(attempt).rejects.toBeInstanceOf(SkillInputError);
    await expect(attempt).rejects.toMatchObject({ issues: { body: ["only POST requests carry a body"] } });
    await expect(statusFetch.run({ url: "ftp://status.example.com/" }, h.host)).rejects.toMatchObject({
      issues: { url: [expect.any(String)] },
    });
    expect(server.requests).toEqual([]);
  });
});
