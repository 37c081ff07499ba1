import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { benchStateDir, provisionTenant, startPlatform } from "../scripts/lib/proc.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const CONTROLLER = join(ROOT, "controller/bin/aegis-controller.mjs");

/**
 * A platform restart under a running controller (local driver): a platform of this test's own, stopped
 * and started again on the same state and port. The controller reconnects by itself and re-applies the
 * same generation; nothing is applied twice wrongly (no agent runtime is restarted, the generation does
 * not move) and the agents are running again.
 */
describe("controller across a platform restart", () => {
  let platform: Awaited<ReturnType<typeof startPlatform>> | null = null;
  let stateDir = "";
  let controllerState = "";
  let controller: ChildProcess | null = null;

  afterAll(async () => {
    if (controller && controller.exitCode === null) {
      const exited = new Promise((r) => controller?.once("exit", r));
      controller.kill("SIGTERM");
      await exited;
    }
    await platform?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    if (controllerState) await rm(controllerState, { recursive: true, force: true });
  });

  it("reconnects, re-applies the same generation and restarts nothing", async () => {
    expect(spawnSync(process.execPath, [join(ROOT, "controller/build.mjs")]).status).toBe(0);
    stateDir = (await benchStateDir("aegis-e2e-restart-")).dir;
    platform = await startPlatform({ stateDir });
    const port = Number(new URL(platform.base).port);
    const { api, admin, tenantId } = await provisionTenant(platform.base, platform.password, {
      name: "Restart Test",
      slug: "restart-test",
    });
    const op = (
      await api("POST", "/api/auth/login", null, { email: "admin@aegis.local", password: platform.password })
    ).accessToken;
    const agents: string[] = [];
    for (const name of ["Alpha", "Bravo"]) {
      agents.push(
        (
          await api("POST", "/api/dashboard/agents", admin, {
            name,
            modelTier: "sonnet",
            thinkingMode: "off",
          })
        ).agent.id as string,
      );
    }
    const cluster = await api("POST", "/api/admin/clusters", op, { name: "restart", tenantIds: [tenantId] });
    controllerState = await mkdtemp(join(tmpdir(), "aegis-restart-controller-"));
    const registered = spawnSync(
      process.execPath,
      [
        CONTROLLER,
        "register",
        "--url",
        platform.base,
        "--token",
        cluster.registrationToken,
        "--state-dir",
        controllerState,
      ],
      { encoding: "utf8" },
    );
    expect(registered.status, registered.stderr).toBe(0);
    controller = spawn(process.execPath, [CONTROLLER, "run", "--state-dir", controllerState], {
      stdio: "ignore",
    });

    const status = async () => (await api("GET", `/api/admin/clusters/${cluster.cluster.id}`, op)).status;
    const settled = async () => {
      const s = await status();
      expect(s.connected).toBe(true);
      expect(s.appliedGeneration).toBe(s.desiredGeneration);
      for (const id of agents)
        expect(s.agents).toContainEqual(
          expect.objectContaining({ agentId: id, status: "running", restarts: 0 }),
        );
      for (const id of agents)
        expect((await api("GET", `/api/dashboard/agents/${id}`, admin)).agent.runtime.status).toBe("running");
      return s;
    };
    const before = await vi.waitFor(settled, { timeout: 60_000, interval: 250 });

    // The platform goes away and comes back on the same state and port.
    await platform.stop();
    platform = await startPlatform({ stateDir, port });

    const after = await vi.waitFor(settled, { timeout: 60_000, interval: 250 });
    expect(after.desiredGeneration).toBe(before.desiredGeneration);
    expect(after.appliedGeneration).toBe(before.appliedGeneration);
  }, 240_000);
});
