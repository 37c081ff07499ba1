// Vitest global setup for the k8s suite: a real kube-apiserver 1.20 + etcd on 127.0.0.1 (ports 16443
// and 23790), from scripts/k8s (copies of ../shared/k8s). The binaries are built once (about 6 minutes, as root,
// from Debian's source package) into AEGIS_K8S_CACHE (default ~/.cache/aegis-k8s), outside the repo.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";

const root = resolve(import.meta.dirname, "..");
// Copied from ../shared/k8s (its README says what the server can and cannot show).
const shared = resolve(root, "scripts/k8s");

export default async function setup(project: TestProject) {
  const cache = process.env.AEGIS_K8S_CACHE ?? join(homedir(), ".cache", "aegis-k8s");
  const bin = join(cache, "bin");
  if (!existsSync(join(bin, "kube-apiserver")) || !existsSync(join(bin, "etcd"))) {
    process.stdout.write(`k8s: building kube-apiserver + etcd into ${cache} (once, about 6 minutes)…\n`);
    const build = spawnSync("bash", [join(shared, "build-local-apiserver.sh"), cache], { stdio: "inherit" });
    if (build.status !== 0) {
      throw new Error(
        `building the local kube-apiserver failed (exit ${build.status}); it needs root and the Debian registry: ` +
          `sudo bash ${join(shared, "build-local-apiserver.sh")} ${cache}`,
      );
    }
  }
  const runDir = mkdtempSync(join(tmpdir(), "aegis-k8s-run-"));
  execFileSync("bash", [join(shared, "start-local-apiserver.sh"), bin, runDir], { stdio: "inherit" });
  project.provide("kubeServer", "https://127.0.0.1:16443");
  project.provide("kubeToken", "test-token");
  return () => {
    for (const pid of ["apiserver.pid", "etcd.pid"]) {
      try {
        process.kill(Number(readFileSync(join(runDir, pid), "utf8")), "SIGTERM");
      } catch {}
    }
    rmSync(runDir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    kubeServer: string;
    kubeToken: string;
  }
}
