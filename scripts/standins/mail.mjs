#!/usr/bin/env node
// A local stand-in for the transactional mail API (`MAIL_API_URL`): POST /send stores a message
// (bearer key required, `Idempotency-Key` honoured), GET /messages lists them as JSON (`?to=`
// filters), DELETE /messages empties the box, GET / is an HTML inbox. Nothing leaves the machine.
//
//   node scripts/standins/mail.mjs [port]      (MAIL_API_KEY sets the key, default "dev-mail-key")
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { json, readBody } from "./http.mjs";

const MAX_BODY = 256 * 1024;

const escapeHtml = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );

function inbox(messages) {
  const rows = messages
    .slice()
    .reverse()
    .map(
      (m) =>
        `<article><header><strong>${escapeHtml(m.subject)}</strong><br><small>${escapeHtml(m.receivedAt)} · from ${escapeHtml(m.from)} · to ${escapeHtml(m.to)}</small></header><pre>${escapeHtml(m.text)}</pre></article>`,
    )
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Aegis local inbox (${messages.length})</title>
<style>body{font:14px system-ui,sans-serif;max-width:860px;margin:2rem auto;padding:0 1rem;color:#1f2328}
article{border:1px solid #d0d7de;border-radius:6px;padding:.75rem 1rem;margin:.75rem 0}
pre{white-space:pre-wrap;font:13px ui-monospace,monospace;margin:.5rem 0 0}small{color:#57606a}</style></head>
<body><h1>Local inbox</h1><p>${messages.length} message(s) sent by Aegis in this session; refreshes every 5 s.</p>
${rows || "<p><em>No mail yet.</em></p>"}</body></html>`;
}

/**
 * Starts the mail sink on 127.0.0.1.
 * @param {number} [port] 0 (the default) picks a free port
 * @param {{ apiKey?: string }} [options] the bearer key POST /send requires (default MAIL_API_KEY or "dev-mail-key")
 */
export function start(port = 0, { apiKey = process.env.MAIL_API_KEY || "dev-mail-key" } = {}) {
  const messages = [];
  const seen = new Map();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      if (req.method === "POST" && url.pathname === "/send") {
        if (req.headers.authorization !== `Bearer ${apiKey}`) return json(res, 401, { error: "bad api key" });
        let body;
        try {
          body = JSON.parse(await readBody(req, MAX_BODY));
        } catch {
          return json(res, 400, { error: "body must be JSON" });
        }
        const fields = ["from", "to", "subject", "text"];
        const missing = fields.filter((f) => typeof body?.[f] !== "string" || body[f] === "");
        if (missing.length) return json(res, 400, { error: `missing ${missing.join(", ")}` });
        const key = req.headers["idempotency-key"];
        if (typeof key === "string" && seen.has(key))
          return json(res, 200, { id: seen.get(key), duplicate: true });
        const message = {
          id: randomUUID(),
          receivedAt: new Date().toISOString(),
          from: body.from,
          to: body.to,
          subject: body.subject,
          text: body.text,
          idempotencyKey: typeof key === "string" ? key : null,
        };
        messages.push(message);
        if (typeof key === "string") seen.set(key, message.id);
        return json(res, 202, { id: message.id });
      }
      if (req.method === "GET" && url.pathname === "/messages") {
        const to = url.searchParams.get("to");
        return json(res, 200, { data: to ? messages.filter((m) => m.to === to) : messages });
      }
      if (req.method === "DELETE" && url.pathname === "/messages") {
        messages.length = 0;
        seen.clear();
        res.writeHead(204).end();
        return;
      }
      if (req.method === "GET" && url.pathname === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(inbox(messages));
        return;
      }
      json(res, 404, { error: "not found" });
    } catch (err) {
      json(res, 500, { error: String(err?.message ?? err) });
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = server.address().port;
      const base = `http://127.0.0.1:${actual}`;
      resolve({
        port: actual,
        url: base,
        sendUrl: `${base}/send`,
        apiKey,
        messages,
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
  const sink = await start(Number(process.argv[2] ?? process.env.PORT ?? 0));
  process.stdout.write(
    `mail stand-in: inbox ${sink.url}/  ·  MAIL_API_URL=${sink.sendUrl}  MAIL_API_KEY=${sink.apiKey}\n`,
  );
}
