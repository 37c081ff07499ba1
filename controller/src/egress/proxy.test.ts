// The egress proxy for real: sockets on loopback, a fixture HTTP server playing the internet, and the
// proxy in between, as an agent runtime would use it (HTTP_PROXY / HTTPS_PROXY with its secret).
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Dialer,
  type EgressEvent,
  type EgressMode,
  type EgressProxy,
  isPrivateAddress,
  proxySecret,
  startEgressProxy,
} from "./proxy";

const KEY = "test-proxy-key";
let fixture: Server;
let fixturePort = 0;
const seen: Array<{ host?: string; url?: string; auth?: string }> = [];
const allowed = new Map<string, string[]>();
const modes = new Map<string, EgressMode>();
const events: EgressEvent[] = [];
let proxy: EgressProxy;
let defaultDialerProxy: EgressProxy;

/** Every public name "resolves" to the fixture server on loopback: it plays the internet. */
const toFixture: Dialer = (_host, _port) =>
  new Promise<Socket>((ok, fail) => {
    const s = connect({ host: "127.0.0.1", port: fixturePort }, () => ok(s));
    s.once("error", fail);
  });

beforeAll(async () => {
  fixture = createServer((req: IncomingMessage, res) => {
    seen.push({ host: req.headers.host, url: req.url, auth: req.headers["proxy-authorization"] as string });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ host: req.headers.host, path: req.url }));
  });
  await new Promise<void>((ok) => fixture.listen(0, "127.0.0.1", ok));
  fixturePort = (fixture.address() as { port: number }).port;
  const policies = {
    allowedDomains: (agentId: string) => allowed.get(agentId),
    mode: (agentId: string) => modes.get(agentId) ?? "enforce",
  };
  proxy = await startEgressProxy({ policies, key: KEY, onEvent: (e) => events.push(e), dial: toFixture });
  defaultDialerProxy = await startEgressProxy({ policies, key: KEY, onEvent: (e) => events.push(e) });
});

afterAll(async () => {
  await proxy.close();
  await defaultDialerProxy.close();
  await new Promise((ok) => fixture.close(ok));
});

beforeEach(() => {
  allowed.clear();
  modes.clear();
  events.length = 0;
  seen.length = 0;
  allowed.set("agt_a", ["api.example.com", "*.example.net"]);
});

const basic = (agentId: string, secret = proxySecret(KEY, agentId)) =>
  `Basic ${Buffer.from(`${agentId}:${secret}`).toString("base64")}`;

