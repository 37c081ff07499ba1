import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type JsonValue, SkillInputError } from "../sdk";
import { createHarness, type Harness } from "../test-harness";
import { jsonTransform, parsePath, transformJson } from "./json-transform";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const orders = {
  meta: { page: 1 },
  orders: [
    { id: 1, customer: { name: "Ada", tier: "gold" }, total: 250, tags: ["rush"] },
    { id: 2, customer: { name: "Ben", tier: "silver" }, total: 40, tags: [] },
    { id: 3, customer: { name: "Cy", tier: "gold" }, total: 90, tags: ["gift"] },
  ],
};

describe("json-transform", () => {
  it("selects, filters, maps and limits", async () => {
    const result = await jsonTransform.run(
      {
        data: orders,
        operations: [
          { op: "select", path: "orders" },
          { op: "filter", where: { path: "customer.tier", equals: "gold" } },
          { op: "filter", where: { path: "total", gte: 50 } },
          { op: "map", fields: { who: "customer.name", amount: "total", firstTag: "tags[0]" } },
          { op: "limit", count: 5 },
        ],
      },
      h.host,
    );
    expect(result).toEqual({
      result: [
        { who: "Ada", amount: 250, firstTag: "rush" },
        { who: "Cy", amount: 90, firstTag: "gift" },
      ],
    });
  });

  it("picks nested paths and renames fields", async () => {
    const result = await jsonTransform.run(
      {
        data: orders.orders,
        operations: [
          { op: "pick", paths: ["id", "customer.name"] },
          { op: "rename", from: "id", to: "orderId" },
        ],
      },
      h.host,
    );
    expect(result.result).toEqual([
      { customer: { name: "Ada" }, orderId: 1 },
      { customer: { name: "Ben" }, orderId: 2 },
      { customer: { name: "Cy" }, orderId: 3 },
    ]);
  });

  it("refuses paths that are not in the path language, pointing at the step", async () => {
    for (const path of ["orders..id", "__proto__.polluted", "orders[0](1)", "constructor"]) {
      const attempt = jsonTransform.run({ data: orders, operations: [{ op: "select", path }] }, h.host);
      await expect(attempt, path).rejects.toBeInstanceOf(SkillInputError);
      await expect(attempt, path).rejects.toMatchObject({
        issues: { "operations.0.path": [expect.any(String)] },
      });
    }
    expect("polluted" in {}).toBe(false);
  });

  it("says which step does not fit the data", async () => {
    await expect(
      jsonTransform.run(
        { data: orders, operations: [{ op: "filter", where: { path: "id", exists: true } }] },
        h.host,
      ),
    ).rejects.toMatchObject({ code: "invalid_transform", message: "step 0: filter needs an array" });
  });

  it("parses the path language without evaluating anything", () => {
    expect(parsePath("a.b[2].c-d")).toEqual(["a", "b", 2, "c-d"]);
    expect(parsePath("")).toEqual([]);
    expect(typeof parsePath("a[b]")).toBe("string");
  });

  it("never lets a __proto__ key in the data change an object's prototype", async () => {
    const data = JSON.parse('{"__proto__": {"admin": true}, "name": "x"}');
    const { result } = await jsonTransform.run(
      { data, operations: [{ op: "rename", from: "name", to: "title" }] },
      h.host,
    );
    expect(result).toEqual({ title: "x" });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(typeof result === "object" && result !== null && "admin" in result).toBe(false);
  });

  it("copies an own __proto__ key as data when renaming", () => {
    const data: { [key: string]: JsonValue } = { name: "x" };
    Object.defineProperty(data, "__proto__", {
      value: { admin: true },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const result = transformJson(data, [{ op: "rename", from: "name", to: "title" }]);
    expect(JSON.stringify(result)).toBe('{"title":"x","__proto__":{"admin":true}}');
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  });
});
