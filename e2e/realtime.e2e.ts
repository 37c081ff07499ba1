import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { AgentClient } from "../sdk/agent-client/src/index";
import { launch, loginAs, shot } from "./browser";

/**
 * The real-time core in the browser: a link drawn in the allowlist editor lets two agents (driven
 * by the agent client) talk, their messages appear live in the timeline, a revoked link shows the
 * next message as rejected, a config change reaches a running agent, and a workflow runs to the end.
 */
describe("real-time core in the browser", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  let browser: Browser;
  let page: Page;
  let adminToken = "";
  const errors: string[] = [];
  const agents: Record<string, { id: string; credential: string; client?: AgentClient }> = {};

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  beforeAll(async () => {
    const login = await fetch(`${baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@demo.local", password }),
    });
    adminToken = (await login.json()).accessToken;
    for (const name of ["Sender", "Receiver"]) {
      const created = await api("POST", "/api/dashboard/agents", {
        name,
        modelTier: "sonnet",
        thinkingMode: "off",
      });
      expect(created.status).toBe(201);
      agents[name] = { id: created.body.agent.id, credential: created.body.credential };
    }
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("pageerror", (e) => errors.push(e.message));
    await loginAs(page, baseUrl, "admin@demo.local", password);
    await page.waitForURL(/\/agents$/);
  });

  afterAll(async () => {
    for (const a of Object.values(agents)) a.client?.close();
    await browser?.close();
  });

  const sender = () => agents.Sender as { id: string; credential: string; client: AgentClient };
  const receiver = () => agents.Receiver as { id: string; credential: string; client: AgentClient };

  it("a link added in the allowlist editor is saved as a new version", async () => {
    await page.goto(`${baseUrl}/allowlist`);
    await page.getByTestId("allowlist-graph").waitFor();
    await page.getByLabel("From").selectOption({ label: "Sender" });
    await page.getByLabel("To").selectOption({ label: "Receiver" });
    await page.getByRole("button", { name: "Add link" }).click();
    await page
      .getByTestId(`graph-edge-${sender().id}-${receiver().id}`)
      .or(page.getByTestId(`graph-edge-${receiver().id}-${sender().id}`))
      .first()
      .waitFor();
    await shot(page, "rt-01-allowlist-link-added");
    await page.getByTestId("allowlist-save").click();
    await page.getByTestId("toast").filter({ hasText: "Saved version" }).first().waitFor();
    const saved = await api("GET", "/api/dashboard/allowlist");
    expect(saved.body.edges).toContainEqual({ from: sender().id, to: receiver().id, direction: "both" });
    await shot(page, "rt-02-allowlist-saved");
  });

  it("messages between two agent clients appear live in the timeline and turn acknowledged", async () => {
    for (const name of ["Sender", "Receiver"] as const) {
      const a = agents[name];
      if (!a) throw new Error(name);
      a.client = new AgentClient({ baseUrl, agentId: a.id, credential: a.credential });
    }
    receiver().client.onMessage(async (msg, ctx) => {
      if (msg.type === "data_request")
        await ctx.reply("data_response", { data: "Revenue is up 12%", format: "text" });
    });
    await Promise.all([sender().client.connect(), receiver().client.connect()]);

    await page.goto(`${baseUrl}/messages`);
    await expect.poll(() => page.getByTestId("feed-status").innerText()).toContain("Live");
    const sent = await sender().client.send(receiver().id, "task_handoff", {
      title: "Prepare the board deck",
      priority: "high",
    });
    const row = page.getByTestId(`message-row-${sent.id}`);
    await row.waitFor({ timeout: 10_000 });
    await expect
      .poll(() => page.getByTestId(`message-status-${sent.id}`).getAttribute("data-status"))
      .toBe("acknowledged");
    expect(await row.innerText()).toContain("Sender");
    await shot(page, "rt-03-timeline-live");

    await row.click();
    await page.getByTestId("message-detail").waitFor();
    expect(await page.getByTestId("message-history").innerText()).toMatch(
      /queued[\s\S]*delivered[\s\S]*acknowledged/i,
    );
    await shot(page, "rt-04-message-detail");
  });

  it("a link revoked in the editor blocks the next message, which shows as rejected", async () => {
    await page.goto(`${baseUrl}/allowlist`);
    await page.getByTestId("allowlist-links").waitFor();
    await page
      .getByRole("button", { name: /Remove link between/ })
      .first()
      .click();
    await page.getByTestId("allowlist-save").click();
    await page.getByTestId("toast").filter({ hasText: "Saved version" }).first().waitFor();

    await page.goto(`${baseUrl}/messages`);
    await expect.poll(() => page.getByTestId("feed-status").innerText()).toContain("Live");
    const rejected = await sender().client.send(receiver().id, "notification", { title: "Are you there?" });
    expect(rejected).toMatchObject({ status: "rejected", reason: "not_allowed" });
    await page.getByTestId(`message-row-${rejected.id}`).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId(`message-status-${rejected.id}`).getAttribute("data-status")).toBe(
      "rejected",
    );
    expect(await page.getByTestId(`message-row-${rejected.id}`).innerText()).toContain("not_allowed");
    await shot(page, "rt-05-rejected");
  });

  it("a config change is pushed to the running agents and each shows it applied", async () => {
    const before = receiver().client.configVersion;
    await page.goto(`${baseUrl}/config`);
    const hops = page.locator("#cfg-messaging-maxHops");
    await hops.waitFor();
    await hops.fill("12");
    await page.getByRole("button", { name: "Save…" }).click();
    await page.getByTestId("config-diff").waitFor();
    await shot(page, "rt-06-config-diff");
    await page.getByRole("button", { name: "Save and push" }).click();
    await page.getByTestId("config-saved").waitFor();
    await vi.waitFor(() => expect(receiver().client.configVersion).toBeGreaterThan(before ?? 0), {
      timeout: 10_000,
    });
    await expect
      .poll(() => page.getByTestId(`config-agent-${receiver().id}`).getAttribute("data-state"), {
        timeout: 10_000,
      })
      .toBe("applied");
    await shot(page, "rt-07-config-applied");
  });

  it("a workflow started from the UI runs to completion with the agents' answers", async () => {
    await api("PUT", "/api/dashboard/allowlist", {
      expectedVersion: (await api("GET", "/api/dashboard/allowlist")).body.version,
      edges: [{ from: sender().id, to: receiver().id, direction: "both" }],
    });
    await page.goto(`${baseUrl}/workflows`);
    await page.getByTestId("workflow-template-daily_sync").getByRole("button", { name: "Run now" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Lead agent").selectOption({ label: "Sender" });
    await dialog.getByLabel("Receiver").check();
    await dialog.getByRole("button", { name: "Start run" }).click();
    const runs = await vi.waitFor(
      async () => {
        const r = await api("GET", "/api/dashboard/workflows/runs");
        expect(r.body.data[0]?.status).toBe("completed");
        return r.body.data;
      },
      { timeout: 15_000 },
    );
    await page.goto(`${baseUrl}/workflows/runs/${runs[0].id}`);
    await expect.poll(() => page.getByTestId("run-status").innerText()).toMatch(/completed/i);
    await shot(page, "rt-08-workflow-completed");
    expect(errors).toEqual([]);
  });
});
