import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSkillContext, type OutgoingMessage } from "./context";
import { PermissionDeniedError } from "./errors";
import { noPermissions, type SkillManifest } from "./manifest";
import { createMessagesApiModel } from "./messages-api";
import { createNodeHost, type NodeSkillHost } from "./node-host";
import { type LocalServer, startFakeMessagesApi, startLocalServer } from "./node-testing";

function manifestWith(
  change: (permissions: SkillManifest["permissions"]) => void,
  name = "probe",
): SkillManifest {
  const permissions = noPermissions();
  change(permissions);
  return {
    manifestVersion: 1,
    name,
    version: "1.0.0",
    displayName: "Probe",
    description: "Exercises the context.",
    category: "data",
    entry: "src/index.ts",
    runtime: "js",
    permissions,
  };
}

let api: LocalServer;
let model: Awaited<ReturnType<typeof startFakeMessagesApi>>;
let workspace: string;
let host: NodeSkillHost;
let sent: OutgoingMessage[];

beforeAll(async () => {
  api = await startLocalServer((request) => {
    if (request.url === "/redirect-out")
      return { status: 302, headers: { location: "https://evil.example.net/steal" } };
    if (request.url === "/redirect-in")
      return { status: 307, headers: { location: "https://cdn.example.com/landing" } };
    return {
      body: { path: request.url, method: request.method, host: request.headers["x-forwarded-host"] ?? null },
    };
  });
  model = await startFakeMessagesApi((request) => `echo: ${request.messages.at(-1)?.content ?? ""}`);
});

afterAll(async () => {
  await api.close();
  await model.close();
});

beforeEach(async () => {
  api.requests.length = 0;
  sent = [];
  workspace = await mkdtemp(join(tmpdir(), "aegis-ctx-"));
  host = await createNodeHost({
    workspaceRoot: join(workspace, "root"),
    env: { GITHUB_TOKEN: "ghp_test", AWS_SECRET_ACCESS_KEY: "do-not-leak" },
    // Every name resolves to the local server, so only the context's policy decides what is reached.
    routes: {
      "api.example.com": api.origin,
      "cdn.example.com": api.origin,
      "evil.example.net": api.origin,
    },
    sendMessage: async (message) => {
      sent.push(message);
      return { id: `msg_${sent.length}`, status: "queued" };
    },
    callModel: createMessagesApiModel({ url: model.url, defaultModel: "claude-test" }),
  });
});

afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe("ctx.fetch", () => {
  it("reaches a declared domain and reports the use", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.network.allowedDomains.push("api.example.com")),
      host,
    );
    const response = await ctx.fetch("https://api.example.com/hello?x=1");
    expect(await response.json()).toEqual({ path: "/hello?x=1", method: "GET", host: "api.example.com" });
    expect(host.permissionLog).toEqual([
      { skill: "probe", kind: "network", target: "api.example.com", allowed: true },
    ]);
  });

  it("refuses an undeclared domain before any request is made, and reports it", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.network.allowedDomains.push("api.example.com")),
      host,
    );
    const attempt = ctx.fetch("https://evil.example.net/steal");
    await expect(attempt).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(attempt).rejects.toMatchObject({ kind: "network", target: "evil.example.net" });
    expect(api.requests).toHaveLength(0);
    expect(host.permissionLog).toMatchObject([
      { kind: "network", target: "evil.example.net", allowed: false },
    ]);
  });

  it("refuses IP-literal hosts even though the server is listening there", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.network.allowedDomains.push("*.example.com")),
      host,
    );
    await expect(ctx.fetch(`${api.origin}/hello`)).rejects.toMatchObject({
      kind: "network",
      target: "127.0.0.1",
    });
    await expect(ctx.fetch("http://[::1]/")).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(ctx.fetch("http://2130706433/")).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(api.requests).toHaveLength(0);
  });

  it("refuses other schemes and explicit ports", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.network.allowedDomains.push("api.example.com")),
      host,
    );
    await expect(ctx.fetch("file:///etc/passwd")).rejects.toMatchObject({ kind: "network", target: "file:" });
    await expect(ctx.fetch("https://api.example.com:8443/")).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(api.requests).toHaveLength(0);
  });

  it("refuses a redirect to an undeclared domain", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.network.allowedDomains.push("api.example.com")),
      host,
    );
    await expect(ctx.fetch("https://api.example.com/redirect-out")).rejects.toMatchObject({
      kind: "network",
      target: "evil.example.net",
    });
    expect(api.requests.map((request) => request.url)).toEqual(["/redirect-out"]);
  });

  it("follows a redirect between declared domains without carrying credentials across", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.network.allowedDomains.push("*.example.com")),
      host,
    );
    const response = await ctx.fetch("https://api.example.com/redirect-in", {
      method: "POST",
      headers: { authorization: "Bearer secret", "content-type": "text/plain" },
      body: "payload",
    });
    expect(await response.json()).toEqual({ path: "/landing", method: "POST", host: "cdn.example.com" });
    const [first, second] = api.requests;
    expect(first?.headers.authorization).toBe("Bearer secret");
    expect(second?.headers.authorization).toBeUndefined();
    expect(second?.body).toBe("payload");
  });
});

