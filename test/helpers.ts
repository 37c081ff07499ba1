import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { desc, eq } from "drizzle-orm";
import { createDb } from "../worker/db/client";
import { auditEvents, provisioningJobs } from "../worker/db/schema";
import { provisionMessage } from "../worker/features/tenants/provisioning";
import worker from "../worker/index";

export const ORIGIN = "http://aegis.test";
export const OPERATOR = { email: "admin@aegis.test", password: "operator-password-123" };

export const db = () => createDb(env.DB);

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One HTTP request through the Worker's real fetch handler. */
export async function call(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers = new Headers(opts.headers);
  if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body }));
}

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON bodies loosely and assert on them
export type Json = any;

export async function callJson(
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<{ status: number; body: Json; res: Response }> {
  const res = await call(method, path, opts);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, res };
}

export async function login(
  email: string,
  password: string,
): Promise<{ accessToken: string; refreshToken: string; user: Json }> {
  const { status, body } = await callJson("POST", "/api/auth/login", { body: { email, password } });
  if (status !== 200) throw new Error(`login ${email} failed: ${status} ${JSON.stringify(body)}`);
  return body;
}

export async function operatorToken(): Promise<string> {
  return (await login(OPERATOR.email, OPERATOR.password)).accessToken;
}

/** Delivers the tenant's pending provisioning job to the real queue consumer and waits for it. */
export async function runProvisioning(tenantId: string, times = 1): Promise<void> {
  const job = await db()
    .select()
    .from(provisioningJobs)
    .where(eq(provisioningJobs.tenantId, tenantId))
    .orderBy(desc(provisioningJobs.createdAt))
    .get();
  if (!job) throw new Error(`no provisioning job for ${tenantId}`);
  const body = provisionMessage(job);
  for (let i = 0; i < times; i++) {
    const batch = createMessageBatch("aegis-provisioning", [
      { id: `m-${i}-${body.id}`, timestamp: new Date(), attempts: 1, body },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    await getQueueResult(batch, ctx);
  }
}

export interface TenantFixture {
  tenantId: string;
  slug: string;
  adminEmail: string;
  adminPassword: string;
  adminToken: string;
}

let counter = 0;

/** Provisions a tenant through the operator API and the queue consumer, then logs its admin in. */
export async function provisionTenant(
  opToken: string,
  opts: { planTier?: "starter" | "growth" | "enterprise"; slug?: string } = {},
): Promise<TenantFixture> {
  counter += 1;
  const slug = opts.slug ?? `t${counter}-${crypto.randomUUID().slice(0, 8)}`;
  const adminEmail = `admin@${slug}.test`;
  const created = await callJson("POST", "/api/admin/tenants", {
    token: opToken,
    body: {
      name: `Tenant ${slug}`,
      slug,
      planTier: opts.planTier ?? "growth",
      adminEmail,
      adminName: "Tenant Admin",
    },
  });
  if (created.status !== 202)
    throw new Error(`create tenant: ${created.status} ${JSON.stringify(created.body)}`);
  const tenantId: string = created.body.tenant.id;
  await runProvisioning(tenantId);
  const adminPassword: string = created.body.admin.oneTimePassword;
  const { accessToken } = await login(adminEmail, adminPassword);
  return { tenantId, slug, adminEmail, adminPassword, adminToken: accessToken };
}

/** Waits until the audit consumer has written an event matching the predicate. */
export async function auditRows(tenantId: string | null) {
  const rows = await db().select().from(auditEvents).all();
  return rows.filter((r) => tenantId === null || r.tenantId === tenantId);
}

export { env };

/**
 * Delivers audit events to the real queue consumer as one batch (as the AUDIT queue would) and
 * returns the result; used to replay a batch, or to feed events no route emits yet.
 */
export async function deliverAudit(events: Array<Record<string, unknown>>, attempts = 1) {
  const batch = createMessageBatch(
    "aegis-audit",
    events.map((event, i) => ({
      id: `audit-${i}-${String(event.id)}`,
      timestamp: new Date(),
      attempts,
      body: { kind: "audit", event },
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}