/** A plain-HTTP request through the proxy (absolute URL in the request line). */
function viaProxy(
  url: string,
  auth: string | null = basic("agt_a"),
  through: EgressProxy = proxy,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const target = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({
      host: "127.0.0.1",
      port: through.port,
      path: url,
      headers: { host: target.host, ...(auth ? { "proxy-authorization": auth } : {}) },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => ok({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** CONNECT host:port through the proxy; on success, an HTTP request through the tunnel. */
function tunnel(
  target: string,
  auth: string | null = basic("agt_a"),
): Promise<{ status: number; body?: string }> {
  return new Promise((ok, fail) => {
    const req = request({
      host: "127.0.0.1",
      port: proxy.port,
      method: "CONNECT",
      path: target,
      headers: auth ? { "proxy-authorization": auth } : {},
    });
    req.on("connect", (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        ok({ status: res.statusCode ?? 0 });
        return;
      }
      socket.write(
        `GET /through-tunnel HTTP/1.0\r\nhost: ${target.split(":")[0]}\r\nconnection: close\r\n\r\n`,
      );
      let raw = "";
      socket.on("data", (c) => {
        raw += c;
      });
      socket.on("end", () => ok({ status: 200, body: raw.slice(raw.indexOf("\r\n\r\n") + 4) }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("egress proxy", () => {
  it("forwards an allowed http request and strips the proxy credential", async () => {
    const res = await viaProxy("http://api.example.com/v1/items?x=1");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ host: "api.example.com", path: "/v1/items?x=1" });
    expect(seen[0]?.auth).toBeUndefined();
    expect(events).toEqual([]);
  });

  it("matches *. wildcards at any depth but not the bare domain", async () => {
    expect((await viaProxy("http://eu.data.example.net/")).status).toBe(200);
    expect((await viaProxy("http://example.net/")).status).toBe(403);
  });

  it("blocks an undeclared domain with 403 and reports it", async () => {
    const res = await viaProxy("http://exfil.example.org/steal");
    expect(res.status).toBe(403);
    expect(res.headers["x-aegis-egress"]).toBe("blocked");
    expect(seen).toEqual([]);
    expect(events).toEqual([
      {
        agentId: "agt_a",
        domain: "exfil.example.org",
        at: expect.any(String),
        wouldBlock: false,
        reason: "not_declared",
      },
    ]);
  });

  it("log-only lets an undeclared domain through and reports that it would have blocked it", async () => {
    modes.set("agt_a", "log-only");
    const res = await viaProxy("http://exfil.example.org/steal");
    expect(res.status).toBe(200);
    expect(events).toMatchObject([{ domain: "exfil.example.org", wouldBlock: true, reason: "not_declared" }]);
  });

  it("refuses IP literals and other ports, in log-only mode too", async () => {
    modes.set("agt_a", "log-only");
    expect((await viaProxy("http://93.184.216.34/")).status).toBe(403);
    expect((await viaProxy("http://[2606:2800:220:1::]/")).status).toBe(403);
    expect((await viaProxy("http://api.example.com:8080/")).status).toBe(403);
    expect(events.map((e) => [e.reason, e.wouldBlock])).toEqual([
      ["ip_literal", false],
      ["ip_literal", false],
      ["port", false],
    ]);
  });

  it("asks for credentials (407) when they are missing, wrong or for an agent it does not serve", async () => {
    expect((await viaProxy("http://api.example.com/", null)).status).toBe(407);
    expect((await viaProxy("http://api.example.com/", basic("agt_a", "wrong"))).status).toBe(407);
    expect((await viaProxy("http://api.example.com/", basic("agt_unknown"))).status).toBe(407);
    expect((await tunnel("api.example.com:443", null)).status).toBe(407);
    expect(seen).toEqual([]);
  });

  it("tunnels CONNECT to an allowed host and refuses others", async () => {
    const ok = await tunnel("api.example.com:443");
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body ?? "{}")).toEqual({ host: "api.example.com", path: "/through-tunnel" });
    expect((await tunnel("exfil.example.org:443")).status).toBe(403);
    expect((await tunnel("10.0.0.5:443")).status).toBe(403);
    expect(events.map((e) => e.reason)).toEqual(["not_declared", "ip_literal"]);
  });

  it("a domain added by a new skill version is allowed only once the agent's policy has it", async () => {
    expect((await viaProxy("http://hooks.slack.com/x")).status).toBe(403);
    allowed.set("agt_a", ["api.example.com", "*.example.net", "hooks.slack.com"]);
    expect((await viaProxy("http://hooks.slack.com/x")).status).toBe(200);
  });

  it("the real resolver refuses names that resolve to private addresses", async () => {
    allowed.set("agt_a", ["localhost"]);
    const res = await viaProxy("http://localhost/", basic("agt_a"), defaultDialerProxy);
    expect(res.status).toBe(403);
    expect(res.body).toContain("private address");
    expect(events).toMatchObject([{ domain: "localhost", reason: "private_address", wouldBlock: false }]);
  });

  it("knows the private ranges", () => {
    for (const a of [
      "10.1.2.3",
      "127.0.0.1",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:10.0.0.1",
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ["93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:2800:220:1::", "::ffff:8.8.8.8"])
      expect(isPrivateAddress(a), a).toBe(false);
  });
});
