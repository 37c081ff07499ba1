#!/usr/bin/env node
// A local stand-in for Anthropic's Messages API (`MODEL_UPSTREAM_URL`), the upstream the model
// gateway forwards to. POST /v1/messages (`x-api-key` required) answers deterministically: the
// reply is "echo: " + the first 200 characters of the last user message, token counts are
// characters / 4 (rounded up), `stream: true` gives Anthropic's server-sent event sequence, an
// enabled `thinking` adds a thinking block, and blocks with `cache_control` are cache writes the
// first time their text is seen and cache reads afterwards. GET /calls lists what was received
// (never the key), DELETE /calls forgets it, GET /health answers 200. Nothing leaves the machine.
//
// Requests need `anthropic-version` (400 without it, as Anthropic answers). Usage is reported as
// Anthropic does: `input_tokens` is the input neither written to nor read from the cache (the whole
// input is input + cache_creation + cache_read), `output_tokens` includes thinking. Beyond
// Anthropic's fields: `usage.thinking_tokens`, so the gateway can split thinking out.
//
// Test knobs, in the request header `x-standin-behavior` (comma-separated):
//   error:<status>  answer that status with Anthropic's error JSON (overloaded_error for 529,
//                   rate_limit_error for 429, … api_error otherwise)
//   delay:<ms>      wait before answering
//   no-usage        leave out `usage` (non-stream), or from message_start and message_delta (stream)
//   hang            never answer; the request ends when the client disconnects
//
//   node scripts/standins/model-upstream.mjs [port]  (MODEL_UPSTREAM_KEY sets the key, default "dev-model-key")
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { json, readBody } from "./http.mjs";

const MAX_BODY = 4 * 1024 * 1024;
const ECHO_CHARS = 200;

/** Anthropic's error type for an HTTP status. */
const ERROR_TYPES = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

const requestId = () => `req_standin_${randomBytes(12).toString("hex")}`;

function apiError(res, status, message) {
  json(
    res,
    status,
    { type: "error", error: { type: ERROR_TYPES[status] ?? "api_error", message } },
    { "request-id": requestId() },
  );
}

/**
 * Parses `x-standin-behavior` ("error:529", "delay:200,no-usage", "hang").
 * @returns {{ error?: number, delay?: number, noUsage?: boolean, hang?: boolean } | string} the knobs, or why not
 */
export function parseBehavior(header) {
  const knobs = {};
  if (!header) return knobs;
  for (const part of header.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const [name, value] = item.split(":", 2).map((s) => s.trim());
    if (name === "error") {
      const status = Number(value);
      if (!Number.isInteger(status) || status < 400 || status > 599)
        return `error:<status> needs a status 400–599, got "${value}"`;
      knobs.error = status;
    } else if (name === "delay") {
      const ms = Number(value);
      if (!Number.isFinite(ms) || ms < 0) return `delay:<ms> needs a number ≥ 0, got "${value}"`;
      knobs.delay = ms;
    } else if (name === "no-usage" && value === undefined) knobs.noUsage = true;
    else if (name === "hang" && value === undefined) knobs.hang = true;
    else return `unknown x-standin-behavior "${item}" (error:<status>, delay:<ms>, no-usage, hang)`;
  }
  return knobs;
}

/** The text blocks of a message's (or the system prompt's) content: a string or an array of blocks. */
function textBlocks(content) {
  if (typeof content === "string") return [{ text: content, cacheControl: false }];
  if (!Array.isArray(content)) return [];
  return content
    .filter((b) => b && b.type === "text" && typeof b.text === "string")
    .map((b) => ({ text: b.text, cacheControl: b.cache_control != null }));
}

const tokens = (chars) => Math.ceil(chars / 4);

/** Validates a Messages API request body; returns why it is not one, or null. */
function invalid(body) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "body must be a JSON object";
  if (typeof body.model !== "string" || body.model === "") return "model: Field required";
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1)
    return "max_tokens: Field required (an integer ≥ 1)";
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return "messages: Field required (at least one message)";
  for (const [i, m] of body.messages.entries()) {
    if (!m || (m.role !== "user" && m.role !== "assistant"))
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (typeof m.content !== "string" && !Array.isArray(m.content))
      return `messages.${i}.content: Input should be a string or a list of content blocks`;
  }
  return null;
}

