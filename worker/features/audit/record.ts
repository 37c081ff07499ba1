import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { z } from "zod";
import type { AppEnv } from "../../env";
import { clientIp, isMutation } from "../../lib/http";
import { newId } from "../../lib/ids";
import { redact } from "../../lib/redact";
import { actorOf } from "../auth/principal";

export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;

export const auditEventSchema = z.object({
  id: z.string(),
  tenantId: z.string().nullable(),
  actorType: z.enum(["user", "agent", "system"]),
  actorId: z.string().nullable(),
  actorName: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  severity: z.enum(SEVERITIES),
  details: z.unknown(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  at: z.string(),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;

export interface AuditInput {
  action: string;
  tenantId?: string | null;
  target?: { type: string; id: string | null };
  severity?: AuditEvent["severity"];
  details?: unknown;
  actor?: { type: AuditEvent["actorType"]; id: string | null; name: string | null };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === "object" && !Array.isArray(v);

/**
 * For updates, keep only what changed: `{ before, after }` become the changed fields on each side
 * (nested objects compared as a whole, recursively). Other details pass through unchanged.
 */
export function diffDetails(details: unknown): unknown {
  if (!isPlainObject(details) || !isPlainObject(details.before) || !isPlainObject(details.after))
    return details;
  const diff = (
    a: Record<string, unknown>,
    b: Record<string, unknown>,
  ): [Record<string, unknown>, Record<string, unknown>] => {
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const x = a[key];
      const y = b[key];
      if (JSON.stringify(x) === JSON.stringify(y)) continue;
      if (isPlainObject(x) && isPlainObject(y)) {
        const [bx, ay] = diff(x, y);
        before[key] = bx;
        after[key] = ay;
      } else {
        before[key] = x ?? null;
        after[key] = y ?? null;
      }
    }
    return [before, after];
  };
  const [before, after] = diff(details.before, details.after);
  return { ...details, before, after };
}

export function buildAuditEvent(input: AuditInput, ctx: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: newId("aud"),
    tenantId: input.tenantId ?? ctx.tenantId ?? null,
    actorType: input.actor?.type ?? ctx.actorType ?? "system",
    actorId: input.actor?.id ?? ctx.actorId ?? null,
    actorName: input.actor?.name ?? ctx.actorName ?? null,
    action: input.action,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    severity: input.severity ?? "info",
    details: input.details === undefined ? null : redact(diffDetails(input.details)),
    ip: ctx.ip ?? null,
    userAgent: ctx.userAgent ?? null,
    requestId: ctx.requestId ?? null,
    at: new Date().toISOString(),
  };
}

/**
 * Records an audit event without slowing the request: it is enqueued to the AUDIT queue and
 * written in batches by the consumer (worker/jobs/audit-writer.ts).
 */
export function audit(c: Context<AppEnv>, input: AuditInput): void {
  c.set("audited", true);
  if (c.env.AEGIS_AUDIT_DISABLED === "1" && c.env.AEGIS_ENV === "development") return;
  const principal = c.get("principal") as AppEnv["Variables"]["principal"] | undefined;
  const actor = principal ? actorOf(principal) : undefined;
  const event = buildAuditEvent(input, {
    tenantId: (c.get("tenantId") as string | undefined) ?? principal?.tenantId ?? null,
    actorType: actor?.type,
    actorId: actor?.id,
    actorName: actor?.name,
    ip: clientIp(c),
    userAgent: c.req.header("user-agent")?.slice(0, 256) ?? null,
    requestId: c.get("requestId"),
  });
  c.executionCtx.waitUntil(enqueueAudit(c.env, [event]));
}

export async function enqueueAudit(env: Env, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await env.AUDIT.sendBatch(events.map((body) => ({ body: { kind: "audit", event: body } })));
  } catch (err) {
    console.error("audit enqueue failed", { error: String(err), actions: events.map((e) => e.action) });
  }
}

/**
 * Every mutating request under /api and /v1 leaves an audit event, by construction: a route that
 * recorded a specific event (with its diff) sets `audited`; for any other, success or failure, this
 * middleware records the route, the method and the status.
 */
export const auditMutations: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (!isMutation(c.req.method) || c.get("audited")) return;
  const status = c.res.status;
  const route = routePath(c, -1);
  audit(c, {
    action: status < 400 ? "api.mutation" : "api.mutation_failed",
    severity: status >= 500 ? "high" : status >= 400 ? "low" : "info",
    target: { type: "route", id: `${c.req.method} ${route}` },
    details: { method: c.req.method, path: c.req.path, status },
  });
};
