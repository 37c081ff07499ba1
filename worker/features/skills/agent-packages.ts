// `GET /v1/skills/packages/:sha256`: an agent's runtime downloads the package of a private skill version
// installed on that agent (content-addressed in R2). Anything else — another agent's, another tenant's,
// a version not installed — is the same 404.
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { agentSkills, skills, skillVersions } from "../../db/schema";
import { AppError } from "../../lib/errors";
import { createRouter, errorResponses } from "../../lib/http";
import { authenticateAgent } from "../agent-auth/middleware";

export const agentPackageRoutes = createRouter();

agentPackageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/skills/packages/{sha256}",
    tags: ["agents"],
    summary: "Download the package of a private skill version installed on the calling agent",
    middleware: [authenticateAgent] as const,
    request: { params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, "a sha256 in hex") }) },
    responses: {
      200: { description: "The package (.tgz)", content: { "application/gzip": { schema: z.string() } } },
      400: errorResponses[400],
      401: errorResponses[401],
      404: errorResponses[404],
    },
  }),
  async (c) => {
    const { sha256 } = c.req.valid("param");
    const p = c.get("principal");
    if (p.kind !== "agent") throw new AppError(401, "unauthenticated", "Agent token required");
    const row = await c
      .get("db")
      .select({ objectKey: skillVersions.objectKey })
      .from(agentSkills)
      .innerJoin(skills, eq(skills.id, agentSkills.skillId))
      .innerJoin(
        skillVersions,
        and(eq(skillVersions.skillId, agentSkills.skillId), eq(skillVersions.version, agentSkills.version)),
      )
      .where(
        and(
          eq(agentSkills.agentId, p.agentId),
          eq(agentSkills.tenantId, p.tenantId),
          eq(skillVersions.sha256, sha256),
        ),
      )
      .get();
    const object = row?.objectKey ? await c.env.ARCHIVE.get(row.objectKey) : null;
    if (!object) throw new AppError(404, "not_found", "Package not found");
    return new Response(object.body, {
      status: 200,
      headers: {
        "content-type": "application/gzip",
        "x-aegis-sha256": sha256,
        "cache-control": "private, max-age=31536000, immutable",
      },
    }) as never;
  },
);