/**
 * The deterministic answer to a valid request: content blocks, stop reason and usage. `cacheSeen`
 * holds the texts of `cache_control` blocks seen before (a second sight is a cache read).
 */
function answer(body, cacheSeen) {
  const blocks = [...textBlocks(body.system), ...body.messages.flatMap((m) => textBlocks(m.content))];
  const totalInput = tokens(blocks.reduce((n, b) => n + b.text.length, 0));
  let cacheCreation = 0;
  let cacheRead = 0;
  for (const b of blocks) {
    if (!b.cacheControl) continue;
    if (cacheSeen.has(b.text)) cacheRead += tokens(b.text.length);
    else {
      cacheSeen.add(b.text);
      cacheCreation += tokens(b.text.length);
    }
  }
  // As Anthropic reports it: input_tokens is what was neither written to nor read from the cache
  // (the request's whole input is the sum of the three).
  const inputTokens = Math.max(0, totalInput - cacheCreation - cacheRead);

  const lastUser = [...body.messages].reverse().find((m) => m.role === "user");
  const said = lastUser
    ? textBlocks(lastUser.content)
        .map((b) => b.text)
        .join("\n")
    : "";
  const echoed = said.slice(0, ECHO_CHARS);

  let budget = body.max_tokens;
  const content = [];
  let thinkingTokens;
  if (body.thinking?.type === "enabled") {
    let thinking = `thinking about: ${echoed}`;
    const cap = Math.min(
      budget,
      Number.isInteger(body.thinking.budget_tokens) ? body.thinking.budget_tokens : budget,
    );
    thinkingTokens = Math.min(tokens(thinking.length), cap);
    thinking = thinking.slice(0, thinkingTokens * 4);
    budget -= thinkingTokens;
    content.push({ type: "thinking", thinking, signature: `standin-sig-${thinking.length}` });
  }
  let text = `echo: ${echoed}`;
  let stopReason = "end_turn";
  let textTokens = tokens(text.length);
  if (textTokens > budget) {
    textTokens = budget;
    text = text.slice(0, budget * 4);
    stopReason = "max_tokens";
  }
  if (text !== "" || content.length === 0) content.push({ type: "text", text });
  const usage = {
    input_tokens: inputTokens,
    output_tokens: textTokens + (thinkingTokens ?? 0),
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
  };
  if (thinkingTokens !== undefined) usage.thinking_tokens = thinkingTokens;
  return { content, stopReason, usage };
}

