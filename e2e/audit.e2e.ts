import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, loginAs, shot } from "./browser";

/** S6-04: an admin mutation shows up in the audit viewer with its diff, the chain verifies, and the filter exports. */
describe("audit viewer in the browser", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await launch();
    const context = await browser.newContext({
      viewport: { width: 1360, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await loginAs(page, baseUrl, "admin@demo.local", password);
    await page.waitForURL(/\/agents$/);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("a config change appears with its before/after diff, the chain verifies, and CSV/JSON export the filter", async () => {
    await page.goto(`${baseUrl}/config`);
    const prompt = page.locator("#cfg-agents-systemPrompt");
    await prompt.waitFor();
    await prompt.fill("Answer in one sentence.");
    await page.getByRole("button", { name: "Save…" }).click();
    await page.getByRole("button", { name: "Save and push" }).click();
    await page.getByTestId("config-saved").waitFor();

    // The event reaches D1 through the audit queue; wait for it before opening the viewer.
    await expect
      .poll(
        async () => {
          const res = await page.request.get(`${baseUrl}/api/dashboard/audit?action=config.updated&limit=1`);
          return JSON.stringify(((await res.json()) as { data: unknown[] }).data[0] ?? null);
        },
        { timeout: 10_000 },
      )
      .toContain("Answer in one sentence.");
    await page.goto(`${baseUrl}/audit?action=config.updated`);
    const table = page.getByTestId("audit-table");
    await table.waitFor();
    const firstRow = table.locator("[data-testid^='audit-row-']").first();
    await expect.poll(() => firstRow.innerText(), { timeout: 10_000 }).toContain("config.updated");
    const id = (await firstRow.getAttribute("data-testid"))?.replace("audit-row-", "") ?? "";
    await page.getByTestId(`audit-expand-${id}`).click();
    const diff = page.getByTestId(`audit-detail-${id}`).getByTestId("audit-diff");
    await diff.waitFor();
    expect(await diff.innerText()).toContain("Answer in one sentence.");
    await expect.poll(() => page.getByTestId("audit-chain").getAttribute("data-valid")).toBe("true");
    await shot(page, "audit-01-config-diff");

    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("audit-export-csv").click(),
    ]);
    const csvText = await (await csv.createReadStream())
      .toArray()
      .then((chunks) => Buffer.concat(chunks).toString("utf8"));
    expect(csvText.split("\r\n")[0]).toMatch(/^id,at,tenantId,seq,actorType/);
    expect(csvText).toContain("config.updated");
    const [json] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("audit-export-json").click(),
    ]);
    const rows = JSON.parse(
      await (await json.createReadStream()).toArray().then((c) => Buffer.concat(c).toString("utf8")),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r: { action: string }) => r.action === "config.updated")).toBe(true);

    // the export itself is audited (the page loads once; ask the API until the queue has written it)
    await expect
      .poll(
        async () => {
          const res = await page.request.get(`${baseUrl}/api/dashboard/audit?action=audit.exported`);
          return ((await res.json()) as { data: unknown[] }).data.length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(2);
    await page.goto(`${baseUrl}/audit?action=audit.exported`);
    await page.getByTestId("audit-table").locator("[data-testid^='audit-row-']").first().waitFor();
    await shot(page, "audit-02-export-audited");
    expect(errors).toEqual([]);
  });
});
