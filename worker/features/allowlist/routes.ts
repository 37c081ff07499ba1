import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { allowlistEdgeSchema } from "../../../durable-objects/protocol";
import { agents } from "../../db/schema";
import { AppError, validationFailed } from "../../lib/errors";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../../lib/http";
import { hubStub } from "../../lib/objects";
import { audit } from "../audit/record";
import { actorOf } from "../auth/principal";

const Edge = allowlistEdgeSchema.openapi("AllowlistEdge");
const Allowlist = z
  .object({
    version: z.number().int(),
    edges: z.array(Edge),
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable(),
  })
  .openapi("Allowlist");

export const allowlistRoutes = createRouter();

allowlistRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["allowlist"],
    summary: "The communication allowlist graph, with the traffic of the last 24 hours per directed pair",
    responses: {
      200: jsonResponse(
        Allowlist.extend({
          traffic: z.array(
            z.object({ from: z.string(), to: z.string(), count: z.number(), lastAt: z.string() }),
          ),
        }),
        "The graph",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const hub = hubStub(c.env, c.get("tenantId"));
    const now = new Date();
    const [state, flow] = await Promise.all([
      hub.getAllowlist(),
      hub.flow(new Date(now.getTime() - 86_400_000).toISOString(), now.toISOString()),
    ]);
    return c.json(
      { ...state, traffic: flow.map(({ from, to, count, lastAt }) => ({ from, to, count, lastAt })) },
      200,
    );
  },
);

allowlistRoutes.openapi(
  createRoute({
    method: "put",
    path: "/",
    tags: ["allowlist"],
    summary: "Replace the graph; returns once every affected mailbox holds the new version",
    request: {
      body: jsonBody(
        z.object({ expectedVersion: z.number().int().min(0), edges: z.array(allowlistEdgeSchema).max(5000) }),
      ),
    },
    responses: {
      200: jsonResponse(Allowlist.extend({ appliedTo: z.number().int() }), "Saved and applied"),
      409: jsonResponse(
        z.object({ code: z.literal("version_conflict") }),
        "Someone saved first; details.current says who",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { expectedVersion, edges } = c.req.valid("json");
    const tenantId = c.get("tenantId");
    const known = new Set(
      (
        await c.get("db").select({ id: agents.id }).from(agents).where(eq(agents.tenantId, tenantId)).all()
      ).map((a) => a.id),
    );
    const details: Record<string, string[]> = {};
    const seen = new Set<string>();
    edges.forEach((e, i) => {
      if (!known.has(e.from)) details[`edges.${i}.from`] = ["Unknown agent"];
      if (!known.has(e.to)) details[`edges.${i}.to`] = ["Unknown agent"];
      if (e.from === e.to) details[`edges.${i}.to`] = ["An agent cannot link to itself"];
      const key = [e.from, e.to].sort().join("|");
      if (seen.has(key))
        details[`edges.${i}`] = ["Duplicate link between these agents; use direction 'both'"];
      seen.add(key);
    });
    if (Object.keys(details).length) throw validationFailed(details);

    const hub = hubStub(c.env, tenantId);
    const before = await hub.getAllowlist();
    const result = await hub.setAllowlist({
      tenantId,
      expectedVersion,
      edges,
      updatedBy: actorOf(c.get("principal")).name,
    });
    if (!result.ok) {
      if (result.code === "version_conflict") {
        throw new AppError(
          409,
          "version_conflict",
          `The allowlist changed since version ${expectedVersion}`,
          {
            current: result.current,
          },
        );
      }
      throw new AppError(
        503,
        "push_incomplete",
        "The new version is saved but some mailboxes did not confirm it; retry",
        {
          agents: result.failed,
        },
      );
    }
    audit(c, {
      action: "allowlist.updated",
      target: { type: "allowlist", id: String(result.state.version) },
      details: {
        before: { version: before.version, edges: before.edges },
        after: { version: result.state.version, edges },
      },
    });
    return c.json({ ...result.state, appliedTo: result.appliedTo }, 200);
  },
);
