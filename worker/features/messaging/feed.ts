import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../../env";
import { AppError, forbidden, unauthenticated } from "../../lib/errors";
import { hubStub } from "../../lib/objects";
import { audit } from "../audit/record";
import { principalFromToken, SESSION_COOKIE, tenantScope } from "../auth/middleware";

/** The subprotocol a browser offers with its token: `new WebSocket(url, ["aegis.v1", token])`. */
export const FEED_PROTOCOL = "aegis.v1";

/**
 * `GET /ws/messages`: the tenant's live feed, fanned out by TenantHub over hibernatable sockets.
 * Authenticated by an access token (`?token=` or the `Sec-WebSocket-Protocol` header) or the
 * session cookie; a cookie needs our own Origin, since browsers send cookies on cross-site
 * WebSocket handshakes too.
 */
export const feedRoutes = new Hono<AppEnv>();

feedRoutes.get(
  "/messages",
  async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError(426, "upgrade_required", "Connect with a WebSocket upgrade");
    }
    const offered = (c.req.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    const fromProtocol = offered[0] === FEED_PROTOCOL ? offered[1] : undefined;
    const token = c.req.query("token") ?? fromProtocol;
    const cookie = getCookie(c, SESSION_COOKIE);
    const principal = token
      ? await principalFromToken(c, token, "bearer")
      : cookie
        ? await principalFromToken(c, cookie, "cookie")
        : null;
    if (!principal || principal.kind === "agent") throw unauthenticated();
    c.set("principal", principal);
    if (!token && c.req.header("origin") !== new URL(c.req.url).origin) {
      audit(c, {
        action: "auth.origin_rejected",
        severity: "medium",
        details: { origin: c.req.header("origin") ?? null },
      });
      throw forbidden("Cross-origin WebSocket refused", "origin_mismatch");
    }
    await next();
  },
  tenantScope,
  async (c) => {
    const p = c.get("principal");
    const headers = new Headers(c.req.raw.headers);
    headers.set(
      "x-aegis-principal",
      p.kind === "user" ? p.userId : p.kind === "api_key" ? p.keyId : p.agentId,
    );
    if (c.req.header("sec-websocket-protocol")?.startsWith(FEED_PROTOCOL))
      headers.set("x-aegis-protocol", FEED_PROTOCOL);
    return hubStub(c.env, c.get("tenantId")).fetch(new Request(c.req.url, { headers }));
  },
);
