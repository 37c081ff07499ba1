// The agent runtime: what runs in an agent's container (or, with the controller's local driver, its
// process). It holds the agent's mailbox through the agent client, answers messages — a
// `data_request` gets a `data_response` written by the agent's model through the platform's gateway, a
// `task_handoff` is acknowledged and answered with a `status_update` — applies config pushes, and
// reports what it did to `POST /v1/events`. Lifecycle lines go to stdout as JSON, for the driver.
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProxyAgent } from "undici";
import { AgentClient, type IncomingMessage, type MessageContext } from "../../agent-client/src/index";
import { createMessagesApiModel } from "../../skill-sdk/src/index";
import { type InstalledSkill, SkillRunner } from "./skills";

export interface RuntimeOptions {
  baseUrl: string;
  agentId: string;
  credential: string;
  /** The model the agent asks (its tier's model name at the gateway). */
  model?: string;
  /** The agent's installed skills at their pinned versions (from the desired state). */
  skills?: InstalledSkill[];
  /** The agent's workspace folder. Default: a folder in the system temp dir. */
  workspace?: string;
  /** Skills' outbound requests go through this proxy (the tenant's egress proxy) when set. */
  proxyUrl?: string;
  /** Where lifecycle lines go. Default: stdout. */
  emit?: (event: Record<string, unknown>) => void;
  fetch?: typeof fetch;
}

const MODEL_BY_TIER: Record<string, string> = {
  haiku: "claude-haiku-4-5",
  sonnet: "claude-sonnet-4-5",
  opus: "claude-opus-4-1",
};

export function modelForTier(tier: string | undefined): string {
  return MODEL_BY_TIER[tier ?? "sonnet"] ?? "claude-sonnet-4-5";
}

export class AgentRuntime {
  readonly client: AgentClient;
  private token: { value: string; until: number } | null = null;
  private readonly emit: (event: Record<string, unknown>) => void;
  private readonly fetchFn: typeof fetch;
  readonly skills: SkillRunner;

  constructor(private readonly options: RuntimeOptions) {
    this.emit = options.emit ?? ((event) => process.stdout.write(`${JSON.stringify(event)}\n`));
    this.fetchFn = options.fetch ?? fetch;
    this.client = new AgentClient({
      baseUrl: options.baseUrl,
      agentId: options.agentId,
      credential: options.credential,
      log: (level, message, data) => this.emit({ event: "log", level, message, ...(data ? { data } : {}) }),
      onConfig: async (version) => {
        this.emit({ event: "config", version });
      },
    });
    this.client.on("connected", () => {
      this.emit({ event: "connected", agentId: options.agentId });
      void this.report([{ type: "status_change", status: "running" }]);
    });
    this.client.on("disconnected", (code, reason) => this.emit({ event: "disconnected", code, reason }));
    this.client.on("stopped", (reason) => this.emit({ event: "stopped", reason }));
    this.client.onMessage((message, ctx) => this.handle(message, ctx));
    const proxy = options.proxyUrl ? new ProxyAgent(options.proxyUrl) : null;
    this.skills = new SkillRunner({
      installed: options.skills ?? [],
      workspace: options.workspace ?? join(tmpdir(), `aegis-agent-${options.agentId}`),
      sendMessage: async (m) => {
        const sent = await this.client.send(m.to, m.type, m.payload as never, {
          ...(m.correlationId ? { correlationId: m.correlationId } : {}),
        });
        return { id: sent.id, status: sent.status } as never;
      },
      callModel: async (request) =>
        createMessagesApiModel({
          url: `${options.baseUrl}/v1/models/messages`,
          defaultModel: options.model ?? modelForTier("sonnet"),
          headers: { authorization: `Bearer ${await this.agentToken()}` },
          fetch: (r) => this.fetchFn(r),
        })(request),
      ...(proxy ? { fetch: (request: Request) => fetch(request, { dispatcher: proxy } as RequestInit) } : {}),
      report: (events) => this.report(events),
      download: async (sha256) => {
        const res = await this.fetchFn(`${options.baseUrl}/v1/skills/packages/${sha256}`, {
          headers: { authorization: `Bearer ${await this.agentToken()}` },
        });
        if (!res.ok)
          throw Object.assign(new Error(`the package answered ${res.status}`), {
            code: "skill_not_available",
          });
        return new Uint8Array(await res.arrayBuffer());
      },
    });
  }

  start(): Promise<void> {
    this.emit({ event: "starting", agentId: this.options.agentId });
    return this.client.connect();
  }

  stop(): void {
    this.client.close();
  }

