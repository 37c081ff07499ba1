import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, loginAs, shot } from "./browser";

/**
 * S4-05: provision a tenant in the wizard → log in as its admin → create an agent (seeing its
 * price) → install a skill → see it installed, with the core skills present and not removable.
 */
describe("happy path (S4-05)", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const slug = `globex-${Date.now().toString(36)}`;
  const adminEmail = `ops@${slug}.test`;
  let oneTimePassword = "";

  beforeAll(async () => {
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("pageerror", (e) => errors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("the operator provisions a tenant in the wizard and watches each step complete", async () => {
    await loginAs(page, baseUrl, "admin@aegis.local", password);
    await page.waitForURL(/\/admin\/tenants$/);
    await page
      .getByRole("link", { name: "New tenant" })
      .or(page.getByRole("button", { name: "New tenant" }))
      .first()
      .click();
    await page.waitForURL(/\/admin\/tenants\/new$/);

    await page.getByLabel("Company name").fill("Globex Corporation");
    await page.getByLabel("Slug").fill(slug);
    await shot(page, "01-wizard-company");
    await page.getByRole("button", { name: "Next" }).click();

    await expect.poll(() => page.getByTestId("plan-cards").isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId("plan-card-growth").innerText()).toContain("$299");
    await page.getByLabel("Growth").check();
    await expect
      .poll(() => page.getByTestId("plan-card-growth").getAttribute("class"))
      .toContain("radio-card-checked");
    expect(await page.getByTestId("plan-card-starter").getAttribute("class")).not.toContain(
      "radio-card-checked",
    );
    await shot(page, "02-wizard-plan");
    await page.getByRole("button", { name: "Next" }).click();

    await page.getByLabel("Admin name").fill("Olivia Ops");
    await page.getByLabel("Admin email").fill(adminEmail);
    await page.getByRole("button", { name: "Next" }).click();

    await expect.poll(() => page.getByTestId("tenant-review").innerText()).toContain(slug);
    await shot(page, "03-wizard-review");
    await page.getByRole("button", { name: "Create tenant" }).click();

    const otp = page.getByTestId("one-time-password");
    await otp.waitFor();
    oneTimePassword = (await otp.innerText()).trim();
    expect(oneTimePassword).toMatch(/^[a-z0-9]{6}-[a-z0-9]{6}-[a-z0-9]{6}$/);

    await page.getByTestId("tenant-ready").waitFor({ timeout: 30_000 });
    for (const step of ["tenant_record", "admin_user", "default_config", "tenant_hub", "core_skills"]) {
      expect(await page.getByTestId(`provisioning-step-${step}`).getAttribute("data-status")).toBe(
        "completed",
      );
    }
    await shot(page, "04-provisioned");
  });

  it("the tenant admin creates an agent and sees its price before creating it", async () => {
    await page.getByTestId("user-menu").click();
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/login/);
    await loginAs(page, baseUrl, adminEmail, oneTimePassword);
    await page.waitForURL(/\/agents$/);
    await page.getByTestId("empty-state").waitFor();
    await shot(page, "05-agents-empty");

    await page
      .getByRole("link", { name: "New agent" })
      .or(page.getByRole("button", { name: "New agent" }))
      .first()
      .click();
    await page.getByLabel("Name", { exact: true }).fill("Analyst");
    await page.getByLabel("Role").fill("Reads the quarterly numbers");
    await page.getByRole("button", { name: "Next" }).click();

    // growth does not offer haiku: shown disabled, with the reason
    const haiku = page.getByTestId("model-option-haiku");
    await haiku.waitFor();
    expect(await haiku.innerText()).toContain("Not available on the Growth plan");
    expect(await haiku.locator("input").isDisabled()).toBe(true);
    await page.getByTestId("model-option-opus").locator("input").check();
    await page.getByTestId("thinking-option-high").locator("input").check();
    await shot(page, "06-agent-model");
    await page.getByRole("button", { name: "Next" }).click();

    await expect.poll(() => page.getByTestId("price-label").innerText()).toBe("Included +$20/mo");
    await expect.poll(() => page.getByTestId("new-monthly-total").innerText()).toContain("$319");
    await shot(page, "07-agent-review-price");
    await page.getByRole("button", { name: "Create agent" }).click();

    const credential = page.getByTestId("agent-credential");
    await credential.waitFor();
    expect(await credential.innerText()).toMatch(/agk_/);
    await shot(page, "08-agent-credential");
    await page
      .getByRole("link", { name: "Go to agent" })
      .or(page.getByRole("button", { name: "Go to agent" }))
      .first()
      .click();
    await page.waitForURL(/\/agents\/agt_/);
  });

  it("core skills are installed and not removable; a catalogue skill installs", async () => {
    const installed = page.getByTestId("installed-skills");
    await installed.waitFor();
    await expect.poll(() => installed.locator("tbody tr").count()).toBe(10);
    const core = page.getByTestId("installed-skill-agent-messaging");
    expect(await core.innerText()).toContain("Core");
    expect(await core.getByRole("button", { name: /Uninstall/ }).count()).toBe(0);
    expect(await page.getByText("Core skills cannot be removed").count()).toBeGreaterThan(0);

    const available = page.getByTestId("available-skill-github-issues");
    await available.getByRole("button", { name: /^Install/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.getByTestId("install-permissions").innerText()).toContain("api.github.com");
    await shot(page, "09-install-dialog");
    await dialog.getByRole("button", { name: "Install skill" }).click();

    const row = page.getByTestId("installed-skill-github-issues");
    await row.waitFor();
    await expect.poll(() => installed.locator("tbody tr").count()).toBe(11);
    expect(await row.getByRole("button", { name: /Uninstall/ }).count()).toBe(1);
    await shot(page, "10-skill-installed");
    expect(errors).toEqual([]);
  });
});
