// The local driver: each desired agent runs as a child process of the controller (the agent runtime),
// with its tenant's egress proxy as its only declared way to the internet (HTTP_PROXY/HTTPS_PROXY with
// the agent's proxy credential). `npm run dev` uses it so that real agents connect to their mailboxes.
// Local processes are not network-isolated: unlike the Kubernetes driver's NetworkPolicy, nothing
// here stops a process from ignoring the proxy; the platform itself is reached directly.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { DesiredAgent, DesiredState, DesiredTenant } from "../../../worker/features/clusters/protocol";
import type { AgentRuntimeStatus, ApplyError, Driver, DriverContext } from "../driver";
import { type EgressEvent, type EgressProxy, proxyUrlFor, startEgressProxy } from "../egress/proxy";

export interface LocalDriverOptions {
  /** The platform's origin the runtimes connect to. */
  platformUrl: string;
  /** The command that starts one agent runtime, e.g. [process.execPath, "dist/agent-runtime.gen.mjs"]. */
  runtimeCommand: readonly string[];
  /** Extra environment for the runtimes. */
  env?: Record<string, string>;
  /** Where each runtime's output goes (default: dropped). */
  onOutput?: (agentId: string, line: string) => void;
}

interface Running {
  agent: DesiredAgent;
  credentialVersion: number;
  child: ChildProcess | null;
  status: AgentRuntimeStatus["status"];
  restarts: number;
  recentExits: number[];
  lastError: string | null;
  restartTimer: NodeJS.Timeout | null;
  stopping: boolean;
}

const CRASHLOOP_EXITS = 3;
const CRASHLOOP_WINDOW_MS = 60_000;

export class LocalDriver implements Driver {
  readonly name = "local";
  private readonly proxyKey = randomBytes(32).toString("hex");
  private readonly proxies = new Map<string, EgressProxy>();
  private readonly agents = new Map<string, Running>();
  private tenants = new Map<string, DesiredTenant>();
  private onEgress: (event: EgressEvent) => void = () => {};

  constructor(private readonly options: LocalDriverOptions) {}

  async apply(state: DesiredState, ctx: DriverContext): Promise<{ errors: ApplyError[] }> {
    this.onEgress = ctx.onEgress;
    const errors: ApplyError[] = [];
    this.tenants = new Map(
      state.resources.flatMap((r) => (r.kind === "tenant" ? [[r.tenantId, r] as const] : [])),
    );
    const desired = new Map(
      state.resources.flatMap((r) =>
        r.kind === "agent" && r.state === "running" ? [[r.agentId, r] as const] : [],
      ),
    );
    // Prune first: agents no longer desired (deleted, paused, moved away) stop.
    for (const [agentId, running] of this.agents) {
      if (!desired.has(agentId)) {
        await this.stopAgent(running);
        this.agents.delete(agentId);
      }
    }
    for (const [tenantId, proxy] of this.proxies) {
      if (!this.tenants.has(tenantId)) {
        await proxy.close();
        this.proxies.delete(tenantId);
      }
    }
    for (const agent of desired.values()) {
      try {
        const proxy = await this.proxyFor(agent.tenantId);
        const { credential, version } = await ctx.credentialFor(agent.agentId, agent.credentialVersion);
        const running = this.agents.get(agent.agentId);
        const changed =
          !running ||
          running.credentialVersion !== version ||
          running.agent.modelTier !== agent.modelTier ||
          JSON.stringify(running.agent.skills) !== JSON.stringify(agent.skills);
        if (running && !changed) {
          running.agent = agent; // e.g. allowed domains read live by the proxy
          continue;
        }
        if (running) await this.stopAgent(running);
        const next: Running = {
          agent,
          credentialVersion: version,
          child: null,
          status: "pending",
          restarts: running?.restarts ?? 0,
          recentExits: [],
          lastError: null,
          restartTimer: null,
          stopping: false,
        };
        this.agents.set(agent.agentId, next);
        this.startAgent(next, credential, proxyUrlFor(proxy, this.proxyKey, agent.agentId));
      } catch (err) {
        errors.push({ resource: `agent ${agent.agentId}`, message: String(err) });
      }
    }
    return { errors };
  }

  private async proxyFor(tenantId: string): Promise<EgressProxy> {
    const existing = this.proxies.get(tenantId);
    if (existing) return existing;
    const proxy = await startEgressProxy({
      key: this.proxyKey,
      policies: {
        allowedDomains: (agentId) => {
          const running = this.agents.get(agentId);
          return running && running.agent.tenantId === tenantId ? running.agent.allowedDomains : undefined;
        },
        mode: () => this.tenants.get(tenantId)?.egressMode ?? "enforce",
      },
      onEvent: (event) => this.onEgress(event),
    });
    this.proxies.set(tenantId, proxy);
    return proxy;
  }

  private startAgent(running: Running, credential: string, proxyUrl: string): void {
    const [command, ...args] = this.options.runtimeCommand;
    if (!command) throw new Error("no runtime command");
    const child = spawn(command, args, {
      env: {
        PATH: process.env.PATH ?? "",
        ...this.options.env,
        AEGIS_URL: this.options.platformUrl,
        AEGIS_AGENT_ID: running.agent.agentId,
        AEGIS_AGENT_CREDENTIAL: credential,
        AEGIS_MODEL_TIER: running.agent.modelTier,
        AEGIS_AGENT_SKILLS: JSON.stringify(
          running.agent.skills.map(({ name, version, sha256 }) => ({ name, version, sha256 })),
        ),
        HTTP_PROXY: proxyUrl,
        HTTPS_PROXY: proxyUrl,
        NO_PROXY: new URL(this.options.platformUrl).hostname,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.child = child;
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.options.onOutput?.(running.agent.agentId, line);
        if (line.includes('"event":"connected"')) running.status = "running";
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8").trim();
      if (text) {
        running.lastError = text.slice(-2000);
        this.options.onOutput?.(running.agent.agentId, text);
      }
    });
    child.on("exit", (code, signal) => {
      running.child = null;
      if (running.stopping) {
        running.status = "stopped";
        return;
      }
      const now = Date.now();
      running.recentExits = [...running.recentExits.filter((t) => now - t < CRASHLOOP_WINDOW_MS), now];
      running.restarts++;
      running.lastError ??= `exited with ${signal ?? code}`;
      running.status = running.recentExits.length >= CRASHLOOP_EXITS ? "crashloop" : "pending";
      // Back off like a kubelet: 1 s, 2 s, 4 s … up to 60 s.
      const delay = Math.min(60_000, 1000 * 2 ** Math.min(6, running.recentExits.length - 1));
      running.restartTimer = setTimeout(() => {
        if (this.agents.get(running.agent.agentId) === running && !running.stopping)
          this.startAgent(running, credential, proxyUrl);
      }, delay);
      running.restartTimer.unref();
    });
  }

  private async stopAgent(running: Running): Promise<void> {
    running.stopping = true;
    if (running.restartTimer) clearTimeout(running.restartTimer);
    const child = running.child;
    if (!child) return;
    await new Promise<void>((done) => {
      const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(kill);
        done();
      });
      child.kill("SIGTERM");
    });
  }

  async status(): Promise<AgentRuntimeStatus[]> {
    return [...this.agents.values()].map((r) => ({
      agentId: r.agent.agentId,
      status: r.status,
      restarts: r.restarts,
      lastError: r.lastError,
    }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((r) => this.stopAgent(r)));
    this.agents.clear();
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    this.proxies.clear();
  }
}
