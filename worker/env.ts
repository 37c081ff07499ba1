import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Database } from "./db/client";
import type { clusters } from "./db/schema";
import type { Principal } from "./features/auth/principal";

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Database;
    principal: Principal;
    /** The tenant a dashboard request acts on (the caller's own, or `?tenantId=` for an operator). */
    tenantId: string;
    /** Set once a route recorded its own audit event, so the catch-all middleware does not add another. */
    audited: boolean;
    /** The cluster of a controller request (`/controller/v1/*`), from its verified credential. */
    cluster: typeof clusters.$inferSelect;
  };
};

export type App = OpenAPIHono<AppEnv>;
