// The egress proxy: every agent's only way out of its network (the NetworkPolicy allows DNS and this
// proxy, nothing else). It speaks HTTP CONNECT (for https) and plain forward proxying (for http),
// identifies the agent by `Proxy-Authorization: Basic <agentId:secret>`, and lets a request through
// only to a domain the agent's installed skills declare (`network.allowedDomains`: exact hosts and
// `*.` wildcards, the same matcher the skill context uses). IP literals, other ports than 80/443 and
// hosts that resolve to private, loopback or link-local addresses are refused. In `log-only` mode a
// would-be block is reported and let through, so a tenant can see what its agents reach before
// enforcing. Every block is reported (agent, domain, time).
import { createHmac, timingSafeEqual } from "node:crypto";
import { lookup } from "node:dns/promises";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { isIP, type Socket, connect as tcpConnect } from "node:net";
import type { Duplex } from "node:stream";
import { domainAllowed, isIpLiteral } from "../../../sdk/skill-sdk/src/policy";

export type EgressMode = "enforce" | "log-only";

export interface EgressEvent {
  agentId: string;
  domain: string;
  at: string;
  /** log-only: the request went through; it would have been blocked in enforce mode. */
  wouldBlock: boolean;
  reason: "not_declared" | "ip_literal" | "port" | "private_address";
}

export interface EgressPolicies {
  /** The agent's allowed domains, or undefined for an agent this proxy does not serve. */
  allowedDomains(agentId: string): readonly string[] | undefined;
  mode(agentId: string): EgressMode;
}

/** Opens the TCP connection to an allowed destination (the default resolves and refuses private addresses). */
export type Dialer = (host: string, port: number) => Promise<Socket>;

export interface EgressProxyOptions {
  policies: EgressPolicies;
  /** The key agents' proxy secrets derive from (`proxySecret(key, agentId)`). */
  key: string;
  onEvent: (event: EgressEvent) => void;
  dial?: Dialer;
  host?: string;
  port?: number;
}

export interface EgressProxy {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The secret an agent presents to the proxy: HMAC of its id, so the proxy keeps no per-agent state. */
export function proxySecret(key: string, agentId: string): string {
  return createHmac("sha256", key).update(`aegis-egress:${agentId}`).digest("hex").slice(0, 40);
}

/** `http://<agentId>:<secret>@host:port`, for the agent's HTTP_PROXY / HTTPS_PROXY. */
export function proxyUrlFor(
  proxy: { port: number },
  key: string,
  agentId: string,
  host = "127.0.0.1",
): string {
  return `http://${encodeURIComponent(agentId)}:${proxySecret(key, agentId)}@${host}:${proxy.port}`;
}

/** Private, loopback, link-local, CGNAT, multicast and unspecified ranges (IPv4 and IPv6). */
export function isPrivateAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) {
    const [a = 0, b = 0] = address.split(".").map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  if (v === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
    if (mapped) return isPrivateAddress(mapped);
    return (
      lower === "::" ||
      lower === "::1" ||
      lower.startsWith("fc") ||
      lower.startsWith("fd") ||
      lower.startsWith("fe8") ||
      lower.startsWith("fe9") ||
      lower.startsWith("fea") ||
      lower.startsWith("feb") ||
      lower.startsWith("ff")
    );
  }
  return true;
}

class PrivateAddressError extends Error {}

/** Resolves `host` and connects to its first public address; a private answer is refused. */
export const publicDialer: Dialer = async (host, port) => {
  const answers = await lookup(host, { all: true });
  const usable = answers.find((a) => !isPrivateAddress(a.address));
  if (!usable || answers.some((a) => isPrivateAddress(a.address))) {
    throw new PrivateAddressError(`${host} resolves to a private address`);
  }
  return new Promise<Socket>((ok, fail) => {
    const socket = tcpConnect({ host: usable.address, port }, () => ok(socket));
    socket.once("error", fail);
  });
};

function agentOf(header: string | undefined, key: string): string | null {
  if (!header?.startsWith("Basic ")) return null;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  const agentId = decodeURIComponent(decoded.slice(0, colon));
  const given = Buffer.from(decoded.slice(colon + 1));
  const expected = Buffer.from(proxySecret(key, agentId));
  return given.length === expected.length && timingSafeEqual(given, expected) ? agentId : null;
}

