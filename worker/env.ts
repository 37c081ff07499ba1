import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Database } from "./db/client";
import type { Principal } from "./features/auth/principal";

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Database;
    principal: Principal;
    /** The tenant a dashboard request acts on (the caller's own, or `?tenantId=` for an operator). */
    tenantId: string;
  };
};

export type App = OpenAPIHono<AppEnv>;
