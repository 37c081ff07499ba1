// The agent's installed skills, run inside the runtime with the context that enforces each manifest:
// a workspace folder of its own, network only to declared domains (through the egress proxy when one
// is set), declared env only, messages through the agent's mailbox, models through the gateway. Every
// permission use (allowed or refused) goes to `POST /v1/events`, where a refused one raises an alert.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ModelRequest, ModelResponse, OutgoingMessage, SendResult } from "../../skill-sdk/src/index";
import { createNodeHost } from "../../skill-sdk/src/node-host";
import { ALL_SKILLS } from "../../skills/src/index";

export interface InstalledSkill {
  name: string;
  version: string;
  /** Private skills' packages (not loaded by this runtime yet). */
  sha256: string | null;
}

export type SkillOutcome = { ok: true; output: unknown } | { ok: false; code: string; message: string };

export interface SkillRunnerOptions {
  installed: InstalledSkill[];
  workspace: string;
  env?: Record<string, string | undefined>;
  sendMessage(message: OutgoingMessage): Promise<SendResult>;
  callModel(request: ModelRequest): Promise<ModelResponse>;
  fetch?: (request: Request) => Promise<Response>;
  report(events: Array<Record<string, unknown>>): Promise<void>;
}

export class SkillRunner {
  constructor(private readonly options: SkillRunnerOptions) {}

  get names(): string[] {
    return this.options.installed.map((s) => s.name);
  }

  async run(name: string, input: unknown): Promise<SkillOutcome> {
    const installed = this.options.installed.find((s) => s.name === name);
    if (!installed)
      return { ok: false, code: "skill_not_installed", message: `${name} is not installed on this agent` };
    const skill = ALL_SKILLS.find(
      (s) => s.manifest.name === name && s.manifest.version === installed.version,
    );
    if (!skill) {
      return {
        ok: false,
        code: "skill_not_available",
        message: `${name}@${installed.version} is not built into this runtime (private packages are not loaded yet)`,
      };
    }
    // Each skill works in a folder of its own within the agent's workspace.
    const workspaceRoot = join(this.options.workspace, name);
    await mkdir(workspaceRoot, { recursive: true });
    const host = await createNodeHost({
      workspaceRoot,
      env: this.options.env,
      sendMessage: this.options.sendMessage,
      callModel: this.options.callModel,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const started = Date.now();
    let outcome: SkillOutcome;
    try {
      outcome = { ok: true, output: await skill.run(input, host) };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      outcome = {
        ok: false,
        code: typeof code === "string" ? code : "skill_failed",
        message: err instanceof Error ? err.message : String(err),
      };
    }
    const events: Array<Record<string, unknown>> = host.permissionLog.map((use) => ({
      type: "permission_use",
      skill: name,
      permission: {
        kind: use.kind,
        target: use.target.slice(0, 500),
        allowed: use.allowed,
        ...(use.reason ? { reason: use.reason.slice(0, 500) } : {}),
      },
    }));
    events.push({
      type: "tool_invocation",
      skill: name,
      tool: "run",
      outcome: outcome.ok ? "ok" : "error",
      durationMs: Date.now() - started,
      ...(outcome.ok ? {} : { error: `${outcome.code}: ${outcome.message}`.slice(0, 2000) }),
    });
    // /v1/events takes up to 100 at a time.
    for (let i = 0; i < events.length; i += 100) await this.options.report(events.slice(i, i + 100));
    return outcome;
  }
}
