// The isolation matrix, generated from the route table (not a hand list): every route under /api, /v1,
// /ws and /controller is called as nobody, with an expired token, as a tenant_member of tenant A, as
// tenant B's admin, and with an agent token of tenant B — against tenant A's real resource ids. Each
// answer must be what api-contract.md says (401 / 403 / 404), and no answer to anyone outside tenant A
// may contain anything of tenant A.
import { env } from "cloudflare:test";
import { sign } from "hono/jwt";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../worker/app";
import { call, callJson, operatorToken, provisionTenant, type TenantFixture } from "./helpers";
import { type AgentFixture, createAgent, upgrade } from "./sockets";

/** Routes anyone may call: what each one answers to strangers is checked for leaks only. */
const PUBLIC = new Set([
  "GET /api/health",
  "GET /api/openapi.json",
  "POST /api/auth/login",
  "POST /api/auth/refresh",
  "POST /api/auth/logout",
  "POST /api/auth/invites/accept",
  "GET /api/auth/invites/:token",
  "POST /api/stripe/webhook",
  "POST /v1/auth/token",
  "POST /controller/v1/register",
]);

/** Routes that end the caller's own session: walked, they would log the matrix's principals out. */
const SESSION_ENDING = new Set(["POST /api/auth/logout", "POST /api/auth/password"]);

let a: TenantFixture;
let b: TenantFixture;
let memberA = "";
let agentA: AgentFixture;
let agentB: AgentFixture;
let expired = "";
const secretsOfA: string[] = [];
const idsOfA: Record<string, string> = {};

beforeAll(async () => {
  const op = await operatorToken();
  a = await provisionTenant(op, { planTier: "growth" });
  b = await provisionTenant(op, { planTier: "growth" });
  const tag = crypto.randomUUID().slice(0, 8);
  agentA = await createAgent(a, `IsoAgentA-${tag}`);
  agentB = await createAgent(b, `IsoAgentB-${tag}`);
  memberA = (
    await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: a.adminToken,
      body: { name: `iso-member-${tag}`, role: "tenant_member" },
    })
  ).body.key;
  const webhook = await callJson("POST", "/api/dashboard/webhooks", {
    token: a.adminToken,
    body: { url: `http://127.0.0.1:9/iso-hook-${tag}`, events: ["alert.created"] },
  });
  const cluster = await callJson("POST", "/api/dashboard/clusters", {
    token: a.adminToken,
    body: { name: `iso-cluster-${tag}` },
  });
  const keys = await callJson("GET", "/api/dashboard/settings/api-keys", { token: a.adminToken });
  idsOfA.agent = agentA.id;
  idsOfA.webhook = webhook.body.webhook?.id ?? webhook.body.id ?? "";
  idsOfA.cluster = cluster.body.cluster.id;
  idsOfA.apiKey = keys.body.data[0]?.id ?? "";
  secretsOfA.push(
    a.tenantId,
    a.slug,
    agentA.id,
    `IsoAgentA-${tag}`,
    `iso-hook-${tag}`,
    `iso-cluster-${tag}`,
    cluster.body.cluster.id,
  );
  // tenant A's admin, with a token whose expiry is past (signed like the real ones).
  const claims = JSON.parse(atob(a.adminToken.split(".")[1] ?? ""));
  expired = await sign(
    { ...claims, iat: claims.iat - 3600, exp: Math.floor(Date.now() / 1000) - 60 },
    env.AUTH_SECRET,
    "HS256",
  );
});

/** The route's path with tenant A's ids where a route names one. */
function concrete(path: string): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    if (path.startsWith("/api/dashboard/agents") && (name === "id" || name === "agentId"))
      return idsOfA.agent ?? "x";
    if (path.startsWith("/api/dashboard/webhooks") && name === "id") return idsOfA.webhook ?? "x";
    if (path.startsWith("/api/dashboard/clusters") && name === "id") return idsOfA.cluster ?? "x";
    if (path.startsWith("/api/dashboard/settings/api-keys") && name === "id") return idsOfA.apiKey ?? "x";
    if (name === "agentId") return idsOfA.agent ?? "x";
    if (name === "action") return "pause";
    if (name === "template") return "daily_sync";
    return `x_${name}`;
  });
}

type Principal = "nobody" | "expired" | "memberA" | "adminB" | "agentB";
const tokenOf = (p: Principal) =>
  ({ nobody: undefined, expired, memberA, adminB: b.adminToken, agentB: agentB.token })[p];

/** What api-contract.md allows each principal to get from a route; null when any status is fine. */
function allowed(method: string, path: string, p: Principal): number[] | null {
  const key = `${method} ${path}`;
  if (PUBLIC.has(key)) return null;
  const mutation = method !== "GET";
  const admin = path.startsWith("/api/admin");
  const dashboard = path.startsWith("/api/dashboard") || path.startsWith("/ws/");
  const agentRoute = path.startsWith("/v1/");
  const controller = path.startsWith("/controller/");
  if (p === "nobody" || p === "expired") return [401];
  if (controller) return [401]; // only a cluster credential
  if (p === "agentB") {
    if (agentRoute) return null; // its own resources: addressed by its token, never tenant A's
    return [401, 403];
  }
  if (agentRoute) return [401]; // user tokens and API keys are not agent tokens
  if (admin) return [403];
  if (p === "memberA") {
    if (dashboard && mutation) return [403];
    return null; // reads of its own tenant
  }
  // tenant B's admin: tenant A's ids are as unknown to it as ids that do not exist.
  if (dashboard && path.includes(":")) return [400, 404, 409, 422];
  return null; // its own lists
}

describe("isolation matrix (generated from the route table)", () => {
  it("every route answers every principal as the contract says, and nothing of tenant A reaches others", async () => {
    const routes = [
      ...new Map(
        app.routes
          .filter((r) => r.method !== "ALL" && /^\/(api|v1|ws|controller)\//.test(r.path))
          .filter((r) => r.path !== "/api/openapi.json" && !SESSION_ENDING.has(`${r.method} ${r.path}`))
          .map((r) => [`${r.method} ${r.path}`, r]),
      ).values(),
    ];
    expect(routes.length).toBeGreaterThan(80);
    const violations: string[] = [];
    const principals: Principal[] = ["nobody", "expired", "memberA", "adminB", "agentB"];
    for (const r of routes) {
      const path = concrete(r.path);
      for (const p of principals) {
        const token = tokenOf(p);
        const res =
          r.path.startsWith("/ws/") || r.path === "/v1/mailbox" || r.path === "/controller/v1/connect"
            ? await upgrade(path, token ? { authorization: `Bearer ${token}` } : {})
            : await call(r.method, path, { token, ...(r.method === "GET" ? {} : { body: {} }) });
        if (res.status === 101) res.webSocket?.accept();
        res.webSocket?.close(1000, "done");
        const text = res.status === 101 ? "" : await res.text();
        if (res.status >= 500) violations.push(`${r.method} ${r.path} as ${p}: ${res.status}`);
        const want = allowed(r.method, r.path, p);
        if (want && !want.includes(res.status))
          violations.push(`${r.method} ${r.path} as ${p}: ${res.status}, want ${want.join("/")}`);
        if (p !== "memberA") {
          // An error names the request's own path (which carries tenant A's id): that is not a leak.
          const answer = text.replaceAll(path, "");
          const leaked = secretsOfA.filter((s) => s && answer.includes(s));
          if (leaked.length)
            violations.push(`${r.method} ${r.path} as ${p}: body reveals ${leaked.join(", ")}`);
        }
      }
    }
    expect(violations).toEqual([]);
  }, 120_000);
});