describe("ctx.fs", () => {
  it("reads and writes inside declared paths only", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => {
        p.files.readPaths.push("notes/");
        p.files.writePaths.push("reports/*.md");
      }),
      host,
    );
    await mkdir(join(host.workspaceRoot, "notes"), { recursive: true });
    await writeFile(join(host.workspaceRoot, "notes", "a.md"), "hello");
    expect(await ctx.fs.read("notes/a.md")).toBe("hello");
    expect(await ctx.fs.read("notes/missing.md")).toBeNull();

    await ctx.fs.write("reports/weekly.md", "# Weekly");
    expect(await readFile(join(host.workspaceRoot, "reports", "weekly.md"), "utf8")).toBe("# Weekly");

    await expect(ctx.fs.write("reports/weekly.csv", "x")).rejects.toMatchObject({
      kind: "file_write",
      target: "reports/weekly.csv",
    });
    await expect(ctx.fs.read("reports/weekly.md")).rejects.toMatchObject({ kind: "file_read" });
    await expect(ctx.fs.read("notes/../secrets.txt")).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(ctx.fs.read("/etc/passwd")).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(host.permissionLog.filter((event) => !event.allowed).map((event) => event.kind)).toEqual([
      "file_write",
      "file_read",
      "file_read",
      "file_read",
    ]);
  });

  it("lists only files the skill may read", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.files.readPaths.push("notes/")),
      host,
    );
    await mkdir(join(host.workspaceRoot, "notes", "deep"), { recursive: true });
    await writeFile(join(host.workspaceRoot, "notes", "a.md"), "a");
    await writeFile(join(host.workspaceRoot, "notes", "deep", "b.md"), "b");
    await writeFile(join(host.workspaceRoot, "secret.txt"), "s");
    expect(await ctx.fs.list()).toEqual(["notes/a.md", "notes/deep/b.md"]);
    expect(await ctx.fs.list("notes/deep")).toEqual(["notes/deep/b.md"]);
    await expect(ctx.fs.list("private/")).rejects.toBeInstanceOf(PermissionDeniedError);
  });
});

describe("ctx.env", () => {
  it("gives declared variables and refuses the rest, even when the host has them", () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.env.required.push("GITHUB_TOKEN")),
      host,
    );
    expect(ctx.env.get("GITHUB_TOKEN")).toBe("ghp_test");
    expect(() => ctx.env.get("AWS_SECRET_ACCESS_KEY")).toThrow(PermissionDeniedError);
    expect(host.permissionLog).toMatchObject([
      { kind: "env", target: "GITHUB_TOKEN", allowed: true },
      { kind: "env", target: "AWS_SECRET_ACCESS_KEY", allowed: false },
    ]);
  });
});

describe("ctx.messages", () => {
  it("sends declared types and refuses others without sending anything", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.messages.send.push("notification")),
      host,
    );
    await expect(
      ctx.messages.send({ to: "agent-b", type: "notification", payload: { text: "hi" } }),
    ).resolves.toEqual({
      id: "msg_1",
      status: "queued",
    });
    await expect(
      ctx.messages.send({ to: "agent-b", type: "task_handoff", payload: {} }),
    ).rejects.toMatchObject({
      kind: "message",
      target: "task_handoff",
    });
    expect(sent).toEqual([{ to: "agent-b", type: "notification", payload: { text: "hi" } }]);
  });

  it("refuses payloads over 64 KiB", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => p.messages.send.push("data_response")),
      host,
    );
    const payload = { blob: "x".repeat(64 * 1024) };
    await expect(ctx.messages.send({ to: "agent-b", type: "data_response", payload })).rejects.toMatchObject({
      code: "payload_too_large",
    });
    expect(sent).toEqual([]);
  });
});

describe("ctx.model", () => {
  it("calls the gateway when the manifest allows it", async () => {
    const ctx = createSkillContext(
      manifestWith((p) => (p.models.gateway = true)),
      host,
    );
    const response = await ctx.model.complete({
      system: "Be brief.",
      maxTokens: 50,
      messages: [{ role: "user", content: "ping" }],
    });
    expect(response.text).toBe("echo: ping");
    expect(response.usage).toEqual({
      inputTokens: "Be brief.ping".length,
      outputTokens: "echo: ping".length,
    });
    expect(model.calls.at(-1)).toMatchObject({ model: "claude-test", max_tokens: 50, system: "Be brief." });
  });

  it("refuses when the manifest does not ask for the gateway", async () => {
    const before = model.calls.length;
    const ctx = createSkillContext(
      manifestWith(() => {}),
      host,
    );
    await expect(
      ctx.model.complete({ maxTokens: 10, messages: [{ role: "user", content: "ping" }] }),
    ).rejects.toMatchObject({ kind: "model" });
    expect(model.calls.length).toBe(before);
  });
});

describe("isolation", () => {
  it("cannot widen its permissions by editing the manifest it was given", async () => {
    const ctx = createSkillContext(
      manifestWith(() => {}),
      host,
    );
    expect(() => ctx.manifest.permissions.network.allowedDomains.push("evil.example.net")).toThrow(TypeError);
    await expect(ctx.fetch("https://evil.example.net/")).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  it("keeps each skill's memory apart", async () => {
    const first = createSkillContext(
      manifestWith(() => {}, "first"),
      host,
    );
    const second = createSkillContext(
      manifestWith(() => {}, "second"),
      host,
    );
    await first.kv.put("token", "first-secret");
    expect(await second.kv.get("token")).toBeNull();
    expect(await second.kv.list()).toEqual([]);
    expect(await first.kv.list()).toEqual(["token"]);
  });
});
