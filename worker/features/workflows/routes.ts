import { createRoute, z } from "@hono/zod-openapi";
import { MESSAGE_TYPES } from "../../../durable-objects/protocol";
import { TEMPLATES, WORKFLOW_TEMPLATES } from "../../../durable-objects/workflows";
import { notFound } from "../../lib/errors";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../../lib/http";
import { hubStub } from "../../lib/objects";
import { audit } from "../audit/record";
import { actorOf } from "../auth/principal";
import { triggerWorkflow } from "./service";

const Template = z
  .object({
    id: z.enum(WORKFLOW_TEMPLATES),
    name: z.string(),
    description: z.string(),
    defaultSchedule: z.string(),
    steps: z.array(
      z.object({
        name: z.string(),
        type: z.enum(MESSAGE_TYPES),
        from: z.literal("lead"),
        to: z.literal("participants"),
        awaits: z.enum(MESSAGE_TYPES).optional(),
        timeoutSeconds: z.number(),
      }),
    ),
  })
  .openapi("WorkflowTemplate");

const Run = z
  .object({
    id: z.string(),
    template: z.enum(WORKFLOW_TEMPLATES),
    status: z.enum(["running", "completed", "failed"]),
    leadAgentId: z.string(),
    participantIds: z.array(z.string()),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    error: z.string().nullable(),
    trigger: z.string(),
    steps: z.array(
      z.object({
        name: z.string(),
        templateStep: z.number().int(),
        status: z.enum(["pending", "running", "completed", "failed"]),
        agentId: z.string().nullable(),
        messageId: z.string().nullable(),
        error: z.string().nullable(),
        startedAt: z.string().nullable(),
        finishedAt: z.string().nullable(),
      }),
    ),
  })
  .openapi("WorkflowRun");

export const workflowRoutes = createRouter();

workflowRoutes.openapi(
  createRoute({
    method: "get",
    path: "/templates",
    tags: ["workflows"],
    summary: "The coordination workflow templates",
    responses: { 200: jsonResponse(z.object({ data: z.array(Template) }), "Templates"), ...errorResponses },
  }),
  (c) =>
    c.json(
      {
        data: WORKFLOW_TEMPLATES.map((id) => {
          const t = TEMPLATES[id];
          return {
            id,
            name: t.name,
            description: t.description,
            defaultSchedule: t.defaultSchedule,
            steps: t.steps.map(({ payload: _payload, ...s }) => s),
          };
        }),
      },
      200,
    ),
);

workflowRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{template}/trigger",
    tags: ["workflows"],
    summary: "Start a run now",
    request: {
      params: z.object({ template: z.enum(WORKFLOW_TEMPLATES) }),
      body: jsonBody(
        z.object({
          leadAgentId: z.string().min(1).max(64),
          participantIds: z.array(z.string().min(1).max(64)).min(1).max(50),
          timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
        }),
      ),
    },
    responses: { 202: jsonResponse(z.object({ run: Run }), "Started"), ...errorResponses },
  }),
  async (c) => {
    const { template } = c.req.valid("param");
    const body = c.req.valid("json");
    const { run } = await triggerWorkflow(c.get("db"), c.env, c.get("tenantId"), {
      template,
      ...body,
      trigger: `manual:${actorOf(c.get("principal")).name}`,
    });
    audit(c, {
      action: "workflow.triggered",
      target: { type: "workflow_run", id: run.id },
      details: { template, ...body },
    });
    return c.json({ run }, 202);
  },
);

workflowRoutes.openapi(
  createRoute({
    method: "get",
    path: "/runs",
    tags: ["workflows"],
    summary: "Recent runs, newest first",
    responses: { 200: jsonResponse(z.object({ data: z.array(Run) }), "Runs"), ...errorResponses },
  }),
  async (c) => c.json({ data: await hubStub(c.env, c.get("tenantId")).listRuns(50) }, 200),
);

workflowRoutes.openapi(
  createRoute({
    method: "get",
    path: "/runs/{id}",
    tags: ["workflows"],
    summary: "One run with its steps",
    request: { params: z.object({ id: z.string().min(1).max(80) }) },
    responses: { 200: jsonResponse(z.object({ run: Run }), "The run"), ...errorResponses },
  }),
  async (c) => {
    const run = await hubStub(c.env, c.get("tenantId")).getRun(c.req.valid("param").id);
    if (!run) throw notFound("Workflow run");
    return c.json({ run }, 200);
  },
);