  private async handle(message: IncomingMessage, ctx: MessageContext): Promise<void> {
    const started = Date.now();
    let outcome: "ok" | "error" = "ok";
    let error: string | undefined;
    try {
      if (message.type === "data_request") {
        const query = String((message.payload as { query?: unknown }).query ?? "");
        const answer = await this.ask(query);
        await ctx.reply("data_response", { data: answer, format: "text" });
      } else if (message.type === "task_handoff") {
        const payload = message.payload as {
          title?: unknown;
          context?: { skill?: unknown; input?: unknown };
        };
        const title = String(payload.title ?? "the task");
        const skill = payload.context?.skill;
        if (typeof skill === "string") {
          // A task that names one of the agent's skills runs it, and the answer is its result.
          const result = await this.skills.run(skill, payload.context?.input ?? {});
          this.emit({ event: "skill", skill, ok: result.ok, ...(result.ok ? {} : { code: result.code }) });
          await ctx.reply("status_update", {
            status: result.ok ? "done" : "error",
            summary: (result.ok ? JSON.stringify(result.output) : `${result.code}: ${result.message}`).slice(
              0,
              4000,
            ),
          });
        } else {
          await ctx.reply("status_update", { status: "working", summary: `Accepted: ${title}` });
        }
      }
    } catch (err) {
      outcome = "error";
      error = String(err).slice(0, 2000);
      throw err;
    } finally {
      this.emit({ event: "handled", id: message.id, type: message.type, outcome });
      await this.report([
        {
          type: "tool_invocation",
          skill: "agent-messaging",
          tool: `answer_${message.type}`,
          outcome,
          durationMs: Date.now() - started,
          ...(error ? { error } : {}),
        },
      ]);
    }
  }

  /** The agent's model answers through the platform's gateway (quota and plan enforced there). */
  private async ask(query: string): Promise<string> {
    const res = await this.fetchFn(`${this.options.baseUrl}/v1/models/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${await this.agentToken()}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: this.options.model ?? modelForTier("sonnet"),
        max_tokens: 512,
        messages: [{ role: "user", content: query }],
      }),
    });
    if (!res.ok) throw new Error(`the model gateway answered ${res.status}`);
    const body = (await res.json()) as { content?: Array<{ type: string; text?: string }> };
    return (body.content ?? [])
      .filter((c) => c.type === "text")
      .map((c) => c.text ?? "")
      .join("");
  }

  private async agentToken(): Promise<string> {
    if (this.token && this.token.until > Date.now() + 30_000) return this.token.value;
    const res = await this.fetchFn(`${this.options.baseUrl}/v1/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ agentId: this.options.agentId, credential: this.options.credential }),
    });
    if (!res.ok) throw new Error(`token: ${res.status}`);
    const body = (await res.json()) as { token: string; expiresIn: number };
    this.token = { value: body.token, until: Date.now() + body.expiresIn * 1000 };
    return body.token;
  }

  private async report(events: Array<Record<string, unknown>>): Promise<void> {
    try {
      await this.fetchFn(`${this.options.baseUrl}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${await this.agentToken()}`, "content-type": "application/json" },
        body: JSON.stringify({ events }),
      });
    } catch (err) {
      this.emit({ event: "log", level: "warn", message: "could not report events", error: String(err) });
    }
  }
}

/**
 * The installed skills: AEGIS_AGENT_SKILLS (JSON, the local driver) or the agent's ConfigMap mounted
 * at AEGIS_AGENT_CONFIG (default /etc/aegis/agent.json, the kubernetes driver).
 */
export function installedSkillsFromEnv(env: NodeJS.ProcessEnv): InstalledSkill[] {
  try {
    if (env.AEGIS_AGENT_SKILLS) return JSON.parse(env.AEGIS_AGENT_SKILLS) as InstalledSkill[];
    const file = env.AEGIS_AGENT_CONFIG ?? "/etc/aegis/agent.json";
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, "utf8")) as { skills?: InstalledSkill[] }).skills ?? [];
  } catch {
    // unreadable: the runtime runs without skills and says so in its events
  }
  return [];
}

/** `node agent-runtime` in a container: the environment says who it is and where the platform is. */
export async function runFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<AgentRuntime> {
  const missing = ["AEGIS_URL", "AEGIS_AGENT_ID", "AEGIS_AGENT_CREDENTIAL"].filter((k) => !env[k]);
  if (missing.length) throw new Error(`agent runtime: set ${missing.join(", ")}`);
  const runtime = new AgentRuntime({
    baseUrl: String(env.AEGIS_URL).replace(/\/$/, ""),
    agentId: String(env.AEGIS_AGENT_ID),
    credential: String(env.AEGIS_AGENT_CREDENTIAL),
    model: modelForTier(env.AEGIS_MODEL_TIER),
    skills: installedSkillsFromEnv(env),
    ...(env.AEGIS_WORKSPACE ? { workspace: env.AEGIS_WORKSPACE } : {}),
    ...(env.HTTPS_PROXY ? { proxyUrl: env.HTTPS_PROXY } : {}),
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      runtime.stop();
      process.exit(0);
    });
  }
  await runtime.start();
  return runtime;
}
