import { createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../../env";
import { AppError, unauthenticated } from "../../lib/errors";
import { createRouter, errorResponses, jsonBody } from "../../lib/http";
import { newId } from "../../lib/ids";
import { mailboxStub } from "../../lib/objects";
import { verifyAgentToken } from "../auth/tokens";
import { loadBillingProfile, thinkingModeOf, tierOfModel } from "../billing/profile";
import { StreamUsage, type Tokens, tokensFromUsage, type UsageEvent } from "./usage";

const DEFAULT_TIMEOUT_MS = 120_000;

/** The part of a Messages API request the gateway reads; everything else passes through untouched. */
const MessagesRequest = z.looseObject({
  model: z.string().min(1).max(200),
  max_tokens: z.number().int().min(1).max(200_000),
  messages: z.array(z.unknown()).min(1),
  stream: z.boolean().optional(),
  thinking: z.unknown().optional(),
});

const MessagesResponse = z.looseObject({
  id: z.string(),
  type: z.string(),
  content: z.array(z.unknown()),
  usage: z.unknown().optional(),
});

/**
 * `POST /v1/models/messages`: the model gateway. Agents call models only here, with their agent
 * token. Before anything leaves the platform the agent's mailbox admits the call from the billing
 * profile it holds (plan tiers, thinking modes, quota state) — no D1 read on this path. The usage
 * the upstream reports (streamed or not) goes to the USAGE queue as one event per call.
 */
/** Verifies the agent token from its signature alone (no D1 read) and sets the principal. */
const gatewayAgent: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  const token = header?.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : undefined;
  if (!token) throw unauthenticated("Agent token required");
  const claims = await verifyAgentToken(c.env.AUTH_SECRET, token);
  if (!claims) throw new AppError(401, "invalid_token", "Agent token is invalid or expired");
  // Usage rows and quota states are the record of model calls; an audit row per call would double
  // the writes (status changes and refusals are audited where they happen). Refused tokens above are
  // audited by the catch-all like any other failed request.
  c.set("audited", true);
  c.set("principal", { kind: "agent", agentId: claims.sub, tenantId: claims.tid });
  c.set("tenantId", claims.tid);
  await next();
};

export const gatewayRoutes = createRouter();

gatewayRoutes.openapi(
  createRoute({
    method: "post",
    path: "/models/messages",
    tags: ["agent"],
    summary: "Call a model (Anthropic Messages API shape; `stream: true` answers with server-sent events)",
    // The agent token is checked before the body: a stranger learns nothing from validation errors.
    middleware: [gatewayAgent] as const,
    request: { body: jsonBody(MessagesRequest) },
    responses: {
      200: {
        content: {
          "application/json": { schema: MessagesResponse },
          "text/event-stream": { schema: z.string() },
        },
        description: "The upstream's answer, passed through",
      },
      ...errorResponses,
      502: { description: "The upstream failed or is unreachable" },
      504: { description: "The upstream did not answer in time" },
    },
  }),
  async (c) => {
    const principal = c.get("principal");
    if (principal.kind !== "agent") throw unauthenticated("Agent token required");
    const who = { agentId: principal.agentId, tenantId: principal.tenantId };
    const body = c.req.valid("json");
    const tier = tierOfModel(body.model);
    if (!tier) {
      throw new AppError(400, "unknown_model", "The model is not a haiku, sonnet or opus model", {
        model: ["Unknown model"],
      });
    }
    const thinking = thinkingModeOf(body.thinking);

    const mailbox = mailboxStub(c.env, who.tenantId, who.agentId);
    let decision = await mailbox.admitModelCall(who, { tier, thinking });
    if (!decision.ok && decision.code === "profile_missing") {
      // Cold path: the first call after the mailbox lost or never had its profile.
      const profile = await loadBillingProfile(c.get("db"), who.tenantId, who.agentId);
      if (!profile) throw new AppError(401, "invalid_token", "Agent token is invalid or expired");
      await mailbox.setBillingProfile(who, profile);
      decision = await mailbox.admitModelCall(who, { tier, thinking });
    }
    if (!decision.ok) {
      if (decision.code === "profile_missing" || decision.code === "agent_unavailable") {
        throw new AppError(403, "agent_paused", "This agent is paused");
      }
      throw new AppError(
        decision.status,
        decision.code,
        decision.message,
        undefined,
        decision.retryAfterSeconds ? { "retry-after": String(decision.retryAfterSeconds) } : undefined,
      );
    }

    const upstream = await callUpstream(c, JSON.stringify(body));
    const base = {
      id: newId("use"),
      tenantId: who.tenantId,
      agentId: who.agentId,
      model: body.model,
      modelTier: tier,
      at: new Date().toISOString(),
    };
    const record = (tokens: Tokens | null, stream: boolean) =>
      emitUsage(c.env, {
        ...base,
        ...(tokens ?? {
          inputTokens: 0,
          outputTokens: 0,
          thinkingTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        }),
        usageMissing: tokens === null,
        stream,
      });

    const contentType = upstream.headers.get("content-type") ?? "";
    if (body.stream && contentType.includes("text/event-stream") && upstream.body) {
      const usage = new StreamUsage();
      const decoder = new TextDecoder();
      const tap = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          usage.push(decoder.decode(chunk, { stream: true }));
          controller.enqueue(chunk);
        },
        flush() {
          c.executionCtx.waitUntil(record(usage.tokens(), true));
        },
      });
      return new Response(upstream.body.pipeThrough(tap), {
        status: 200,
        headers: {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          "x-aegis-usage-id": base.id,
        },
      }) as never;
    }

    const text = await upstream.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError(
        502,
        "upstream_error",
        "The model upstream answered with something that is not JSON",
      );
    }
    c.executionCtx.waitUntil(record(tokensFromUsage((json as { usage?: unknown }).usage), false));
    return new Response(text, {
      status: 200,
      headers: { "content-type": "application/json", "x-aegis-usage-id": base.id },
    }) as never;
  },
);

