import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  AppError,
  conflict,
  forbidden,
  issuesToDetails,
  notFound,
  reasonPhrase,
  SCOPED_RESOURCES,
  ScopedNotFound,
  unauthenticated,
  validationFailed,
} from "./errors";

describe("issuesToDetails", () => {
  it("joins the path of each issue with dots, array indexes included", () => {
    expect(
      issuesToDetails([
        { path: ["a", "b", 0], message: "Expected string" },
        { path: ["name"], message: "Required" },
      ]),
    ).toEqual({ "a.b.0": ["Expected string"], name: ["Required"] });
  });

  it("puts the prefix in front of the path", () => {
    expect(issuesToDetails([{ path: ["limit"], message: "Too big" }], "query")).toEqual({
      "query.limit": ["Too big"],
    });
    expect(issuesToDetails([{ path: ["items", 2, "id"], message: "Invalid" }], "body")).toEqual({
      "body.items.2.id": ["Invalid"],
    });
  });

  it('names an issue with an empty path "(root)"', () => {
    expect(issuesToDetails([{ path: [], message: "Expected object" }])).toEqual({
      "(root)": ["Expected object"],
    });
  });

  it("names an empty path by the prefix when there is one", () => {
    expect(issuesToDetails([{ path: [], message: "Expected object" }], "query")).toEqual({
      query: ["Expected object"],
    });
  });

  it("collects several messages for the same field, in order", () => {
    expect(
      issuesToDetails([
        { path: ["password"], message: "Too short" },
        { path: ["email"], message: "Invalid email" },
        { path: ["password"], message: "Needs a digit" },
      ]),
    ).toEqual({ password: ["Too short", "Needs a digit"], email: ["Invalid email"] });
  });

  it("returns no details for no issues", () => {
    expect(issuesToDetails([])).toEqual({});
  });

  it("works on real zod issues", () => {
    const schema = z.object({
      a: z.object({ b: z.array(z.string()) }),
      limit: z.number().int().max(100),
      code: z.string().min(3).regex(/^\d+$/),
    });
    const result = schema.safeParse({ a: { b: ["ok", 1] }, limit: 500, code: "x" });
    expect(result.success).toBe(false);
    const details = issuesToDetails(result.error?.issues ?? [], "body");
    expect(Object.keys(details).sort()).toEqual(["body.a.b.1", "body.code", "body.limit"]);
    expect(details["body.code"]).toHaveLength(2);

    const root = z.object({}).safeParse("not an object");
    expect(Object.keys(issuesToDetails(root.error?.issues ?? []))).toEqual(["(root)"]);
  });
});

describe("AppError", () => {
  it("carries status, code, message, details and headers", () => {
    const err = new AppError(
      429,
      "quota_paused",
      "Agent paused",
      { agentId: "agt_1" },
      { "Retry-After": "10" },
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(AppError);
    expect(err.name).toBe("AppError");
    expect(err.status).toBe(429);
    expect(err.code).toBe("quota_paused");
    expect(err.message).toBe("Agent paused");
    expect(err.details).toEqual({ agentId: "agt_1" });
    expect(err.headers).toEqual({ "Retry-After": "10" });
  });

  it("leaves details and headers undefined when not given", () => {
    const err = new AppError(500, "internal", "Boom");
    expect(err.details).toBeUndefined();
    expect(err.headers).toBeUndefined();
  });
});

describe("error helpers", () => {
  it("notFound is a 404 not_found naming the resource", () => {
    expect(notFound("Agent")).toMatchObject({ status: 404, code: "not_found", message: "Agent not found" });
    expect(notFound()).toMatchObject({ status: 404, code: "not_found", message: "Resource not found" });
  });

  it("forbidden is a 403, with an optional code", () => {
    expect(forbidden()).toMatchObject({ status: 403, code: "forbidden" });
    expect(forbidden("Cross-origin request refused", "origin_mismatch")).toMatchObject({
      status: 403,
      code: "origin_mismatch",
      message: "Cross-origin request refused",
    });
  });

  it("unauthenticated is a 401", () => {
    expect(unauthenticated()).toMatchObject({ status: 401, code: "unauthenticated" });
  });

  it("conflict is a 409 with code and details", () => {
    expect(conflict("Email taken", "email_taken", { field: "email" })).toMatchObject({
      status: 409,
      code: "email_taken",
      message: "Email taken",
      details: { field: "email" },
    });
    expect(conflict("Already exists")).toMatchObject({ status: 409, code: "conflict" });
  });

  it("validationFailed is a 400 validation_failed carrying the field details", () => {
    const details = { "query.limit": ["Too big"] };
    expect(validationFailed(details)).toMatchObject({
      status: 400,
      code: "validation_failed",
      message: "Request validation failed",
      details,
    });
  });

  it("reasonPhrase names the common statuses and falls back to Error", () => {
    expect(reasonPhrase(404)).toBe("Not Found");
    expect(reasonPhrase(429)).toBe("Too Many Requests");
    expect(reasonPhrase(422)).toBe("Unprocessable Entity");
    expect(reasonPhrase(418)).toBe("Error");
  });
});

describe("ScopedNotFound", () => {
  it("is a plain 404 not_found that remembers what was looked up", () => {
    const err = new ScopedNotFound("Agent", "agents", "agt_01abc");
    expect(err).toBeInstanceOf(AppError);
    expect(err).toBeInstanceOf(Error);
    expect(err.status).toBe(404);
    expect(err.code).toBe("not_found");
    expect(err.message).toBe("Agent not found");
    expect(err.details).toBeUndefined();
    expect(err.resource).toBe("agents");
    expect(err.resourceId).toBe("agt_01abc");
  });

  it("looks the same to the client as notFound, so ids of other tenants are not revealed", () => {
    const scoped = new ScopedNotFound("Agent", "agents", "agt_other_tenant");
    const plain = notFound("Agent");
    expect([scoped.status, scoped.code, scoped.message, scoped.details]).toEqual([
      plain.status,
      plain.code,
      plain.message,
      plain.details,
    ]);
  });

  it("covers the tenant-scoped resources", () => {
    expect([...SCOPED_RESOURCES].sort()).toEqual([
      "agents",
      "alerts",
      "api_keys",
      "invites",
      "skills",
      "users",
      "webhooks",
    ]);
  });
});
