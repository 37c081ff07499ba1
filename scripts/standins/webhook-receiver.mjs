#!/usr/bin/env node
// A local webhook receiver: every POST (to any path but the two below) is recorded with its
// headers and raw body and answered 200; GET /deliveries lists them (`?path=` filters), DELETE
// /deliveries forgets them; POST /fail { count, path?, status? } makes the next `count` requests
// to `path` (default: any path) fail with `status` (default 500), for retry tests.
//
//   node scripts/standins/webhook-receiver.mjs [port]
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { json, readBody } from "./http.mjs";

const MAX_BODY = 1024 * 1024;

/**
 * Starts the receiver on 127.0.0.1.
 * @param {number} [port] 0 (the default) picks a free port
 */
export function start(port = 0) {
  const deliveries = [];
  /** path (or "*") → { remaining, status } */
  const failures = new Map();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      if (url.pathname === "/fail" && req.method === "POST") {
        const body = JSON.parse((await readBody(req, MAX_BODY)) || "{}");
        const count = Number(body.count ?? 1);
        if (!Number.isInteger(count) || count < 0)
          return json(res, 400, { error: "count must be an integer ≥ 0" });
        failures.set(typeof body.path === "string" ? body.path : "*", {
          remaining: count,
          status: Number(body.status ?? 500),
        });
        return json(res, 200, { path: body.path ?? "*", count });
      }
      if (url.pathname === "/deliveries") {
        if (req.method === "GET") {
          const path = url.searchParams.get("path");
          return json(res, 200, { data: path ? deliveries.filter((d) => d.path === path) : deliveries });
        }
        if (req.method === "DELETE") {
          deliveries.length = 0;
          failures.clear();
          res.writeHead(204).end();
          return;
        }
      }
      if (req.method !== "POST") return json(res, 405, { error: "POST a delivery, or GET /deliveries" });
      const body = await readBody(req, MAX_BODY);
      const rule = failures.get(url.pathname) ?? failures.get("*");
      const failing = rule && rule.remaining > 0;
      if (failing) rule.remaining -= 1;
      const status = failing ? rule.status : 200;
      deliveries.push({
        id: randomUUID(),
        receivedAt: new Date().toISOString(),
        path: url.pathname,
        method: req.method,
        headers: req.headers,
        body,
        answered: status,
      });
      json(res, status, failing ? { error: "failing on purpose" } : { ok: true });
    } catch (err) {
      json(res, 500, { error: String(err?.message ?? err) });
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = server.address().port;
      resolve({
        port: actual,
        url: `http://127.0.0.1:${actual}`,
        deliveries,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const receiver = await start(Number(process.argv[2] ?? process.env.PORT ?? 0));
  process.stdout.write(
    `webhook receiver: POST ${receiver.url}/<any path>  ·  GET ${receiver.url}/deliveries  ·  POST ${receiver.url}/fail {"count":2}\n`,
  );
}