/** Forwards the request body; maps every failure to a 502/504 the agent can act on (no usage). */
async function callUpstream(c: Context<AppEnv>, body: string): Promise<Response> {
  const env = c.env;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-api-key": env.MODEL_UPSTREAM_KEY,
    "anthropic-version": c.req.header("anthropic-version") ?? "2023-06-01",
  };
  const beta = c.req.header("anthropic-beta");
  if (beta) headers["anthropic-beta"] = beta;
  // The stand-in's fault knobs, for tests and dev only.
  const behavior = c.req.header("x-standin-behavior");
  if (behavior && env.AEGIS_ENV === "development") headers["x-standin-behavior"] = behavior;
  const timeoutMs = Number(env.MODEL_UPSTREAM_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;
  let res: Response;
  try {
    res = await fetch(`${env.MODEL_UPSTREAM_URL.replace(/\/$/, "")}/v1/messages`, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
      throw new AppError(504, "upstream_timeout", `The model upstream did not answer within ${timeoutMs} ms`);
    }
    throw new AppError(502, "upstream_unavailable", "The model upstream could not be reached");
  }
  if (res.ok) return res;
  const detail = await res.text().catch(() => "");
  let upstreamMessage = "";
  try {
    upstreamMessage = String((JSON.parse(detail) as { error?: { message?: unknown } }).error?.message ?? "");
  } catch {
    // not JSON: say only the status
  }
  // The agent's own mistakes (a bad request) come back as they are; the platform's or the
  // upstream's (auth, overload, outage) are a 502.
  if (res.status === 400 || res.status === 413 || res.status === 422) {
    throw new AppError(
      400,
      "upstream_rejected",
      upstreamMessage.slice(0, 500) || "The model upstream refused the request",
    );
  }
  throw new AppError(
    502,
    "upstream_error",
    `The model upstream failed with status ${res.status}${upstreamMessage ? `: ${upstreamMessage.slice(0, 300)}` : ""}`,
  );
}

async function emitUsage(env: Env, event: UsageEvent): Promise<void> {
  try {
    await env.USAGE.send({ kind: "usage", event });
  } catch (err) {
    console.error("usage enqueue failed", { id: event.id, agentId: event.agentId, error: String(err) });
  }
}
