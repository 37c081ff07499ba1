/**
 * Where a tenant may point a webhook: https only, never at a loopback, private, link-local or
 * otherwise non-public address, nor at `localhost` names. In development (`AEGIS_ENV ===
 * "development"`, which wrangler.toml sets for `wrangler dev` and the tests) http and https to
 * 127.0.0.1 / localhost / [::1] are allowed too, so local receivers work.
 *
 * The check is on the URL as written (IP literals in any notation are normalised by the URL
 * parser); a public name that resolves to a private address is stopped by the platform, whose
 * outbound fetch does not reach private networks, and redirects are never followed.
 */
export function webhookUrlProblem(raw: string, opts: { development: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Must be an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "Must be an https:// URL";
  if (url.username || url.password) return "Must not contain credentials";
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (!host) return "Must have a host";
  const loopback = isLocalhostName(host) || isLoopbackIp(host);
  if (opts.development && loopback) return null;
  if (isLocalName(host)) return "Must not point at localhost or a local-only name";
  const v4 = parseIpv4(host);
  if (v4 && !isPublicIpv4(v4)) return "Must not point at a private, loopback or link-local address";
  if (host.includes(":")) {
    const v6 = parseIpv6(host);
    if (!v6 || !isPublicIpv6(v6)) return "Must not point at a private, loopback or link-local address";
  }
  if (url.protocol !== "https:") return "Must be an https:// URL";
  return null;
}

function isLocalhostName(host: string) {
  return host === "localhost" || host.endsWith(".localhost");
}

function isLocalName(host: string) {
  if (isLocalhostName(host) || host === "localhost.localdomain") return true;
  if (!host.includes(".") && !host.includes(":")) return true; // a bare intranet name
  return [".local", ".internal", ".lan", ".home.arpa", ".localdomain"].some((s) => host.endsWith(s));
}

function isLoopbackIp(host: string) {
  const v4 = parseIpv4(host);
  if (v4) return v4[0] === 127;
  const v6 = host.includes(":") ? parseIpv6(host) : null;
  return v6?.slice(0, 7).every((h) => h === 0) === true && v6[7] === 1;
}

/** Dotted-quad only: the URL parser has already turned 0x7f.1, 2130706433 and friends into it. */
function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function isPublicIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127) return false; // "this network", private, loopback
  if (a === 100 && b >= 64 && b <= 127) return false; // carrier-grade NAT
  if (a === 169 && b === 254) return false; // link-local (and cloud metadata)
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  if (a >= 224) return false; // multicast, reserved, broadcast
  return true;
}

/** Eight 16-bit groups, or null. Accepts `::` compression and a trailing dotted IPv4. */
function parseIpv6(host: string): number[] | null {
  let text = host;
  const tail: number[] = [];
  const dotted = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  if (dotted?.[1]) {
    const v4 = parseIpv4(dotted[1]);
    if (!v4) return null;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    tail.push((a << 8) | b, (c << 8) | d);
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":"));
  const head = parse(halves[0] ?? "");
  const rest = halves.length === 2 ? parse(halves[1] ?? "") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const out = groups.map((g) => Number.parseInt(g, 16));
  if (tail.length) out.splice(6, 2, ...tail);
  return out;
}

function isPublicIpv6(g: number[]): boolean {
  const [g0 = 0, g1 = 0, , , , g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff];
  if (g.slice(0, 6).every((x) => x === 0)) return false; // ::, ::1, IPv4-compatible
  if (g.slice(0, 5).every((x) => x === 0) && g5 === 0xffff) return isPublicIpv4(embedded); // IPv4-mapped
  if (g0 === 0x64 && g1 === 0xff9b) return isPublicIpv4(embedded); // NAT64
  if (g0 === 0x2002) return isPublicIpv4([g1 >> 8, g1 & 0xff, (g[2] ?? 0) >> 8, (g[2] ?? 0) & 0xff]); // 6to4
  if ((g0 & 0xfe00) === 0xfc00) return false; // unique local
  if ((g0 & 0xffc0) === 0xfe80) return false; // link-local
  if ((g0 & 0xff00) === 0xff00) return false; // multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation
  return true;
}
