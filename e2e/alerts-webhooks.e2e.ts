import { createHmac } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { start as startReceiver } from "../scripts/standins/webhook-receiver.mjs";
import { launch, loginAs, shot } from "./browser";

/** A webhook created in the UI receives a signed test delivery at a real local receiver; the alerts page renders. */
describe("webhooks and alerts in the browser", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  let browser: Browser;
  let page: Page;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const errors: string[] = [];

  beforeAll(async () => {
    receiver = await startReceiver(0);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("pageerror", (e) => errors.push(e.message));
    await loginAs(page, baseUrl, "admin@demo.local", password);
    await page.waitForURL(/\/agents$/);
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
  });

  it("creates a webhook, shows its secret once, and a test delivery arrives signed", async () => {
    await page.goto(`${baseUrl}/settings/webhooks`);
    await page.getByLabel("URL").fill(`${receiver.url}/hooks/e2e`);
    await page.getByRole("button", { name: "Create webhook" }).click();
    const secretBox = page.getByTestId("webhook-secret");
    await secretBox.waitFor();
    const secret = (await secretBox.innerText()).match(/whsec_[A-Za-z0-9_]+/)?.[0] ?? "";
    expect(secret).toMatch(/^whsec_/);
    await shot(page, "wh-01-created");

    await page.getByRole("button", { name: "Send test" }).first().click();
    await expect
      .poll(() => receiver.deliveries.filter((d) => d.path === "/hooks/e2e").length, { timeout: 15_000 })
      .toBe(1);
    const d = receiver.deliveries.find((x) => x.path === "/hooks/e2e");
    const sig = String(d?.headers["x-aegis-signature"] ?? "");
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig) ?? [];
    expect(createHmac("sha256", secret).update(`${t}.${d?.body}`).digest("hex")).toBe(v1);
    expect(d?.headers["x-aegis-delivery"]).toBeTruthy();
    await expect
      .poll(
        async () => {
          await page
            .getByRole("button", { name: /Refresh/ })
            .first()
            .click()
            .catch(() => {});
          return page
            .locator("[data-testid^='webhook-deliveries-']")
            .first()
            .innerText()
            .catch(() => "");
        },
        { timeout: 10_000 },
      )
      .toMatch(/succeeded/i);
    await shot(page, "wh-02-delivered");
  });

  it("the alerts page renders its list or empty state", async () => {
    await page.goto(`${baseUrl}/alerts`);
    await page.getByTestId("alerts-table").or(page.getByTestId("empty-state")).first().waitFor();
    await shot(page, "al-01-alerts");
    expect(errors).toEqual([]);
  });
});
