import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, loginAs, shot } from "./browser";

/** The agents `npm run dev` seeds into the demo tenant (growth): all within the 5 included. */
const SEEDED = ["Coordinator", "Researcher", "Writer"];

function previousUtcMonth(): { value: string; label: string } {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return {
    value: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`,
    label: new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" }).format(d),
  };
}

/**
 * E12-10: the demo admin opens Billing from the navigation and sees the growth plan and its fee, each
 * seeded agent in the cost breakdown, usage by agent and by day, and the overage rates in the
 * confirmation step before anything changes.
 */
describe("billing page in the browser (E12-10)", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("pageerror", (e) => errors.push(e.message));
    await loginAs(page, baseUrl, "admin@demo.local", password);
    await page.waitForURL(/\/agents$/);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("the plan card shows the growth plan, its $299 platform fee and the billing status", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Billing" }).click();
    await page.waitForURL(/\/billing$/);
    const plan = page.getByTestId("billing-plan");
    await plan.waitFor();
    expect(await page.getByTestId("plan-tier").getAttribute("data-tier")).toBe("growth");
    expect((await plan.innerText()).toLowerCase()).toContain("growth");
    expect(await page.getByTestId("plan-platform-fee").innerText()).toContain("$299");
    expect(["none", "active", "past_due"]).toContain(
      await page.getByTestId("billing-status").getAttribute("data-status"),
    );
    expect(await page.getByTestId("next-billing-date").innerText()).toMatch(/\d{4}/);
    await shot(page, "bill-01-overview");
  });

  it("the cost breakdown lists the platform fee and every seeded agent with its fee and surcharge", async () => {
    const breakdown = page.getByTestId("cost-breakdown");
    await breakdown.waitFor();
    expect(await breakdown.getByTestId("cost-platform-fee").innerText()).toContain("$299");
    for (const name of SEEDED) {
      const row = breakdown.getByTestId(`cost-agent-${name}`);
      await row.waitFor();
      expect(await row.innerText()).toContain("Included");
    }
    // Researcher runs opus with high thinking: included, but the $20 surcharge still applies.
    expect(await breakdown.getByTestId("cost-agent-Researcher").innerText()).toContain("+$20/mo");
    expect(await breakdown.getByTestId("cost-subtotal").innerText()).toMatch(/\$\d/);
    expect(await breakdown.getByTestId("cost-projection").innerText()).toMatch(/Projected for/);
  });

  it("usage shows each agent against its quota, and a past month with no usage says so", async () => {
    const byAgent = page.getByTestId("usage-agents");
    for (const name of SEEDED) await byAgent.getByTestId(`usage-agent-${name}`).waitFor();
    const state = await byAgent.getByTestId("usage-state-Coordinator").getAttribute("data-state");
    expect(["normal", "warning", "grace", "rate_limited", "paused"]).toContain(state);
    await page.getByTestId("billing-daily").waitFor();
    await shot(page, "bill-02-usage");

    const previous = previousUtcMonth();
    await page.getByTestId("month-picker").selectOption(previous.value);
    await page.waitForURL(new RegExp(`/billing\\?month=${previous.value}$`));
    await expect
      .poll(() => page.getByTestId("billing-daily").innerText())
      .toContain(`No usage in ${previous.label}`);
    await shot(page, "bill-03-previous-month");
  });

  it("a model call through the gateway shows up in the agent's usage live, without a reload", async () => {
    await page.getByTestId("month-picker").selectOption({ index: 0 });
    await page.waitForURL(/\/billing(\?month=\d{4}-\d{2})?$/);
    // A new agent (the fourth, still included on growth) with its own token, as a container would have.
    const api = async (path: string, init: RequestInit & { token?: string } = {}) => {
      const res = await fetch(`${baseUrl}${path}`, {
        ...init,
        headers: {
          "content-type": "application/json",
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        },
      });
      // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON bodies loosely and asserts on them
      return { status: res.status, body: (await res.json()) as any };
    };
    const admin = await api("/api/auth/login", {
      method: "POST",
      body: JSON.stringify({ email: "admin@demo.local", password }),
    });
    const name = `Biller-${Date.now().toString(36)}`;
    const created = await api("/api/dashboard/agents", {
      method: "POST",
      token: admin.body.accessToken,
      body: JSON.stringify({ name, modelTier: "sonnet", thinkingMode: "off" }),
    });
    expect(created.status).toBe(201);
    const agent: { id: string } = created.body.agent;
    const token = await api("/v1/auth/token", {
      method: "POST",
      body: JSON.stringify({ agentId: agent.id, credential: created.body.credential }),
    });
    await page.reload();
    const used = page.getByTestId(`usage-used-${name}`);
    await used.waitFor();
    expect(await used.getAttribute("data-tokens")).toBe("0");

    for (let i = 0; i < 2; i++) {
      const call = await api("/v1/models/messages", {
        method: "POST",
        token: token.body.token,
        body: JSON.stringify({
          model: "claude-sonnet-4-5",
          max_tokens: 200,
          messages: [
            { role: "user", content: "Summarise this week's hand-offs for the standup, in three lines." },
          ],
        }),
      });
      expect(call.status).toBe(200);
    }
    // The usage consumer's feed event refreshes the row: no reload, its month total is above zero.
    await expect
      .poll(async () => Number(await used.getAttribute("data-tokens")), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await shot(page, "bill-05-live-usage");
  });

  it("turning overage on first shows the per-model rates; cancelling changes nothing", async () => {
    const toggle = page.getByTestId("overage-toggle");
    await toggle.waitFor();
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    expect(await toggle.getAttribute("aria-checked")).toBe("false");
    await toggle.click();

    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const rates = dialog.getByTestId("overage-confirm-rates");
    const sonnet = await rates.getByTestId("rate-sonnet").innerText();
    expect(sonnet).toContain("$5");
    expect(sonnet).toContain("$20");
    const opus = await rates.getByTestId("rate-opus").innerText();
    expect(opus).toContain("$8");
    expect(opus).toContain("$35");
    expect(await dialog.innerText()).toContain("beyond 100%");
    await shot(page, "bill-04-overage-confirm");

    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await toggle.getAttribute("aria-checked")).toBe("false");
    const res = await page.request.get(`${baseUrl}/api/dashboard/billing/overage`);
    expect(res.status()).toBe(200);
    expect(((await res.json()) as { enabled: boolean }).enabled).toBe(false);
    expect(errors).toEqual([]);
  });
});
