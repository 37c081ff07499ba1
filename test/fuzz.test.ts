// Property-based fuzzing of every JSON request body, generated from the zod schemas the routes are
// defined with (through the OpenAPI document they produce): values that follow the schema, values
// that nearly do, and arbitrary JSON. Whatever arrives, no route answers with a 5xx.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../worker/app";
import { call, operatorToken, provisionTenant, type TenantFixture } from "./helpers";
import { type AgentFixture, createAgent } from "./sockets";

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
};

/** Routes that end the caller's session or wipe the fixtures the walk relies on. */
const SKIP = new Set(["POST /api/auth/logout", "POST /api/auth/password", "DELETE /api/admin/tenants/{id}"]);

let components: Record<string, Schema> = {};
let t: TenantFixture;
let op = "";
let agent: AgentFixture;

beforeAll(async () => {
  op = await operatorToken();
  t = await provisionTenant(op, { planTier: "growth" });
  agent = await createAgent(t, "Fuzzed");
});

function arbitraryOf(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (schema.$ref) return arbitraryOf(components[schema.$ref.split("/").pop() ?? ""], depth + 1);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => arbitraryOf(s, depth + 1)));
  if (schema.allOf?.length) return arbitraryOf(schema.allOf[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const keys = Object.keys(props);
      return fc.record(Object.fromEntries(keys.map((k) => [k, arbitraryOf(props[k], depth + 1)])), {
        requiredKeys: keys.filter((k) => required.has(k)),
      });
    }
    case "array":
      return fc.array(arbitraryOf(schema.items, depth + 1), { maxLength: 4 });
    case "string":
      return fc.oneof(
        fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 200) }),
        fc.constantFrom("", "x".repeat(5000), "../../etc/passwd", "<script>", "' OR 1=1 --", "\u0000"),
      );
    case "integer":
      return fc.oneof(
        fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1_000_000 }),
        fc.constantFrom(-1, 0, 2 ** 53),
      );
    case "number":
      return fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(-1, 0, 1e308));
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

describe("fuzzing every JSON body from its schema", () => {
  it("no route answers 5xx to generated, nearly valid or arbitrary bodies", async () => {
    const doc = (await (await call("GET", "/api/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>
      >;
      components?: { schemas?: Record<string, Schema> };
    };
    components = doc.components?.schemas ?? {};
    const targets: Array<{ method: string; path: string; schema: Schema }> = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const schema = op.requestBody?.content?.["application/json"]?.schema;
        if (!schema || SKIP.has(`${method.toUpperCase()} ${path}`)) continue;
        targets.push({ method: method.toUpperCase(), path, schema });
      }
    }
    // The document and the route table agree (checked elsewhere); here: there is plenty to fuzz.
    expect(targets.length).toBeGreaterThan(30);
    expect(app.routes.length).toBeGreaterThan(targets.length);
    const failures: string[] = [];
    let calls = 0;
    for (const target of targets) {
      const concrete = target.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
        name === "agentId" || (name === "id" && target.path.startsWith("/api/dashboard/agents"))
          ? agent.id
          : name === "action"
            ? "pause"
            : name === "template"
              ? "daily_sync"
              : `x_${name}`,
      );
      const token = concrete.startsWith("/api/admin")
        ? op
        : concrete.startsWith("/v1/") && !concrete.startsWith("/v1/auth")
          ? agent.token
          : t.adminToken;
      await fc
        .assert(
          fc.asyncProperty(
            fc.oneof(arbitraryOf(target.schema), fc.jsonValue({ maxDepth: 3 })),
            async (body) => {
              calls++;
              const res = await call(target.method, concrete, { token, body });
              await res.arrayBuffer();
              if (res.status >= 500) {
                failures.push(
                  `${target.method} ${target.path}: ${res.status} for ${JSON.stringify(body).slice(0, 200)}`,
                );
                return false;
              }
              return true;
            },
          ),
          { numRuns: 12, seed: 20261125 },
        )
        .catch(() => {});
    }
    expect(failures).toEqual([]);
    // Every route was really called with every generated body.
    expect(calls).toBe(targets.length * 12);
  }, 180_000);
});

