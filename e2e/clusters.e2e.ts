import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, loginAs, shot } from "./browser";

const ROOT = resolve(import.meta.dirname, "..");
const CONTROLLER = join(ROOT, "controller/bin/aegis-controller.mjs");

/**
 * The demo admin registers the workspace's own cluster on /clusters: the registration token and the two
 * controller commands show once, a reload shows the cluster pending without the token, and after
 * `aegis-controller register` exchanges the token the page shows it registered by itself (it refreshes
 * every 5 s). The agent page says the agent is not running on a connected cluster (nothing runs `run`
 * here). The operator sees the cluster on /admin/clusters with the tenant it serves. Back on /clusters the
 * demo admin switches egress to log-only (after confirming) and back to enforce; with no agent running
 * there are no suggested permissions yet.
 */
describe("clusters in the browser", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  const name = `e2e-${Date.now().toString(36)}`;
  const host = `host-${name}`;
  let state = "";
  let token = "";
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(ROOT, "controller/build.mjs")], { encoding: "utf8" });
    expect(build.status, build.stderr).toBe(0);
    state = await mkdtemp(join(tmpdir(), "aegis-e2e-cluster-"));
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("pageerror", (e) => errors.push(e.message));
    await loginAs(page, baseUrl, "admin@demo.local", password);
    await page.waitForURL(/\/agents$/);
  });
  afterAll(async () => {
    await browser?.close();
    if (state) await rm(state, { recursive: true, force: true });
  });

  it("the Clusters page opens from the navigation and a nameless cluster is refused at the field", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Clusters" }).click();
    await page.waitForURL(/\/clusters$/);
    await page.getByTestId("clusters-list").waitFor();
    const form = page.getByTestId("cluster-form");
    await form.getByRole("button", { name: "Register cluster" }).click();
    const fieldError = page.getByTestId("field-error-cluster-name");
    await fieldError.waitFor();
    expect(await fieldError.innerText()).toContain("name");
    expect(await page.getByLabel("Cluster name").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByTestId("cluster-token").count()).toBe(0);
  });

  it("registering shows the token once with the two commands to run, and the cluster pending", async () => {
    await page.getByLabel("Cluster name").fill(name);
    await page.getByTestId("cluster-form").getByRole("button", { name: "Register cluster" }).click();
    const tokenBox = page.getByTestId("cluster-token");
    await tokenBox.waitFor();
    token = (await tokenBox.innerText()).trim();
    expect(token).toMatch(/^aegis_crt_\S+$/);
    expect(await page.getByTestId("field-error-cluster-name").count()).toBe(0);

    const register = page.getByTestId("register-cluster");
    expect(await register.innerText()).toContain("will not be shown again");
    const commands = (await page.getByTestId("cluster-commands").innerText()).trim().split("\n");
    expect(commands).toHaveLength(2);
    const dir = `.aegis-controller/${name}`;
    expect(commands[0]).toBe(
      `node controller/bin/aegis-controller.mjs register --url ${baseUrl} --token ${token} --state-dir ${dir}`,
    );
    expect(commands[1]).toBe(
      `node controller/bin/aegis-controller.mjs run --state-dir ${dir} --driver local`,
    );

    const card = page.getByTestId(`cluster-${name}`);
    await card.waitFor();
    expect(await card.getByTestId("cluster-registration").getAttribute("data-status")).toBe("pending");
    expect(await card.getByTestId("cluster-connection").getAttribute("data-connected")).toBe("false");
    // The demo tenant's agents moved to its own cluster at once.
    expect(await card.innerText()).toContain("Runs your agents");
    await shot(page, "clusters-01-registered-token");
  });

  it("after a reload the token is gone and the cluster is still pending", async () => {
    await page.reload();
    const card = page.getByTestId(`cluster-${name}`);
    await card.waitFor();
    expect(await page.getByTestId("cluster-token").count()).toBe(0);
    expect(await page.getByTestId("cluster-commands").count()).toBe(0);
    expect(await page.locator("body").innerText()).not.toContain(token);
    const registration = card.getByTestId("cluster-registration");
    expect(await registration.getAttribute("data-status")).toBe("pending");
    expect(await registration.innerText()).toBe("Pending");
    expect(await card.innerText()).toContain("Waiting for the controller to register");
    await shot(page, "clusters-02-pending");
  });

  it("`aegis-controller register` with the token shows the cluster registered within the refresh", async () => {
    const result = spawnSync(
      process.execPath,
      [CONTROLLER, "register", "--url", baseUrl, "--token", token, "--name", host, "--state-dir", state],
      { encoding: "utf8" },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("registered as");

    // No reload: the page fetches the list again every 5 s.
    const card = page.getByTestId(`cluster-${name}`);
    await expect
      .poll(() => card.getByTestId("cluster-registration").getAttribute("data-status"), {
        timeout: 12_000,
        interval: 250,
      })
      .toBe("registered");
    expect(await card.getByTestId("cluster-registration").innerText()).toBe("Registered");
    expect(await card.innerText()).toContain(host);
    // Registered but not running: the controller never connected.
    expect(await card.getByTestId("cluster-connection").getAttribute("data-connected")).toBe("false");
    await shot(page, "clusters-03-registered");

    // The token worked once.
    const again = spawnSync(
      process.execPath,
      [CONTROLLER, "register", "--url", baseUrl, "--token", token, "--state-dir", join(state, "again")],
      { encoding: "utf8" },
    );
    expect(again.status).toBe(1);
  });

  it("an agent's page says it is not running on a connected cluster", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Agents" }).click();
    await page.waitForURL(/\/agents$/);
    await page.getByRole("link", { name: "Coordinator" }).first().click();
    await page.waitForURL(/\/agents\/[^/]+$/);
    const runtime = page.getByTestId("agent-cluster-runtime");
    await runtime.waitFor();
    await expect
      .poll(() => runtime.innerText(), { timeout: 10_000 })
      .toContain("Not running on a connected cluster");
    await shot(page, "clusters-04-agent");
  });

  it("the operator sees the tenant's cluster and can pick tenants when registering one", async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const operator = await context.newPage();
    operator.on("pageerror", (e) => errors.push(e.message));
    await loginAs(operator, baseUrl, "admin@aegis.local", password);
    await operator.waitForURL(/\/admin(\/tenants)?$/);
    await operator.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Clusters" }).click();
    await operator.waitForURL(/\/admin\/clusters$/);
    const card = operator.getByTestId(`cluster-${name}`);
    await card.waitFor();
    expect(await card.getByTestId("cluster-registration").getAttribute("data-status")).toBe("registered");
    expect(await card.innerText()).toContain("Tenant's own");
    await operator.getByTestId("cluster-tenant-demo").waitFor();
    await operator.getByTestId("cluster-form").getByRole("button", { name: "Register cluster" }).click();
    await operator.getByTestId("field-error-cluster-name").waitFor();
    await shot(operator, "clusters-05-operator");
    await context.close();
  });

  it("the demo admin loosens egress to log-only after confirming, it holds after a reload, and enforces again", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Clusters" }).click();
    await page.waitForURL(/\/clusters$/);
    const card = page.getByTestId("egress-card");
    const mode = card.getByTestId("egress-mode");
    await mode.waitFor();
    expect(await mode.getAttribute("data-mode")).toBe("enforce");
    const control = card.getByTestId("egress-mode-control");
    expect(await control.getByRole("radio", { name: "Enforce" }).isChecked()).toBe(true);
    const modes = await card.getByTestId("egress-modes").innerText();
    expect(modes).toContain("refused");
    expect(modes).toContain("let through");

    // The cluster never ran an agent: nothing undeclared was seen.
    const suggestions = card.getByTestId("egress-suggestions");
    expect(await suggestions.getAttribute("data-empty")).toBe("true");
    expect(await suggestions.innerText()).toContain("No undeclared traffic observed");
    expect(await suggestions.innerText()).toContain("Log-only mode collects");

    // Loosening asks first; cancelling changes nothing.
    const dialog = page.getByTestId("egress-confirm");
    await control.getByText("Log-only", { exact: true }).click();
    await dialog.getByRole("heading", { name: "Switch egress to log-only?" }).waitFor();
    expect(await dialog.innerText()).toContain("loosens a security control");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.getByRole("heading").waitFor({ state: "detached" });
    expect(await mode.getAttribute("data-mode")).toBe("enforce");
    expect(await control.getByRole("radio", { name: "Enforce" }).isChecked()).toBe(true);

    await control.getByText("Log-only", { exact: true }).click();
    await dialog.getByRole("button", { name: "Switch to log-only" }).click();
    await card.getByTestId("egress-saved").waitFor();
    expect(await dialog.getByRole("heading").count()).toBe(0);
    expect(await mode.getAttribute("data-mode")).toBe("log-only");
    expect(await card.getByTestId("egress-saved").innerText()).toContain("let through");

    await page.reload();
    await mode.waitFor();
    expect(await mode.getAttribute("data-mode")).toBe("log-only");
    expect(await control.getByRole("radio", { name: "Log-only" }).isChecked()).toBe(true);
    await card.getByTestId("egress-log-only").waitFor();
    expect(await suggestions.innerText()).toContain("Log-only mode is collecting");
    // Still log-only after the page's own refresh.
    await page.waitForTimeout(5_500);
    expect(await mode.getAttribute("data-mode")).toBe("log-only");
    await shot(page, "clusters-06-egress");

    // Enforcing again needs no confirmation.
    await control.getByText("Enforce", { exact: true }).click();
    await card.getByTestId("egress-saved").waitFor();
    expect(await dialog.getByRole("heading").count()).toBe(0);
    expect(await mode.getAttribute("data-mode")).toBe("enforce");
    expect(await card.getByTestId("egress-log-only").count()).toBe(0);
    await page.reload();
    await mode.waitFor();
    expect(await mode.getAttribute("data-mode")).toBe("enforce");
  });

  it("raised no page errors", () => {
    expect(errors).toEqual([]);
  });
});
