import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { callJson, ORIGIN, type TenantFixture } from "./helpers";

// biome-ignore lint/suspicious/noExplicitAny: frames are asserted on loosely in tests
export type Frame = any;

/**
 * A WebSocket client inside workerd: every frame is kept, and `next()` waits for the first frame
 * (after those already consumed) that matches — no sleeps, the wait ends when the frame arrives.
 */
export class TestSocket {
  readonly frames: Frame[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (e) => {
      this.frames.push(JSON.parse(typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data)));
      this.wake();
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
      this.wake();
    });
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame matching `pred`; frames skipped over stay available to `all()`. */
  async next(pred: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++];
        if (pred(f)) return f;
      }
      if (this.closed)
        throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting`);
      if (Date.now() > deadline)
        throw new Error(
          `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("socket did not close");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close() {
    try {
      this.ws.close(1000, "done");
    } catch {}
  }
}

export async function upgrade(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(
    new Request(`${ORIGIN}${path}`, { headers: { upgrade: "websocket", ...headers } }),
  );
}

export async function openSocket(path: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  const res = await upgrade(path, headers);
  if (res.status !== 101 || !res.webSocket)
    throw new Error(`upgrade ${path}: ${res.status} ${await res.text()}`);
  return new TestSocket(res.webSocket);
}

export interface AgentFixture {
  id: string;
  name: string;
  credential: string;
  token: string;
}

export async function createAgent(t: TenantFixture, name: string): Promise<AgentFixture> {
  const created = await callJson("POST", "/api/dashboard/agents", {
    token: t.adminToken,
    body: { name, modelTier: "sonnet", thinkingMode: "off" },
  });
  if (created.status !== 201)
    throw new Error(`create agent ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  const token = await callJson("POST", "/v1/auth/token", {
    body: { agentId: created.body.agent.id, credential: created.body.credential },
  });
  return { id: created.body.agent.id, name, credential: created.body.credential, token: token.body.token };
}

export async function connectAgent(a: AgentFixture): Promise<TestSocket> {
  const s = await openSocket("/v1/mailbox", { authorization: `Bearer ${a.token}` });
  return s;
}

export async function setAllowlist(
  t: TenantFixture,
  edges: Array<{ from: string; to: string; direction: string }>,
) {
  const current = await callJson("GET", "/api/dashboard/allowlist", { token: t.adminToken });
  const res = await callJson("PUT", "/api/dashboard/allowlist", {
    token: t.adminToken,
    body: { expectedVersion: current.body.version, edges },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export { ORIGIN };
