import { createRoute, z } from "@hono/zod-openapi";
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
  PageQuery,
  pageMeta,
  pageSchema,
} from "../../lib/http";
import { mailboxStub } from "../../lib/objects";
import { MODEL_TIERS, PLAN_TIERS, THINKING_MODES } from "../../lib/pricing";
import { audit } from "../audit/record";
import { actorOf } from "../auth/principal";
import { recomputeQuotaStates, refreshBillingProfiles } from "../billing/profile";
import { enqueueBillingSync } from "../billing/stripe";
import { AgentSchema, CreateAgentBody, PricingPreviewQuery, UpdateAgentBody } from "./schemas";
import {
  AGENT_ACTIONS,
  agentAction,
  agentOptions,
  createAgent,
  deleteAgent,
  getAgent,
  listAgents,
  pricingPreview,
  removeFromAllowlist,
  syncMailboxStatus,
  updateAgent,
  withRuntime,
} from "./service";

const planErrors = {
  403: jsonResponse(
    z.object({ code: z.string() }),
    "model_not_allowed, thinking_mode_not_allowed or agent_limit_reached",
  ),
};

export const agentRoutes = createRouter();

agentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["agents"],
    summary: "The tenant's agents, in creation order",
    request: { query: PageQuery },
    responses: { 200: jsonResponse(pageSchema(AgentSchema), "A page of agents"), ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows, total } = await listAgents(c.get("db"), c.get("tenantId"), q);
    const data = await withRuntime(c.env, c.get("tenantId"), rows);
    return c.json({ data, meta: pageMeta(q.page, q.limit, total) }, 200);
  },
);

agentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/pricing-preview",
    tags: ["agents"],
    summary: "What one more agent of this model and thinking mode costs (E12-05)",
    request: { query: PricingPreviewQuery },
    responses: {
      200: jsonResponse(
        z.object({
          included: z.boolean(),
          monthlyFeeUsd: z.number(),
          label: z.string().openapi({ example: "+$49/mo" }),
          currentMonthlyTotalUsd: z.number(),
          newMonthlyTotalUsd: z.number(),
          modelAllowed: z.boolean(),
          thinkingModeAllowed: z.boolean(),
        }),
        "The preview",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json(await pricingPreview(c.get("db"), c.get("tenantId"), q.modelTier, q.thinkingMode), 200);
  },
);

agentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/options",
    tags: ["agents"],
    summary: "Which models and thinking modes the plan allows, and whether another agent fits",
    responses: {
      200: jsonResponse(
        z.object({
          planTier: z.enum(PLAN_TIERS),
          models: z.array(
            z.object({
              tier: z.enum(MODEL_TIERS),
              allowed: z.boolean(),
              reason: z.string().optional(),
              feeUsd: z.number(),
            }),
          ),
          thinkingModes: z.array(
            z.object({
              mode: z.enum(THINKING_MODES),
              allowed: z.boolean(),
              reason: z.string().optional(),
              surchargeUsd: z.number(),
            }),
          ),
          agentCount: z.number(),
          maxAgents: z.number().nullable(),
          includedAgents: z.number(),
          canCreate: z.boolean(),
          limitReason: z.string().optional(),
        }),
        "Options",
      ),
      ...errorResponses,
    },
  }),
  async (c) => c.json(await agentOptions(c.get("db"), c.get("tenantId")), 200),
);

agentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["agents"],
    summary: "Create an agent; the 10 core skills are installed with it; the credential is shown once",
    request: { body: jsonBody(CreateAgentBody) },
    responses: {
      201: jsonResponse(z.object({ agent: AgentSchema, credential: z.string() }), "Created"),
      409: jsonResponse(z.object({ code: z.string() }), "name_taken"),
      ...errorResponses,
      ...planErrors,
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { agent, credential, skillIds } = await createAgent(
      c.get("db"),
      c.get("tenantId"),
      input,
      actorOf(c.get("principal")).id,
    );
    c.executionCtx.waitUntil(refreshBillingProfiles(c.get("db"), c.env, c.get("tenantId"), [agent.id]));
    // The Stripe subscription's per-agent items follow the agents.
    c.executionCtx.waitUntil(enqueueBillingSync(c.env, c.get("tenantId")));
    audit(c, {
      action: "agent.created",
      target: { type: "agent", id: agent.id },
      details: {
        after: {
          name: agent.name,
          role: agent.role,
          modelTier: agent.modelTier,
          thinkingMode: agent.thinkingMode,
        },
        skills: skillIds,
      },
    });
    return c.json({ agent, credential }, 201);
  },
);

agentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["agents"],
    summary: "One agent",
    request: { params: IdParam },
    responses: { 200: jsonResponse(z.object({ agent: AgentSchema }), "The agent"), ...errorResponses },
  }),
  async (c) => {
    const agent = await getAgent(c.get("db"), c.get("tenantId"), c.req.valid("param").id);
    const [withPresence] = await withRuntime(c.env, c.get("tenantId"), [agent]);
    return c.json({ agent: withPresence ?? agent }, 200);
  },
);

agentRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    tags: ["agents"],
    summary: "Rename, change model, thinking mode or quota override",
    request: { params: IdParam, body: jsonBody(UpdateAgentBody) },
    responses: {
      200: jsonResponse(z.object({ agent: AgentSchema }), "Updated"),
      ...errorResponses,
      ...planErrors,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { before, after } = await updateAgent(c.get("db"), c.get("tenantId"), id, c.req.valid("json"));
    audit(c, { action: "agent.updated", target: { type: "agent", id }, details: { before, after } });
    // Model, thinking mode or quota may have changed: the gateway's copy follows.
    await recomputeQuotaStates(c.get("db"), c.env, c.get("tenantId"), [id]);
    c.executionCtx.waitUntil(enqueueBillingSync(c.env, c.get("tenantId")));
    return c.json({ agent: after }, 200);
  },
);

agentRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["agents"],
    summary: "Delete an agent and its skill installs",
    request: { params: IdParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = c.get("tenantId");
    const before = await deleteAgent(c.get("db"), tenantId, id);
    c.executionCtx.waitUntil(enqueueBillingSync(c.env, tenantId));
    await syncMailboxStatus(c.env, tenantId, id, "deleted");
    await removeFromAllowlist(c.env, tenantId, id, actorOf(c.get("principal")).name);
    audit(c, {
      action: "agent.deleted",
      severity: "medium",
      target: { type: "agent", id },
      details: { before: { name: before.name } },
    });
    return c.body(null, 204);
  },
);

agentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/actions/{action}",
    tags: ["agents"],
    summary: "Pause, resume or restart an agent",
    request: { params: IdParam.extend({ action: z.enum(AGENT_ACTIONS) }) },
    responses: {
      200: jsonResponse(z.object({ agent: AgentSchema }), "The agent after the action"),
      409: jsonResponse(z.object({ code: z.string() }), "Not possible in the agent's state"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, action } = c.req.valid("param");
    const { before, after } = await agentAction(c.get("db"), c.get("tenantId"), id, action);
    if (action === "restart")
      await mailboxStub(c.env, c.get("tenantId"), id).restart({ agentId: id, tenantId: c.get("tenantId") });
    else
      await syncMailboxStatus(c.env, c.get("tenantId"), id, after.status === "paused" ? "paused" : "active");
    const verb = { pause: "paused", resume: "resumed", restart: "restarted" } as const;
    audit(c, {
      action: `agent.${verb[action]}`,
      target: { type: "agent", id },
      details: { before: { status: before.status }, after: { status: after.status } },
    });
    return c.json({ agent: after }, 200);
  },
);
