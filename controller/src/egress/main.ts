// The egress proxy as its own process (the tenant's egress-proxy Deployment): reads the per-agent
// domain allowlist the controller compiled into a ConfigMap, re-reads it when the mount changes, and
// writes every block (or would-be block) as a JSON line on stdout, where the controller collects it.
import { readFileSync, watchFile } from "node:fs";
import { type EgressMode, startEgressProxy } from "./proxy";

interface Policy {
  mode: EgressMode;
  /** The platform is reachable by every agent (its mailbox and model gateway). */
  platformHost: string;
  agents: Record<string, string[]>;
}

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (!value) throw new Error(`egress proxy: --${name} is required`);
  return value;
}

export function readPolicy(file: string): Policy {
  const raw = JSON.parse(readFileSync(file, "utf8")) as Partial<Policy>;
  return {
    mode: raw.mode === "log-only" ? "log-only" : "enforce",
    platformHost: String(raw.platformHost ?? ""),
    agents: raw.agents && typeof raw.agents === "object" ? raw.agents : {},
  };
}

async function main() {
  const file = arg("policy");
  const port = Number(arg("port", "3128"));
  const key = process.env.AEGIS_EGRESS_KEY;
  if (!key) throw new Error("egress proxy: AEGIS_EGRESS_KEY is required");
  let policy = readPolicy(file);
  // ConfigMap volumes are updated by swapping a symlink: poll the file instead of watching the inode.
  watchFile(file, { interval: 2000 }, () => {
    try {
      policy = readPolicy(file);
      process.stdout.write(
        `${JSON.stringify({ event: "policy", agents: Object.keys(policy.agents).length, mode: policy.mode })}\n`,
      );
    } catch (err) {
      process.stderr.write(
        `egress proxy: keeping the previous policy; the new one does not parse: ${String(err)}\n`,
      );
    }
  });
  const proxy = await startEgressProxy({
    key,
    host: "0.0.0.0",
    port,
    policies: {
      allowedDomains: (agentId) => {
        const domains = policy.agents[agentId];
        return domains ? [...domains, ...(policy.platformHost ? [policy.platformHost] : [])] : undefined;
      },
      mode: () => policy.mode,
    },
    onEvent: (event) => process.stdout.write(`${JSON.stringify({ event: "egress", ...event })}\n`),
  });
  process.stdout.write(`${JSON.stringify({ event: "listening", port: proxy.port })}\n`);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      void proxy.close().then(() => process.exit(0));
    });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
