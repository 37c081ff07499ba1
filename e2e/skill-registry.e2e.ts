import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launch, loginAs, shot } from "./browser";

const SDK = resolve(import.meta.dirname, "../sdk/skill-sdk");
const BIN = join(SDK, "bin/aegis-skill.mjs");

function cli(args: string[], cwd: string): string {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8" });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  return result.stdout;
}

/**
 * A private skill from package to review: the demo admin validates and uploads a package made by
 * `aegis-skill pack`, submits the draft; the operator starts the review and requests changes with a
 * reason; the tenant sees that reason on the version. Submitting dry-runs the package's own tests in the
 * background; a dry-run from the tenant's page is kept on the version too, where the reviewer sees it.
 */
describe("private skills and their review in the browser", () => {
  const baseUrl = inject("baseUrl");
  const password = inject("password");
  const name = `demo-${Date.now().toString(36)}`;
  let work = "";
  let pkg = "";
  let browser: Browser;
  let tenant: Page;
  let operator: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(SDK, "dist/cli.gen.mjs"))) {
      const build = spawnSync(process.execPath, [join(SDK, "build.mjs")], { encoding: "utf8" });
      expect(build.status, build.stderr).toBe(0);
    }
    work = await mkdtemp(join(tmpdir(), "aegis-e2e-skill-"));
    cli(["init", name], work);
    const out = cli(["pack", name], work);
    const file = /(\S+\.tgz)/.exec(out)?.[1];
    expect(file).toBeDefined();
    pkg = join(work, file ?? "");
    expect(existsSync(pkg)).toBe(true);

    browser = await launch();
    tenant = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
    operator = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
    for (const p of [tenant, operator]) p.on("pageerror", (e) => errors.push(e.message));
    await loginAs(tenant, baseUrl, "admin@demo.local", password);
    await tenant.waitForURL(/\/agents$/);
    await loginAs(operator, baseUrl, "admin@aegis.local", password);
    await operator.waitForURL(/\/admin(\/tenants)?$/);
  });
  afterAll(async () => {
    await browser?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("validating shows the findings and the security checklist; uploading stores a draft", async () => {
    await tenant
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Private skills" })
      .click();
    await tenant.waitForURL(/\/skills\/private$/);
    await tenant.getByTestId("skill-upload").waitFor();
    await tenant.getByTestId("skill-package-input").setInputFiles(pkg);

    await tenant.getByRole("button", { name: "Validate" }).click();
    const result = tenant.getByTestId("validation-result");
    await result.waitFor();
    expect(await result.getAttribute("data-valid")).toBe("true");
    expect(await result.innerText()).toContain(`${name}@0.1.0 is valid`);
    const checklist = await tenant.getByTestId("security-checklist").innerText();
    expect(checklist).toContain("No dynamic code");
    // Validation stores nothing.
    expect(await tenant.getByTestId(`private-skill-${name}`).count()).toBe(0);
    await shot(tenant, "skills-01-validated");

    await tenant.getByRole("button", { name: "Upload", exact: true }).click();
    const version = tenant.getByTestId(`version-${name}-0.1.0`);
    await version.waitFor();
    expect(await version.getByTestId("version-status").getAttribute("data-status")).toBe("draft");
    await shot(tenant, "skills-02-draft");
  });

  it("uploading the same version again is refused with the server's message", async () => {
    await tenant.getByTestId("skill-package-input").setInputFiles(pkg);
    await tenant.getByRole("button", { name: "Upload", exact: true }).click();
    const alert = tenant.getByTestId("skill-upload").getByRole("alert");
    await alert.waitFor();
    expect((await alert.innerText()).toLowerCase()).toContain("0.1.0");
  });

  it("the permission diff of the first version has nothing to compare against", async () => {
    const card = tenant.getByTestId(`private-skill-${name}`);
    await card.getByRole("button", { name: "Show permissions and findings" }).click();
    const diff = card.getByTestId("permission-diff");
    await diff.waitFor();
    expect(await diff.innerText()).toContain("No approved version before this one");
    // A draft has not been dry-run yet.
    const dryRun = card.getByTestId("dry-run-result");
    expect(await dryRun.getAttribute("data-state")).toBe("empty");
    expect(await dryRun.innerText()).toContain("Not run yet");
  });

  it("submitting the draft puts it in the queue as pending review", async () => {
    const version = tenant.getByTestId(`version-${name}-0.1.0`);
    await version.getByRole("button", { name: "Submit for review" }).click();
    await expect
      .poll(() => version.getByTestId("version-status").getAttribute("data-status"))
      .toBe("pending_review");
    expect(await version.getByRole("button", { name: "Submit for review" }).count()).toBe(0);
    await shot(tenant, "skills-03-submitted");
  });

  it("the operator starts the review and cannot request changes without a reason", async () => {
    await operator
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Skill review" })
      .click();
    await operator.waitForURL(/\/admin\/skills\/review$/);
    const row = operator.getByTestId(`review-row-${name}`);
    await row.waitFor();
    expect(await row.innerText()).toContain("v0.1.0");
    await shot(operator, "skills-04-queue");
    await row.getByRole("link").click();
    await operator.waitForURL(/\/admin\/skills\/review\/[^/]+$/);

    const status = operator.getByTestId("review-status");
    await status.waitFor();
    expect(await status.getAttribute("data-status")).toBe("pending_review");
    expect(await operator.getByTestId("review-permissions").innerText()).toContain(
      "Makes no network connections",
    );
    await operator.getByRole("button", { name: "Start review" }).click();
    await expect.poll(() => status.getAttribute("data-status")).toBe("in_review");

    await operator.getByRole("button", { name: "Request changes" }).click();
    const fieldError = operator.getByTestId("field-error-review-reason");
    await fieldError.waitFor();
    expect(await fieldError.innerText()).toContain("required");
    expect(await status.getAttribute("data-status")).toBe("in_review");
    await shot(operator, "skills-05-review");
  });

  it("requesting changes with a reason shows the reason to the tenant", async () => {
    const reason = "Please describe what the greeting is used for in the README.";
    await operator.getByLabel(/Reason/).fill(reason);
    await operator.getByRole("button", { name: "Request changes" }).click();
    const status = operator.getByTestId("review-status");
    await expect.poll(() => status.getAttribute("data-status")).toBe("changes_requested");
    expect(await operator.getByTestId("review-decided").innerText()).toContain(reason);

    // No reload: the decision reaches the open private skills page over the live feed.
    const version = tenant.getByTestId(`version-${name}-0.1.0`);
    await expect
      .poll(() => version.getByTestId("version-status").getAttribute("data-status"), { timeout: 10_000 })
      .toBe("changes_requested");
    expect(await tenant.getByText(/ v0\.1\.0 needs changes$/).count()).toBe(1);
    expect(await version.getByTestId("review-note").innerText()).toContain(reason);
    // changes_requested can be submitted again.
    await version.getByRole("button", { name: "Submit for review" }).waitFor();
    await shot(tenant, "skills-06-changes-requested");
    expect(errors).toEqual([]);
  });

  it("a dry-run from the tenant's page runs the package's tests and the reviewer sees it", async () => {
    // `aegis-skill init` scaffolds test/index.test.mjs with two passing tests, packed with the skill.
    // Submitting dry-ran it in the background, so the reviewer already has its outcome.
    const review = operator.getByTestId("review-dry-run");
    await expect
      .poll(
        async () => {
          await operator.reload();
          await review.waitFor();
          return review.getByTestId("dry-run-result").getAttribute("data-state");
        },
        { timeout: 30_000 },
      )
      .not.toBe("empty");
    expect(await review.getByTestId("dry-run-verdict").innerText()).toBe("Passed");
    await shot(operator, "skills-07-review-dry-run-on-submit");

    const version = tenant.getByTestId(`version-${name}-0.1.0`);
    const button = version.getByRole("button", { name: "Dry run" });
    await button.click();
    const verdict = version.getByTestId("dry-run-verdict");
    await verdict.waitFor({ timeout: 45_000 });
    expect(await verdict.innerText()).toBe("Passed");
    expect(await version.getByTestId("dry-run-summary").innerText()).toMatch(
      /^2\/2 tests passed · \d[\d,]* ms · just now$/,
    );
    // The greeting touches neither the network nor the environment.
    expect(await version.getByTestId("dry-run-permissions").innerText()).toBe("None");
    const output = await version.getByTestId("dry-run-output").innerText();
    expect(output).toContain("ok 1 - greets by name");
    expect(output).toContain("ok 2 - greets the world without a name");
    expect(await button.isEnabled()).toBe(true);
    await shot(tenant, "skills-08-dry-run");

    // The run is kept on the version: the details show it after a reload.
    await tenant.reload();
    const card = tenant.getByTestId(`private-skill-${name}`);
    await card.getByRole("button", { name: "Show permissions and findings" }).click();
    await version.getByTestId("permission-diff").waitFor();
    expect(await version.getByTestId("dry-run-verdict").innerText()).toBe("Passed");

    // …and the reviewer sees the stored run, then runs it again from the review page.
    await operator.reload();
    await review.getByTestId("dry-run-verdict").waitFor();
    expect(await review.getByTestId("dry-run-verdict").innerText()).toBe("Passed");
    expect(await review.getByTestId("dry-run-summary").innerText()).toContain("2/2 tests passed");
    expect(await review.getByTestId("dry-run-output").innerText()).toContain("ok 1 - greets by name");
    const before = await review.locator("time").getAttribute("datetime");
    await review.getByRole("button", { name: "Run dry-run" }).click();
    await expect
      .poll(() => review.locator("time").getAttribute("datetime"), { timeout: 45_000 })
      .not.toBe(before);
    expect(await review.getByTestId("dry-run-verdict").innerText()).toBe("Passed");
    await shot(operator, "skills-09-review-dry-run");
    expect(errors).toEqual([]);
  });
});
