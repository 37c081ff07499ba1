import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ModelUpstream, parseBehavior, start } from "./model-upstream.mjs";

const KEY = "unit-upstream-key";
let upstream: ModelUpstream;

beforeAll(async () => {
  upstream = await start(0, { apiKey: KEY });
});
afterAll(async () => {
  await upstream.close();
});
beforeEach(async () => {
  await fetch(`${upstream.url}/calls`, { method: "DELETE" });
});

type Body = Record<string, unknown>;

function post(body: Body | string, headers: Record<string, string> = {}, init: RequestInit = {}) {
  return fetch(`${upstream.url}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": KEY,
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

const small = (text = "hello there", extra: Body = {}): Body => ({
  model: "claude-sonnet-4-5",
  max_tokens: 1024,
  messages: [{ role: "user", content: text }],
  ...extra,
});

interface SseEvent {
  event: string;
  data: Record<string, unknown> & { type: string };
}

async function events(res: Response): Promise<SseEvent[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => {
      const event = /^event: (.*)$/m.exec(chunk)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(chunk)?.[1] ?? "null");
      return { event, data };
    });
}

/** The message of the stream's message_start event (which must come first). */
function started(evs: SseEvent[]): Record<string, unknown> {
  const first = evs[0];
  if (first?.event !== "message_start") throw new Error(`the stream starts with ${first?.event}`);
  return first.data.message as Record<string, unknown>;
}

describe("model upstream stand-in", () => {
  it("answers 401 authentication_error for a wrong or missing key", async () => {
    for (const headers of [{ "x-api-key": "wrong" }, { "x-api-key": "" }]) {
      const res = await post(small(), headers);
      expect(res.status).toBe(401);
      const body = await res.json();
      expect(body).toMatchObject({ type: "error", error: { type: "authentication_error" } });
      expect(typeof body.error.message).toBe("string");
    }
  });

  it("answers 400 invalid_request_error for a body that is not a Messages request", async () => {
    const bad: (Body | string)[] = [
      "not json",
      { max_tokens: 10, messages: [{ role: "user", content: "x" }] },
      { model: "m", messages: [{ role: "user", content: "x" }] },
      { model: "m", max_tokens: 10 },
    ];
    for (const body of bad) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    }
    const noVersion = await post(small(), { "anthropic-version": "" });
    expect(noVersion.status).toBe(400);
  });

  it("echoes the last user message with deterministic usage", async () => {
    const body = small("ignored", {
      system: "You are terse.", // 14 chars
      messages: [
        { role: "user", content: "first question" }, // 14
        { role: "assistant", content: [{ type: "text", text: "an answer" }] }, // 9
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
            { type: "text", text: "what is this?" }, // 13
          ],
        },
      ],
    });
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const msg = await res.json();
    expect(msg).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [{ type: "text", text: "echo: what is this?" }],
      stop_reason: "end_turn",
      stop_sequence: null,
    });
    expect(msg.id).toMatch(/^msg_standin_/);
    expect(msg.usage).toEqual({
      input_tokens: Math.ceil((14 + 14 + 9 + 13) / 4),
      output_tokens: Math.ceil("echo: what is this?".length / 4),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });

  it("echoes at most 200 characters and caps output at max_tokens", async () => {
    const long = "x".repeat(500);
    const full = await (await post(small(long))).json();
    expect(full.content[0].text).toBe(`echo: ${"x".repeat(200)}`);
    expect(full.usage.output_tokens).toBe(Math.ceil(206 / 4));
    expect(full.usage.input_tokens).toBe(125);

    const capped = await (await post(small(long, { max_tokens: 3 }))).json();
    expect(capped.usage.output_tokens).toBe(3);
    expect(capped.content[0].text).toBe("echo: xxxxxx");
    expect(capped.stop_reason).toBe("max_tokens");
  });

  it("streams Anthropic's event sequence with the final usage in message_delta", async () => {
    const res = await post(small("stream me please", { stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const evs = await events(res);
    for (const e of evs) expect(e.data.type).toBe(e.event);
    const names = evs.map((e) => e.event).filter((n) => n !== "ping");
    const deltas = names.filter((n) => n === "content_block_delta").length;
    expect(deltas).toBeGreaterThanOrEqual(2);
    expect(names).toEqual([
      "message_start",
      "content_block_start",
      ...Array(deltas).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(evs.some((e) => e.event === "ping")).toBe(true);

    const startMsg = started(evs);
    expect(startMsg).toMatchObject({ type: "message", role: "assistant", content: [], stop_reason: null });
    expect(startMsg.usage).toEqual({
      input_tokens: Math.ceil(16 / 4),
      output_tokens: 1,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
    const text = evs
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data.delta as { type: string; text: string }).text)
      .join("");
    expect(text).toBe("echo: stream me please");
    const end = evs.find((e) => e.event === "message_delta")?.data;
    expect(end).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: Math.ceil(22 / 4) },
    });
  });

  it("adds a thinking block, counted in output_tokens and in thinking_tokens", async () => {
    const thinking = { type: "enabled", budget_tokens: 2000 };
    const msg = await (await post(small("think", { thinking }))).json();
    expect(msg.content).toEqual([
      { type: "thinking", thinking: "thinking about: think", signature: expect.any(String) },
      { type: "text", text: "echo: think" },
    ]);
    const thinkingTokens = Math.ceil("thinking about: think".length / 4);
    const textTokens = Math.ceil("echo: think".length / 4);
    expect(msg.usage.thinking_tokens).toBe(thinkingTokens);
    expect(msg.usage.output_tokens).toBe(thinkingTokens + textTokens);

    const evs = await events(await post(small("think", { thinking, stream: true })));
    const starts = evs.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block);
    expect(starts).toMatchObject([{ type: "thinking" }, { type: "text" }]);
    const deltaTypes = evs
      .filter((e) => e.event === "content_block_delta" && e.data.index === 0)
      .map((e) => (e.data.delta as { type: string }).type);
    expect(deltaTypes.filter((t) => t === "thinking_delta").length).toBeGreaterThanOrEqual(2);
    expect(evs.find((e) => e.event === "message_delta")?.data.usage).toEqual({
      output_tokens: thinkingTokens + textTokens,
      thinking_tokens: thinkingTokens,
    });
  });

  it("reports a cache write for a cache_control block the first time, a cache read after", async () => {
    const system = [
      { type: "text", text: "s".repeat(400), cache_control: { type: "ephemeral" } },
      { type: "text", text: "not cached" }, // 10
    ];
    const body = small("q".repeat(8), { system });
    const first = (await (await post(body)).json()).usage;
    expect(first).toEqual({
      input_tokens: Math.ceil(418 / 4) - 100,
      output_tokens: Math.ceil(14 / 4),
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: 0,
    });
    const second = (await (await post(body)).json()).usage;
    expect(second).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 100 });

    const evs = await events(await post({ ...body, stream: true }));
    expect(started(evs).usage).toMatchObject({
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 100,
    });
  });

  it("x-standin-behavior error:<status> answers that status with Anthropic's error JSON", async () => {
    const overloaded = await post(small(), { "x-standin-behavior": "error:529" });
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    const failed = await post(small("x", { stream: true }), { "x-standin-behavior": "error:500" });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ type: "error", error: { type: "api_error" } });
    const limited = await post(small(), { "x-standin-behavior": "error:429" });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: { type: "rate_limit_error" } });
  });

  it("x-standin-behavior delay:<ms> waits before answering", async () => {
    const t0 = performance.now();
    const res = await post(small(), { "x-standin-behavior": "delay:150" });
    expect(res.status).toBe(200);
    await res.json();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("x-standin-behavior no-usage leaves usage out", async () => {
    const msg = await (await post(small(), { "x-standin-behavior": "no-usage" })).json();
    expect(msg.type).toBe("message");
    expect("usage" in msg).toBe(false);
    const evs = await events(await post(small("x", { stream: true }), { "x-standin-behavior": "no-usage" }));
    expect("usage" in started(evs)).toBe(false);
    const delta = evs.find((e) => e.event === "message_delta")?.data;
    expect(delta).toBeDefined();
    expect("usage" in (delta as object)).toBe(false);
    expect(evs.at(-1)?.event).toBe("message_stop");
  });

  it("x-standin-behavior hang never answers, until the client gives up", async () => {
    const controller = new AbortController();
    const pending = post(small(), { "x-standin-behavior": "hang" }, { signal: controller.signal });
    const outcome = await Promise.race([
      pending.then(() => "answered").catch(() => "aborted"),
      new Promise((r) => setTimeout(() => r("still waiting"), 300)),
    ]);
    expect(outcome).toBe("still waiting");
    controller.abort();
    await expect(pending).rejects.toThrow();
    // The server is still healthy afterwards.
    expect((await fetch(`${upstream.url}/health`)).status).toBe(200);
  });

  it("rejects an unknown behavior knob", async () => {
    const res = await post(small(), { "x-standin-behavior": "explode" });
    expect(res.status).toBe(400);
    expect(parseBehavior("delay:20, no-usage")).toEqual({ delay: 20, noUsage: true });
    expect(typeof parseBehavior("error:abc")).toBe("string");
  });

  it("GET /calls lists requests without the key; DELETE /calls clears them", async () => {
    await post(small());
    await post(small("x", { stream: true }), { "x-standin-behavior": "no-usage" });
    await post(small(), { "x-api-key": "" });
    const res = await fetch(`${upstream.url}/calls`);
    const text = await res.text();
    expect(text).not.toContain(KEY);
    const { data } = JSON.parse(text);
    expect(data).toHaveLength(3);
    expect(data[0]).toEqual({
      at: expect.any(String),
      model: "claude-sonnet-4-5",
      stream: false,
      behavior: null,
      headers: { "anthropic-version": "2023-06-01", "x-api-key-present": true },
    });
    expect(data[1]).toMatchObject({ stream: true, behavior: "no-usage" });
    expect(data[2].headers["x-api-key-present"]).toBe(false);
    expect(upstream.calls).toHaveLength(3);

    expect((await fetch(`${upstream.url}/calls`, { method: "DELETE" })).status).toBe(204);
    expect((await (await fetch(`${upstream.url}/calls`)).json()).data).toEqual([]);
    expect((await fetch(`${upstream.url}/health`)).status).toBe(200);
  });
});
