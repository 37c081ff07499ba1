import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const SDK = resolve(import.meta.dirname, "../sdk/skill-sdk");
const BIN = join(SDK, "bin/aegis-skill.mjs");

/** Runs the CLI as `npx aegis-skill` would, without AEGIS_API_KEY from the outer environment. */
function cli(args: string[], cwd: string, env: Record<string, string> = {}) {
  const { AEGIS_API_KEY: _key, ...rest } = process.env;
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...rest, ...env },
  });
  return { code: result.status, out: result.stdout + result.stderr };
}

/**
 * The README's five-minute walkthrough against the running platform: init → test → pack, an admin API key
 * created through the API, `publish` with it, and the version in `draft` under the tenant's private skills.
 */
describe("aegis-skill publish: the five-minute walkthrough", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  const name = `cli-${Date.now().toString(36)}`;
  let work = "";
  let dir = "";
  let token = "";
  let apiKey = "";

  async function api(path: string, init: RequestInit = {}) {
    const res = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON bodies loosely and asserts on them
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  }

  beforeAll(async () => {
    // Built when missing or older than the source, so that the test never runs a stale `publish`.
    const bundle = join(SDK, "dist/cli.gen.mjs");
    if (!existsSync(bundle) || statSync(bundle).mtimeMs < statSync(join(SDK, "src/cli.ts")).mtimeMs) {
      const build = spawnSync(process.execPath, [join(SDK, "build.mjs")], { encoding: "utf8" });
      expect(build.status, build.stderr).toBe(0);
    }
    work = await mkdtemp(join(tmpdir(), "aegis-e2e-cli-"));
    dir = join(work, name);
  });
  afterAll(async () => {
    if (token && apiKey) {
      const keys = await api("/api/dashboard/settings/api-keys");
      for (const key of keys.body?.data ?? [])
        if (key.name === name) await api(`/api/dashboard/settings/api-keys/${key.id}`, { method: "DELETE" });
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("init, test and pack a new skill", () => {
    const init = cli(["init", name], work);
    expect(init.code, init.out).toBe(0);
    const test = cli(["test"], dir);
    expect(test.code, test.out).toBe(0);
    const pack = cli(["pack"], dir);
    expect(pack.code, pack.out).toBe(0);
    expect(pack.out).toMatch(new RegExp(`${name}-0\\.1\\.0\\.tgz`));
    expect(pack.out).toMatch(/sha256 [0-9a-f]{64}/);
  });

  it("the demo admin creates an API key with role tenant_admin", async () => {
    const login = await api("/api/auth/login", {
      method: "POST",
      body: JSON.stringify({ email: "admin@demo.local", password }),
    });
    expect(login.status).toBe(200);
    token = login.body.accessToken;
    const created = await api("/api/dashboard/settings/api-keys", {
      method: "POST",
      body: JSON.stringify({ name, role: "tenant_admin" }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    apiKey = created.body.key;
    expect(apiKey).toMatch(/^aegis_/);
  });

  it("publish uploads the package as a draft, and the private skills list shows it", async () => {
    const sha = /sha256 ([0-9a-f]{64})/.exec(cli(["pack"], dir).out)?.[1];
    const publish = cli(["publish", "--url", baseUrl], dir, { AEGIS_API_KEY: apiKey });
    expect(publish.code, publish.out).toBe(0);
    expect(publish.out).toContain(`published ${name}@0.1.0 as draft (sha256 ${sha})`);
    expect(publish.out).not.toContain(apiKey);
    const versionId = /version id (\S+)/.exec(publish.out)?.[1];

    const list = await api("/api/dashboard/skills/private");
    expect(list.status).toBe(200);
    const skill = list.body.data.find((s: { name: string }) => s.name === name);
    expect(skill, JSON.stringify(list.body.data.map((s: { name: string }) => s.name))).toBeDefined();
    const version = skill.versions.find((v: { version: string }) => v.version === "0.1.0");
    expect(version).toMatchObject({ id: versionId, status: "draft", sha256: sha });
  });

  it("publishing the same version again exits 1 and names version_exists", () => {
    const again = cli(["publish", dir, "--url", baseUrl, "--api-key", apiKey], work);
    expect(again.code, again.out).toBe(1);
    expect(again.out).toContain("version_exists");
    expect(again.out).not.toContain(apiKey);
  });
});
