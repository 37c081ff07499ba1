// The egress proxy program (controller/dist/image/egress-proxy.mjs, built by the unit suite's setup)
// as its container runs it: policy from a mounted file, re-read when it changes, blocks on stdout.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxySecret } from "./proxy";

const program = resolve(import.meta.dirname, "../../dist/image/egress-proxy.mjs");
let dir = "";
let child: ChildProcess;
let port = 0;
const lines: Array<Record<string, unknown>> = [];
const waiters: Array<() => void> = [];

function next(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((ok) => {
    const check = () => {
      const found = lines.find(pred);
      if (found) {
        lines.splice(lines.indexOf(found), 1);
        ok(found);
        return true;
      }
      return false;
    };
    if (!check()) waiters.push(() => void check());
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aegis-egress-"));
  await writeFile(
    join(dir, "policy.json"),
    JSON.stringify({ mode: "enforce", platformHost: "aegis.example.com", agents: { agt_p: [] } }),
  );
  child = spawn(process.execPath, [program, "--policy", join(dir, "policy.json"), "--port", "0"], {
    env: { PATH: process.env.PATH ?? "", AEGIS_EGRESS_KEY: "key-1" },
  });
  let buffer = "";
  child.stdout?.on("data", (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      lines.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  port = Number((await next((l) => l.event === "listening")).port);
});

afterAll(async () => {
  child?.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
});

const get = (url: string, agentId = "agt_p", secret = proxySecret("key-1", agentId)) =>
  new Promise<number>((ok, fail) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path: url,
      headers: { "proxy-authorization": `Basic ${Buffer.from(`${agentId}:${secret}`).toString("base64")}` },
    });
    req.on("response", (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    req.on("error", fail);
    req.end();
  });

describe("egress proxy program", () => {
  it("blocks an undeclared domain and reports it on stdout; refuses unknown agents", async () => {
    expect(await get("http://localhost/")).toBe(403);
    expect(await next((l) => l.event === "egress")).toMatchObject({
      agentId: "agt_p",
      domain: "localhost",
      reason: "not_declared",
      wouldBlock: false,
    });
    expect(await get("http://localhost/", "agt_other")).toBe(407);
  });

  it("re-reads the policy file when it changes: a newly declared domain passes the allowlist", async () => {
    await writeFile(
      join(dir, "policy.json"),
      JSON.stringify({
        mode: "enforce",
        platformHost: "aegis.example.com",
        agents: { agt_p: ["localhost"] },
      }),
    );
    await next((l) => l.event === "policy");
    // Declared now, so the allowlist lets it through; the resolver then refuses its private address.
    expect(await get("http://localhost/")).toBe(403);
    expect(await next((l) => l.event === "egress")).toMatchObject({
      domain: "localhost",
      reason: "private_address",
    });
  });
});
