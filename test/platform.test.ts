import { describe, expect, it } from "vitest";
import { app } from "../worker/app";
import { call, callJson } from "./helpers";

describe("platform", () => {
  it("GET /api/health answers with a request id", async () => {
    const res = await call("GET", "/api/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("keeps a well-formed incoming X-Request-Id and replaces a malformed one", async () => {
    const kept = await call("GET", "/api/health", { headers: { "x-request-id": "trace-12345678" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-12345678");
    const replaced = await call("GET", "/api/health", { headers: { "x-request-id": "<script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("answers unknown API routes with the error shape", async () => {
    const { status, body, res } = await callJson("GET", "/api/nope");
    expect(status).toBe(404);
    expect(body).toMatchObject({ statusCode: 404, error: "Not Found", code: "not_found", path: "/api/nope" });
    expect(body.requestId).toBe(res.headers.get("x-request-id"));
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it("GET /api/openapi.json describes every API route of the app", async () => {
    const { status, body } = await callJson("GET", "/api/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops))
        documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
    }
    const routes = app.routes
      .filter((r) => r.method !== "ALL" && (r.path.startsWith("/api/") || r.path.startsWith("/v1/")))
      .map((r) => `${r.method} ${r.path}`)
      .filter((r) => r !== "GET /api/openapi.json");
    expect(routes.length).toBeGreaterThan(30);
    const missing = routes.filter((r) => !documented.has(r));
    expect(missing).toEqual([]);
  });

  it("sets security headers", async () => {
    const res = await call("GET", "/api/health");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBeTruthy();
  });
});