describe("fuzzing the WebSocket frames", () => {
  it("the mailbox answers every generated agent frame and stays up; the feed too", async () => {
    const { z } = await import("zod");
    const { agentFrameSchema, feedClientFrameSchema } = await import("../durable-objects/protocol");
    const { connectAgent, openSocket } = await import("./sockets");
    components = {};
    const frames = (schema: unknown) =>
      fc.oneof(
        arbitraryOf(z.toJSONSchema(schema as never, { unrepresentable: "any" }) as Schema),
        fc.jsonValue({ maxDepth: 3 }),
        fc.string({ maxLength: 300 }),
      );
    const mailbox = await connectAgent(agent);
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(frames(agentFrameSchema), async (frame) => {
        sent++;
        mailbox.send(typeof frame === "string" ? frame : JSON.stringify(frame));
        // A ping after each frame: its pong proves the mailbox is alive and read past the fuzzed frame.
        mailbox.send({ op: "ping" });
        await mailbox.next((f) => f.op === "pong");
        return mailbox.closed === null;
      }),
      { numRuns: 150, seed: 20261125 },
    );
    expect(sent).toBe(150);
    expect(mailbox.closed).toBeNull();
    mailbox.close();

    const feed = await openSocket(`/ws/messages?token=${t.adminToken}`);
    await feed.next((f) => f.event === "subscribed");
    await fc.assert(
      fc.asyncProperty(frames(feedClientFrameSchema), async (frame) => {
        feed.send(typeof frame === "string" ? frame : JSON.stringify(frame));
        feed.send({ op: "ping" });
        await feed.next((f) => f.event === "pong");
        return feed.closed === null;
      }),
      { numRuns: 100, seed: 20261125 },
    );
    feed.close();
  }, 120_000);
});

describe("fuzzing every query string", () => {
  it("no route answers 5xx to generated or arbitrary query parameters", async () => {
    const doc = (await (await call("GET", "/api/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<string, { parameters?: Array<{ in: string; name: string; schema?: Schema }> }>
      >;
      components?: { schemas?: Record<string, Schema> };
    };
    components = doc.components?.schemas ?? {};
    const targets = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => {
        const query = (op.parameters ?? []).filter((p) => p.in === "query");
        return query.length && !SKIP.has(`${method.toUpperCase()} ${path}`)
          ? [{ method: method.toUpperCase(), path, query }]
          : [];
      }),
    );
    expect(targets.length).toBeGreaterThan(8);
    const failures: string[] = [];
    let calls = 0;
    for (const target of targets) {
      const concrete = target.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
        name === "agentId" ? agent.id : `x_${name}`,
      );
      const token = concrete.startsWith("/api/admin")
        ? op
        : concrete.startsWith("/v1/")
          ? agent.token
          : t.adminToken;
      const value = (s: Schema | undefined) =>
        fc.oneof(
          arbitraryOf(s).map((v) => (typeof v === "string" ? v : JSON.stringify(v))),
          fc.string({ maxLength: 50 }),
          fc.constantFrom(
            "",
            "-1",
            "0",
            "99999999999999999999",
            "%00",
            "2026-13-45",
            "../x",
            "a".repeat(3000),
          ),
        );
      const params = fc.record(Object.fromEntries(target.query.map((q) => [q.name, value(q.schema)])), {
        requiredKeys: [],
      });
      await fc
        .assert(
          fc.asyncProperty(params, async (p) => {
            calls++;
            const qs = new URLSearchParams(p as Record<string, string>).toString();
            const res = await call(target.method, `${concrete}?${qs}`, { token });
            await res.arrayBuffer();
            if (res.status >= 500) {
              failures.push(`${target.method} ${target.path}?${qs.slice(0, 200)}: ${res.status}`);
              return false;
            }
            return true;
          }),
          { numRuns: 15, seed: 20261125 },
        )
        .catch(() => {});
    }
    expect(failures).toEqual([]);
    expect(calls).toBe(targets.length * 15);
  }, 120_000);
});