/** Splits text into at least two pieces when it has at least two characters. */
function chunks(text) {
  if (text.length < 2) return [text];
  const size = Math.max(1, Math.ceil(text.length / 3));
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Writes one server-sent event and waits until it has been handed to the socket. */
function sse(res, event, data) {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve();
    res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`, () => resolve());
  });
}

async function stream(res, id, model, { content, stopReason, usage }, noUsage) {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "request-id": requestId(),
  });
  res.flushHeaders();
  const { output_tokens, thinking_tokens, ...inputUsage } = usage;
  await sse(res, "message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      ...(noUsage ? {} : { usage: { ...inputUsage, output_tokens: 1 } }),
    },
  });
  for (const [index, block] of content.entries()) {
    if (block.type === "thinking") {
      await sse(res, "content_block_start", {
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      });
      if (index === 0) await sse(res, "ping", {});
      for (const piece of chunks(block.thinking))
        await sse(res, "content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece } });
      await sse(res, "content_block_delta", {
        index,
        delta: { type: "signature_delta", signature: block.signature },
      });
    } else {
      await sse(res, "content_block_start", { index, content_block: { type: "text", text: "" } });
      if (index === 0) await sse(res, "ping", {});
      for (const piece of chunks(block.text))
        await sse(res, "content_block_delta", { index, delta: { type: "text_delta", text: piece } });
    }
    await sse(res, "content_block_stop", { index });
  }
  await sse(res, "message_delta", {
    delta: { stop_reason: stopReason, stop_sequence: null },
    ...(noUsage
      ? {}
      : { usage: { output_tokens, ...(thinking_tokens === undefined ? {} : { thinking_tokens }) } }),
  });
  await sse(res, "message_stop", {});
  res.end();
}

/**
 * Starts the model upstream on 127.0.0.1.
 * @param {number} [port] 0 (the default) picks a free port
 * @param {{ apiKey?: string }} [options] the `x-api-key` POST /v1/messages requires (default MODEL_UPSTREAM_KEY or "dev-model-key")
 */
export function start(port = 0, { apiKey = process.env.MODEL_UPSTREAM_KEY || "dev-model-key" } = {}) {
  const calls = [];
  const cacheSeen = new Set();
  let seq = 0;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    // A client that goes away (a hang, a delay, a stream cut short) ends the wait early.
    let gone = false;
    const onGone = new Set();
    res.on("close", () => {
      gone = true;
      for (const fn of onGone) fn();
      onGone.clear();
    });
    const wait = (ms) =>
      new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          onGone.delete(done);
          resolve();
        }
        onGone.add(done);
      });
    try {
      if (req.method === "POST" && url.pathname === "/v1/messages") {
        const raw = await readBody(req, MAX_BODY);
        let body;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        const behaviorHeader = req.headers["x-standin-behavior"];
        const behavior = typeof behaviorHeader === "string" ? behaviorHeader : null;
        const version = req.headers["anthropic-version"];
        calls.push({
          at: new Date().toISOString(),
          model: typeof body?.model === "string" ? body.model : null,
          stream: body?.stream === true,
          behavior,
          headers: {
            "anthropic-version": typeof version === "string" ? version : null,
            "x-api-key-present":
              typeof req.headers["x-api-key"] === "string" && req.headers["x-api-key"] !== "",
          },
        });
        if (req.headers["x-api-key"] !== apiKey) return apiError(res, 401, "invalid x-api-key");
        if (typeof version !== "string" || version === "")
          return apiError(res, 400, "anthropic-version: header is required");
        if (body === undefined) return apiError(res, 400, "request body is not valid JSON");
        const why = invalid(body);
        if (why) return apiError(res, 400, why);
        const knobs = parseBehavior(behavior);
        if (typeof knobs === "string") return apiError(res, 400, knobs);

        if (knobs.hang) {
          await new Promise((resolve) => (gone ? resolve() : onGone.add(resolve)));
          return;
        }
        if (knobs.delay) await wait(knobs.delay);
        if (gone) return;
        if (knobs.error)
          return apiError(
            res,
            knobs.error,
            knobs.error === 529 ? "Overloaded" : `x-standin-behavior asked for ${knobs.error}`,
          );

        const id = `msg_standin_${String(++seq).padStart(6, "0")}${randomBytes(6).toString("hex")}`;
        const result = answer(body, cacheSeen);
        if (body.stream === true) return await stream(res, id, body.model, result, knobs.noUsage);
        return json(
          res,
          200,
          {
            id,
            type: "message",
            role: "assistant",
            model: body.model,
            content: result.content,
            stop_reason: result.stopReason,
            stop_sequence: null,
            ...(knobs.noUsage ? {} : { usage: result.usage }),
          },
          { "request-id": requestId() },
        );
      }
      if (url.pathname === "/calls") {
        if (req.method === "GET") return json(res, 200, { data: calls });
        if (req.method === "DELETE") {
          calls.length = 0;
          res.writeHead(204).end();
          return;
        }
      }
      if (req.method === "GET" && url.pathname === "/health") return json(res, 200, { ok: true });
      apiError(res, 404, `${req.method} ${url.pathname} is not served by the model stand-in`);
    } catch (err) {
      if (!res.headersSent) apiError(res, 500, String(err?.message ?? err));
      else res.destroy();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = server.address().port;
      resolve({
        port: actual,
        url: `http://127.0.0.1:${actual}`,
        apiKey,
        calls,
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
  const upstream = await start(Number(process.argv[2] ?? process.env.PORT ?? 0));
  process.stdout.write(
    `model stand-in: MODEL_UPSTREAM_URL=${upstream.url}  MODEL_UPSTREAM_KEY=${upstream.apiKey}  ·  GET ${upstream.url}/calls\n`,
  );
}