type Verdict = { ok: true; logged?: EgressEvent["reason"] } | { ok: false; reason: EgressEvent["reason"] };

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const dial = options.dial ?? publicDialer;
  const report = (agentId: string, domain: string, reason: EgressEvent["reason"], wouldBlock: boolean) =>
    options.onEvent({ agentId, domain, at: new Date().toISOString(), wouldBlock, reason });

  /** Whether the agent may reach host:port; in log-only mode a refusal is reported and allowed. */
  const decide = (agentId: string, host: string, port: number): Verdict => {
    const domains = options.policies.allowedDomains(agentId) ?? [];
    let reason: EgressEvent["reason"] | null = null;
    if (isIP(host) || isIpLiteral(host)) reason = "ip_literal";
    else if (port !== 80 && port !== 443) reason = "port";
    else if (!domainAllowed({ permissions: { network: { allowedDomains: [...domains] } } } as never, host))
      reason = "not_declared";
    if (reason === null) return { ok: true };
    if (options.policies.mode(agentId) === "log-only" && reason === "not_declared") {
      report(agentId, host, reason, true);
      return { ok: true, logged: reason };
    }
    report(agentId, host, reason, false);
    return { ok: false, reason };
  };

  const refuse = (
    res: ServerResponse,
    status: number,
    message: string,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "x-aegis-egress": "blocked",
      ...extra,
    });
    res.end(`aegis egress: ${message}\n`);
  };

  /** Plain HTTP through the proxy: the request line carries the absolute URL. */
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const agentId = agentOf(req.headers["proxy-authorization"], options.key);
    if (!agentId || options.policies.allowedDomains(agentId) === undefined) {
      refuse(res, 407, "proxy authentication required", {
        "proxy-authenticate": 'Basic realm="aegis-egress"',
      });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? "");
      if (url.protocol !== "http:") throw new Error("not http");
    } catch {
      refuse(res, 400, "absolute http:// URLs only; use CONNECT for https");
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port || 80);
    const verdict = decide(agentId, host, port);
    if (!verdict.ok) {
      refuse(res, 403, `${host} is not allowed for agent ${agentId} (${verdict.reason})`);
      return;
    }
    let socket: Socket;
    try {
      socket = await dial(host, port);
    } catch (err) {
      if (err instanceof PrivateAddressError) {
        report(agentId, host, "private_address", false);
        refuse(res, 403, `${host} resolves to a private address`);
      } else refuse(res, 502, `could not reach ${host}`);
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = httpRequest({
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers,
      createConnection: () => socket,
    });
    upstream.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) refuse(res, 502, `could not reach ${host}`);
      else res.destroy();
    });
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    void forward(req, res);
  });

  server.on("connect", async (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const fail = (status: number, text: string, extra = "") => {
      client.end(
        `HTTP/1.1 ${status} ${text}\r\nx-aegis-egress: blocked\r\n${extra}content-length: 0\r\nconnection: close\r\n\r\n`,
      );
    };
    const agentId = agentOf(req.headers["proxy-authorization"], options.key);
    if (!agentId || options.policies.allowedDomains(agentId) === undefined) {
      fail(407, "Proxy Authentication Required", 'proxy-authenticate: Basic realm="aegis-egress"\r\n');
      return;
    }
    const target = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? "");
    if (!target) {
      fail(400, "Bad Request");
      return;
    }
    const host = target[1] ?? "";
    const port = Number(target[2]);
    const verdict = decide(agentId, host, port);
    if (!verdict.ok) {
      fail(403, "Forbidden");
      return;
    }
    let upstream: Socket;
    try {
      upstream = await dial(host, port);
    } catch (err) {
      if (err instanceof PrivateAddressError) {
        report(agentId, host, "private_address", false);
        fail(403, "Forbidden");
      } else fail(502, "Bad Gateway");
      return;
    }
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
    const end = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on("error", end);
    client.on("error", end);
  });

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => ok());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the egress proxy has no port");
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
