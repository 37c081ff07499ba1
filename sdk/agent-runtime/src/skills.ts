// The agent's installed skills, run inside the runtime with the context that enforces each manifest:
// a workspace folder of its own, network only to declared domains (through the egress proxy when one
// is set), declared env only, messages through the agent's mailbox, models through the gateway. Every
// permission use (allowed or refused) goes to `POST /v1/events`, where a refused one raises an alert.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createSkillContext,
  type ModelRequest,
  type ModelResponse,
  type OutgoingMessage,
  type SendResult,
  type SkillContext,
  type SkillManifest,
} from "../../skill-sdk/src/index";
import { createNodeHost } from "../../skill-sdk/src/node-host";
import { sha256Hex, unpackPackage } from "../../skill-sdk/src/package/index";
import { ALL_SKILLS } from "../../skills/src/index";

export interface InstalledSkill {
  name: string;
  version: string;
  /** A private skill's package (fetched from the platform by this digest); null for built-in skills. */
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
  /** The bytes of a private skill's package (`GET /v1/skills/packages/:sha256` with the agent token). */
  download?(sha256: string): Promise<Uint8Array>;
}

type Runnable = {
  manifest: SkillManifest;
  run(input: unknown, host: Awaited<ReturnType<typeof createNodeHost>>): Promise<unknown>;
};

export class SkillRunner {
  private readonly packages = new Map<string, Promise<Runnable>>();

  constructor(private readonly options: SkillRunnerOptions) {}

  /**
   * A private skill: its package, checked against its digest and unpacked with the platform's limits,
   * written under the workspace, and its entry's `handler(input, ctx)` run with the enforcing context.
   */
  private loadPackage(installed: InstalledSkill): Promise<Runnable> {
    const sha256 = installed.sha256 ?? "";
    let loading = this.packages.get(sha256);
    if (!loading) {
      loading = (async () => {
        if (!this.options.download)
          throw Object.assign(new Error("this runtime cannot fetch packages"), {
            code: "skill_not_available",
          });
        const bytes = await this.options.download(sha256);
        if ((await sha256Hex(bytes)) !== sha256)
          throw Object.assign(new Error("the package does not match its digest"), {
            code: "package_mismatch",
          });
        const pkg = await unpackPackage(bytes);
        const dir = join(this.options.workspace, ".packages", sha256);
        for (const [path, data] of pkg.files) {
          await mkdir(dirname(join(dir, path)), { recursive: true });
          await writeFile(join(dir, path), data);
        }
        const entry = (await import(pathToFileURL(join(dir, pkg.manifest.entry)).href)) as {
          handler?: (input: unknown, ctx: SkillContext) => Promise<unknown>;
        };
        const handler = entry.handler;
        if (typeof handler !== "function")
          throw Object.assign(new Error(`${pkg.manifest.entry} exports no handler`), {
            code: "skill_invalid",
          });
        return {
          manifest: pkg.manifest,
          run: (input, host) => handler(input, createSkillContext(pkg.manifest, host)),
        };
      })();
      this.packages.set(sha256, loading);
      loading.catch(() => this.packages.delete(sha256));
    }
    return loading;
  }

  get names(): string[] {
    return this.options.installed.map((s) => s.name);
  }

  async run(name: string, input: unknown): Promise<SkillOutcome> {
    const installed = this.options.installed.find((s) => s.name === name);
    if (!installed)
      return { ok: false, code: "skill_not_installed", message: `${name} is not installed on this agent` };
    let skill: Runnable | undefined = ALL_SKILLS.find(
      (s) => s.manifest.name === name && s.manifest.version === installed.version,
    );
    if (!skill && installed.sha256) {
      try {
        skill = await this.loadPackage(installed);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        return {
          ok: false,
          code: typeof code === "string" ? code : "skill_not_available",
          message: err instanceof Error ? err.message : String(err),
        };
      }
    }
    if (!skill) {
      return {
        ok: false,
        code: "skill_not_available",
        message: `${name}@${installed.version} is not available to this runtime`,
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
