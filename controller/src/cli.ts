// aegis-controller: `register` once with the token the dashboard showed, then `run`.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Controller } from "./controller";
import { CredentialStore } from "./credentials";
import type { Driver } from "./driver";
import { LocalDriver } from "./local/driver";

const USAGE = `Usage: aegis-controller <command> [options]

Commands:
  register --url <platform> --token <registration token> [--name <cluster name>] [--state-dir <dir>]
           exchange the one-time registration token for the cluster's credential (kept in <dir>)
  run [--state-dir <dir>] [--driver local|kubernetes] [--kubeconfig <file>]
           connect to the platform and run the desired agents: as child processes (local), or as
           Deployments applied server-side to the cluster of the kubeconfig (default: in-cluster or
           ~/.kube/config). Images: AEGIS_AGENT_IMAGE, AEGIS_EGRESS_PROXY_IMAGE.

The state folder defaults to ./.aegis-controller and holds the cluster credential (mode 0600).`;

interface Saved {
  url: string;
  clusterId: string;
  credential: string;
  /** The key the egress proxies derive agents' proxy credentials from (made on first run). */
  proxyKey?: string;
}

function flags(args: readonly string[], names: readonly string[]): Map<string, string> | string {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") ? arg.slice(2, eq > 0 ? eq : undefined) : null;
    if (!name || !names.includes(name)) return `unknown argument ${arg}`;
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (!value) return `--${name} needs a value`;
    out.set(name, value);
  }
  return out;
}

const stateFile = (dir: string) => join(dir, "controller.json");

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (command === "register") {
    const f = flags(args, ["url", "token", "name", "state-dir"]);
    if (typeof f === "string") return (err(`aegis-controller register: ${f}\n${USAGE}`), 2);
    const url = f.get("url");
    const token = f.get("token");
    if (!url || !token)
      return (err(`aegis-controller register: --url and --token are required\n${USAGE}`), 2);
    const dir = resolve(f.get("state-dir") ?? ".aegis-controller");
    const res = await fetch(`${url.replace(/\/$/, "")}/controller/v1/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ registrationToken: token, clusterName: f.get("name") ?? hostname() }),
    });
    const body = (await res.json().catch(() => null)) as {
      clusterId?: string;
      credential?: string;
      code?: string;
    };
    if (!res.ok || !body?.clusterId || !body.credential) {
      err(`aegis-controller: registration refused (${res.status} ${body?.code ?? ""}); tokens work once`);
      return 1;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = `${stateFile(dir)}.tmp`;
    await writeFile(
      temp,
      JSON.stringify({ url, clusterId: body.clusterId, credential: body.credential } satisfies Saved),
      {
        mode: 0o600,
      },
    );
    await rename(temp, stateFile(dir));
    out(`registered as ${body.clusterId}; the credential is in ${stateFile(dir)}`);
    return 0;
  }
  if (command === "run") {
    const f = flags(args, ["state-dir", "driver", "kubeconfig"]);
    if (typeof f === "string") return (err(`aegis-controller run: ${f}\n${USAGE}`), 2);
    const dir = resolve(f.get("state-dir") ?? ".aegis-controller");
    let saved: Saved;
    try {
      saved = JSON.parse(await readFile(stateFile(dir), "utf8")) as Saved;
    } catch {
      err(`aegis-controller: no registration in ${dir}; run \`aegis-controller register\` first`);
      return 1;
    }
    const driverName = f.get("driver") ?? "local";
    if (driverName !== "local" && driverName !== "kubernetes") {
      err(`aegis-controller: unknown driver ${driverName}; use local or kubernetes`);
      return 2;
    }
    if (!saved.proxyKey) {
      saved.proxyKey = randomBytes(32).toString("hex");
      await writeFile(stateFile(dir), JSON.stringify(saved), { mode: 0o600 });
    }
    let driver: Driver;
    if (driverName === "kubernetes") {
      const { KubeConfig } = await import("@kubernetes/client-node");
      const kubeConfig = new KubeConfig();
      const file = f.get("kubeconfig");
      if (file) kubeConfig.loadFromFile(file);
      else kubeConfig.loadFromDefault();
      const { KubernetesDriver } = await import("./kubernetes/driver");
      driver = new KubernetesDriver({
        kubeConfig,
        platformUrl: saved.url,
        clusterId: saved.clusterId,
        proxyKey: saved.proxyKey,
        images: {
          agentRuntime: process.env.AEGIS_AGENT_IMAGE ?? "ghcr.io/aegis/agent-runtime:0.1.0",
          egressProxy: process.env.AEGIS_EGRESS_PROXY_IMAGE ?? "ghcr.io/aegis/egress-proxy:0.1.0",
        },
      });
    } else {
      const runtime = fileURLToPath(new URL("./agent-runtime.gen.mjs", import.meta.url));
      driver = new LocalDriver({
        platformUrl: saved.url,
        runtimeCommand: [process.execPath, runtime],
        onOutput: (agentId, line) => out(`[${agentId}] ${line}`),
      });
    }
    const controller = new Controller({
      url: saved.url,
      clusterId: saved.clusterId,
      credential: saved.credential,
      driver,
      credentials: new CredentialStore(join(dir, "credentials.json"), saved),
      log: (level, message, data) => out(JSON.stringify({ level, message, ...data })),
    });
    controller.start();
    await new Promise<void>((done) => {
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => done());
    });
    await controller.stop();
    return 0;
  }
  if (command === undefined || command === "help" || command === "--help") {
    out(USAGE);
    return command === undefined ? 2 : 0;
  }
  err(`aegis-controller: unknown command ${command}\n${USAGE}`);
  return 2;
}
