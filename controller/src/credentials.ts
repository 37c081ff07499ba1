// Runtime credentials of the agents this controller runs: asked from the platform when missing or
// behind the desired version (which rotates them), kept in a file of the controller's state folder
// (mode 0600). The Kubernetes driver also writes each into the agent's Secret.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

type Stored = Record<string, { credential: string; version: number }>;

export class CredentialStore {
  private cache: Stored | null = null;
  private pending = new Map<string, Promise<{ credential: string; version: number }>>();

  constructor(
    private readonly file: string,
    private readonly platform: { url: string; credential: string },
  ) {}

  private async load(): Promise<Stored> {
    if (this.cache) return this.cache;
    try {
      this.cache = JSON.parse(await readFile(this.file, "utf8")) as Stored;
    } catch {
      this.cache = {};
    }
    return this.cache;
  }

  private async save(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(this.cache ?? {}), { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, this.file);
  }

  /** The agent's credential at `version`; a missing or older one is replaced by a freshly issued one. */
  async ensure(agentId: string, version: number): Promise<{ credential: string; version: number }> {
    const stored = (await this.load())[agentId];
    if (stored && version > 0 && stored.version >= version) return stored;
    const inFlight = this.pending.get(agentId);
    if (inFlight) return inFlight;
    const issue = (async () => {
      const res = await fetch(
        `${this.platform.url.replace(/\/$/, "")}/controller/v1/agents/${encodeURIComponent(agentId)}/credential`,
        { method: "POST", headers: { authorization: `Bearer ${this.platform.credential}` } },
      );
      if (!res.ok) throw new Error(`issuing the runtime credential of ${agentId}: ${res.status}`);
      const body = (await res.json()) as { credential: string; version: number };
      const cache = await this.load();
      cache[agentId] = { credential: body.credential, version: body.version };
      await this.save();
      return cache[agentId];
    })().finally(() => this.pending.delete(agentId));
    this.pending.set(agentId, issue);
    return issue;
  }

  /** Forgets agents no longer desired. */
  async prune(keep: ReadonlySet<string>): Promise<void> {
    const cache = await this.load();
    let changed = false;
    for (const id of Object.keys(cache)) {
      if (!keep.has(id)) {
        delete cache[id];
        changed = true;
      }
    }
    if (changed) await this.save();
  }
}
