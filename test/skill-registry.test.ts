import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { MANIFEST_FILE, sha256Hex } from "../sdk/skill-sdk/src/package/index";
import { createDb } from "../worker/db/client";
import { BUILTIN_SKILLS } from "../worker/features/skills/catalog";
import { dryRunVersion, MAX_PACKAGE_BYTES } from "../worker/features/skills/registry";
import {
  auditRows,
  call,
  callJson,
  env,
  type Json,
  ORIGIN,
  operatorToken,
  provisionTenant,
  type TenantFixture,
} from "./helpers";
import { manifestOf, skillPackage, text } from "./skill-fixtures";
import { openSocket } from "./sockets";

const pkg = skillPackage;

/** One raw ustar header (as in sdk/skill-sdk/src/package/archive.test.ts), to say what our packer never would. */
function tarHeader(name: string, size: number): Uint8Array {
  const block = new Uint8Array(512);
  const put = (offset: number, value: string) => block.set(text(value), offset);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, `${size.toString(8).padStart(11, "0")}\0`);
  put(136, "00000000000\0");
  put(156, "0");
  put(257, "ustar\u000000");
  block.fill(0x20, 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** A gzipped tar with a valid manifest and a `../x` entry (zip slip). */
async function zipSlipPackage(): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const [name, data] of [
    [MANIFEST_FILE, text(JSON.stringify(manifestOf("slippery", "1.0.0")))],
    ["../x", text("pwned")],
  ] as const) {
    parts.push(tarHeader(name, data.length));
    const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
    padded.set(data);
    parts.push(padded);
  }
  parts.push(new Uint8Array(1024));
  const tar = new Uint8Array(await new Blob(parts).arrayBuffer());
  const gz = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(gz).arrayBuffer());
}

async function postPackage(
  path: string,
  token: string | undefined,
  bytes: Uint8Array | null,
  fields: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const form = new FormData();
  if (bytes) form.set("package", new File([bytes], "skill.tgz", { type: "application/gzip" }));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const headers = new Headers();
  if (token) headers.set("authorization", `Bearer ${token}`);
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}/api/dashboard/skills/package/${path}`, { method: "POST", headers, body: form }),
  );
  const body = await res.text();
  return { status: res.status, body: body ? JSON.parse(body) : null };
}

const upload = (t: TenantFixture, bytes: Uint8Array, fields?: Record<string, string>) =>
  postPackage("upload", t.adminToken, bytes, fields);

async function uploadOk(t: TenantFixture, bytes: Uint8Array) {
  const res = await upload(t, bytes);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { skill: Json; version: Json };
}

async function submit(t: TenantFixture, versionId: string) {
  return callJson("POST", `/api/dashboard/skills/package/${versionId}/submit`, { token: t.adminToken });
}

const review = (op: string, versionId: string, decision: string, body?: unknown) =>
  callJson("PUT", `/api/admin/skills/review/${versionId}/${decision}`, { token: op, body });

const storedKeys = async () => (await env.ARCHIVE.list({ prefix: "skills/" })).objects.map((o) => o.key);

const catalogueNames = async (t: TenantFixture) =>
  (await callJson("GET", "/api/dashboard/skills", { token: t.adminToken })).body.data.map(
    (s: { name: string; latestVersion: string }) => `${s.name}@${s.latestVersion}`,
  );

let op: string;
let growth: TenantFixture;
let other: TenantFixture;

beforeAll(async () => {
  op = await operatorToken();
  growth = await provisionTenant(op, { planTier: "growth" });
  other = await provisionTenant(op, { planTier: "growth" });
});

describe("POST /api/dashboard/skills/package/validate", () => {
  it("answers the validation of a good package and stores nothing", async () => {
    const before = await storedKeys();
    const res = await postPackage("validate", growth.adminToken, await pkg("weather", "1.0.0"));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ valid: true, manifest: { name: "weather", version: "1.0.0" } });
    expect(res.body.findings.filter((f: Json) => f.severity === "error")).toEqual([]);
    expect(res.body.checklist.length).toBeGreaterThan(3);
    expect(await storedKeys()).toEqual(before);
    const list = await callJson("GET", "/api/dashboard/skills/private", { token: growth.adminToken });
    expect(list.body).toEqual({ data: [] });
  });

  it("reports an undeclared domain with its file and line", async () => {
    const source =
      'export async function handler(input, ctx) {\n  return ctx.fetch("https://evil.test/x");\n}\n';
    const res = await postPackage("validate", growth.adminToken, await pkg("weather", "1.0.0", { source }));
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.findings).toContainEqual(
      expect.objectContaining({
        severity: "error",
        rule: "undeclared_network",
        file: "src/index.mjs",
        line: 2,
      }),
    );
  });

  it("400 with a field path without a multipart file, 413 over the package limit", async () => {
    const json = await callJson("POST", "/api/dashboard/skills/package/validate", {
      token: growth.adminToken,
      body: { package: "x" },
    });
    expect(json.status).toBe(400);
    expect(json.body).toMatchObject({ code: "validation_failed", details: { package: expect.any(Array) } });
    const garbage = await postPackage("validate", growth.adminToken, text("not a package"));
    expect(garbage.status).toBe(200);
    expect(garbage.body).toMatchObject({ valid: false, manifest: null });
    expect(garbage.body.findings[0]).toMatchObject({ severity: "error", rule: "corrupt_archive" });
    const noFile = await postPackage("validate", growth.adminToken, null, { other: "x" });
    expect(noFile.status).toBe(400);
    expect(noFile.body.details.package).toBeDefined();
    const big = await postPackage("validate", growth.adminToken, new Uint8Array(MAX_PACKAGE_BYTES + 1));
    expect(big.status).toBe(413);
    expect(big.body.code).toBe("payload_too_large");
  });
});

describe("POST /api/dashboard/skills/package/upload", () => {
  it("stores a draft content-addressed in R2; the same version again is 409", async () => {
    const bytes = await pkg("uploader", "1.0.0");
    const sha = await sha256Hex(bytes);
    const { skill, version } = await uploadOk(growth, bytes);
    expect(skill).toMatchObject({ name: "uploader", visibility: "private", latestApprovedVersion: null });
    expect(version).toMatchObject({
      version: "1.0.0",
      status: "draft",
      sha256: sha,
      sizeBytes: bytes.length,
    });
    expect(await storedKeys()).toContain(`skills/${sha}.tgz`);
    const stored = await env.ARCHIVE.get(`skills/${sha}.tgz`);
    expect(stored).not.toBeNull();
    expect(new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(bytes);

    const again = await upload(growth, bytes);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("version_exists");

    // a draft is not in the catalogue: nothing of it is approved
    expect((await catalogueNames(growth)).some((n: string) => n.startsWith("uploader@"))).toBe(false);
  });

  it("400 sha256_mismatch when the given hash is not the bytes'", async () => {
    const res = await upload(growth, await pkg("uploader", "1.0.1"), { sha256: "0".repeat(64) });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("sha256_mismatch");
  });

  it("422 package_invalid for zip slip and undeclared domains, with nothing stored", async () => {
    const before = await storedKeys();
    const slip = await upload(growth, await zipSlipPackage());
    expect(slip.status).toBe(422);
    expect(slip.body.code).toBe("package_invalid");
    expect(slip.body.details.findings).toContainEqual(
      expect.objectContaining({ severity: "error", rule: "path_traversal" }),
    );
    const source = 'export const handler = (i, ctx) => ctx.fetch("https://evil.test/");\n';
    const bad = await upload(growth, await pkg("sneaky", "1.0.0", { source }));
    expect(bad.status).toBe(422);
    expect(bad.body.details.findings).toContainEqual(
      expect.objectContaining({ rule: "undeclared_network", file: "src/index.mjs", line: 1 }),
    );
    expect(await storedKeys()).toEqual(before);
    const names = (
      await callJson("GET", "/api/dashboard/skills/private", { token: growth.adminToken })
    ).body.data.map((s: Json) => s.name);
    expect(names).not.toContain("slippery");
    expect(names).not.toContain("sneaky");
  });

  it("409 name_reserved for a platform skill's name", async () => {
    const core = BUILTIN_SKILLS.find((s) => s.isCore)?.manifest.name ?? "unknown";
    expect(core).not.toBe("unknown");
    const res = await upload(growth, await pkg(core, "9.0.0"));
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("name_reserved");
  });

  it("starter has no private skills; growth's 6th distinct skill is refused", async () => {
    const starter = await provisionTenant(op, { planTier: "starter" });
    const refused = await upload(starter, await pkg("mine", "1.0.0"));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("plan_limit_reached");

    const full = await provisionTenant(op, { planTier: "growth" });
    for (let i = 1; i <= 5; i++) await uploadOk(full, await pkg(`skill-${i}`, "1.0.0"));
    const sixth = await upload(full, await pkg("skill-6", "1.0.0"));
    expect(sixth.status).toBe(403);
    expect(sixth.body.code).toBe("plan_limit_reached");
    // a new version of an existing skill is not a new skill
    await uploadOk(full, await pkg("skill-1", "1.0.1"));
  });
});

describe("review workflow", () => {
  let skillId: string;
  let v1: string;
  let v2: string;

  it("submit → pending_review; the operator sees it with its permissions", async () => {
    const up = await uploadOk(growth, await pkg("reporter", "1.0.0", { domains: ["api.a.test"] }));
    skillId = up.skill.id;
    v1 = up.version.id;
    const submitted = await submit(growth, v1);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    expect(submitted.body.version).toMatchObject({ id: v1, status: "pending_review" });
    expect(submitted.body.version.submittedAt).toBeTruthy();
    const twice = await submit(growth, v1);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe("invalid_transition");

    const queue = await callJson("GET", "/api/admin/skills/review", { token: op });
    expect(queue.status).toBe(200);
    const item = queue.body.data.find((i: Json) => i.id === v1);
    expect(item).toMatchObject({
      status: "pending_review",
      version: "1.0.0",
      tenant: { id: growth.tenantId },
      skill: { id: skillId, name: "reporter" },
      manifest: { name: "reporter" },
      findings: expect.any(Array),
      permissionDiff: { against: null, added: { domains: ["api.a.test"] }, changed: true },
    });
    // drafts are not in the queue
    expect(queue.body.data.some((i: Json) => i.status === "draft")).toBe(false);
  });

  it("start → in_review, approve → approved and listed in the tenant's catalogue only", async () => {
    const started = await review(op, v1, "start");
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.item.status).toBe("in_review");
    expect((await review(op, v1, "start")).status).toBe(409);
    const inReview = await callJson("GET", "/api/admin/skills/review?status=in_review", { token: op });
    expect(inReview.body.data.map((i: Json) => i.id)).toContain(v1);

    const approved = await review(op, v1, "approve", {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.item.status).toBe("approved");
    const again = await review(op, v1, "approve", {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("invalid_transition");

    expect(await catalogueNames(growth)).toContain("reporter@1.0.0");
    expect((await catalogueNames(other)).some((n: string) => n.startsWith("reporter@"))).toBe(false);
  });

  it("v2 with one more domain: the diff against v1 shows it; request-changes needs a reason", async () => {
    const up = await uploadOk(
      growth,
      await pkg("reporter", "1.1.0", { domains: ["api.a.test", "api.b.test"] }),
    );
    expect(up.skill.id).toBe(skillId);
    v2 = up.version.id;
    expect((await submit(growth, v2)).status).toBe(200);
    const queue = await callJson("GET", "/api/admin/skills/review", { token: op });
    const item = queue.body.data.find((i: Json) => i.id === v2);
    expect(item.permissionDiff).toEqual({
      against: "1.0.0",
      added: { domains: ["api.b.test"], readPaths: [], writePaths: [], env: [], messageTypes: [] },
      removed: { domains: [], readPaths: [], writePaths: [], env: [], messageTypes: [] },
      modelGateway: null,
      changed: true,
    });

    const noReason = await review(op, v2, "request-changes", {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.details.reason).toBeDefined();
    const asked = await review(op, v2, "request-changes", { reason: "Why does it need api.b.test?" });
    expect(asked.status).toBe(200);
    expect(asked.body.item).toMatchObject({
      status: "changes_requested",
      reviewNote: "Why does it need api.b.test?",
    });
  });

  it("the tenant sees the note, resubmits, and the operator approves", async () => {
    const detail = await callJson("GET", `/api/dashboard/skills/private/${skillId}`, {
      token: growth.adminToken,
    });
    expect(detail.status).toBe(200);
    const versions = detail.body.skill.versions;
    expect(versions.map((v: Json) => [v.version, v.status])).toEqual([
      ["1.1.0", "changes_requested"],
      ["1.0.0", "approved"],
    ]);
    expect(versions[0]).toMatchObject({
      reviewNote: "Why does it need api.b.test?",
      permissionDiff: { against: "1.0.0", added: { domains: ["api.b.test"] } },
    });
    const list = await callJson("GET", "/api/dashboard/skills/private", { token: growth.adminToken });
    const listed = list.body.data.find((s: Json) => s.id === skillId);
    expect(listed).toMatchObject({ latestApprovedVersion: "1.0.0" });
    expect(listed.versions[0]).toMatchObject({ status: "changes_requested", reviewNote: expect.any(String) });

    const resubmitted = await submit(growth, v2);
    expect(resubmitted.body.version.status).toBe("pending_review");
    const approved = await review(op, v2, "approve", { reason: "Fine: it is the status page." });
    expect(approved.body.item).toMatchObject({
      status: "approved",
      reviewNote: "Fine: it is the status page.",
    });
    expect(await catalogueNames(growth)).toContain("reporter@1.1.0");
  });

  it("reject needs a reason; a rejected version cannot be resubmitted", async () => {
    const { version } = await uploadOk(growth, await pkg("reporter", "2.0.0"));
    expect((await review(op, version.id, "reject", { reason: "not yet" })).status).toBe(409); // still a draft
    await submit(growth, version.id);
    const noReason = await review(op, version.id, "reject");
    expect(noReason.status).toBe(400);
    expect(noReason.body.details.reason).toBeDefined();
    const rejected = await review(op, version.id, "reject", { reason: "Drops every permission check." });
    expect(rejected.body.item.status).toBe("rejected");
    expect((await submit(growth, version.id)).body.code).toBe("invalid_transition");
    expect(await catalogueNames(growth)).toContain("reporter@1.1.0");
  });

  it("keeps tenants apart and enforces roles", async () => {
    const theirs = await callJson("GET", `/api/dashboard/skills/private/${skillId}`, {
      token: other.adminToken,
    });
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe("not_found");
    expect((await submit(other, v2)).status).toBe(404);
    expect(
      (await callJson("GET", "/api/dashboard/skills/private", { token: other.adminToken })).body,
    ).toEqual({
      data: [],
    });

    const member = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: growth.adminToken,
      body: { name: "skills-viewer", role: "tenant_member" },
    });
    const memberKey: string = member.body.key;
    expect((await call("GET", "/api/dashboard/skills/private", { token: memberKey })).status).toBe(200);
    expect((await postPackage("upload", memberKey, await pkg("viewer-skill", "1.0.0"))).status).toBe(403);
    expect((await postPackage("upload", undefined, await pkg("viewer-skill", "1.0.0"))).status).toBe(401);
    expect((await call("GET", "/api/admin/skills/review", { token: growth.adminToken })).status).toBe(403);
    expect((await review(growth.adminToken, v2, "approve", {})).status).toBe(403);

    await vi.waitFor(
      async () => {
        const attempts = (await auditRows(other.tenantId)).filter(
          (r) => r.action === "security.cross_tenant_attempt",
        );
        expect(attempts.some((r) => r.targetId === skillId)).toBe(true);
      },
      { timeout: 5000, interval: 100 },
    );
  });

  it("every state change is audited with the actor and a before/after", async () => {
    await vi.waitFor(
      async () => {
        const rows = await auditRows(growth.tenantId);
        const actions = new Set(rows.map((r) => r.action));
        for (const a of [
          "skill.version_uploaded",
          "skill.version_submitted",
          "skill.review_started",
          "skill.version_approved",
          "skill.version_changes_requested",
          "skill.version_rejected",
        ])
          expect(actions, a).toContain(a);
        const approval = rows.find((r) => r.action === "skill.version_approved" && r.targetId === v1);
        expect(approval?.actorId).toBeTruthy();
        expect(JSON.parse(String(approval?.details))).toMatchObject({
          before: { status: "in_review" },
          after: { status: "approved" },
        });
        // validation stores nothing but is still a recorded mutation
        expect(
          rows.some((r) => r.action === "api.mutation" && r.targetId?.includes("/skills/package/validate")),
        ).toBe(true);
        // refused uploads are recorded too
        expect(rows.some((r) => r.action === "api.mutation_failed")).toBe(true);
      },
      { timeout: 5000, interval: 100 },
    );
  });
});

describe("dry-run", () => {
  const passingTest = `import assert from "node:assert/strict";
import { test } from "node:test";
import { handler } from "../src/index.mjs";
test("answers ok", async () => { assert.deepEqual(await handler(), { ok: true }); });
test("reaches its declared API", async () => {
  const res = await fetch("https://api.dry.example/v1/ping");
  assert.deepEqual(await res.json(), { pong: true });
  // Built at run time, as code trying to slip past the static analysis would: the sandbox still refuses it.
  const host = ["elsewhere", "example"].join(".");
  await assert.rejects(fetch(\`https://\${host}/exfiltrate\`), /not in the manifest/);
});
`;
  const fixtures = JSON.stringify({ "GET https://api.dry.example/v1/ping": { body: { pong: true } } });
  let tenant: TenantFixture;
  let versionId: string;

  beforeAll(async () => {
    tenant = await provisionTenant(await operatorToken(), { planTier: "growth" });
    const stored = await uploadOk(
      tenant,
      await pkg("dry-runner", "1.0.0", {
        domains: ["api.dry.example"],
        source: "export async function handler() {\n  return { ok: true };\n}\n",
        files: { "test/index.test.mjs": passingTest, "test/fixtures.json": fixtures },
      }),
    );
    versionId = stored.version.id as string;
  });

  const dryRun = (token: string | undefined, id = versionId) =>
    callJson("POST", `/api/dashboard/skills/package/${id}/dry-run`, { token });

  it("runs the version's tests in the sandbox, reports what they used, and keeps the result for the reviewer", async () => {
    const res = await dryRun(tenant.adminToken);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ passed: true, tests: { total: 2, passed: 2, failed: 0 } });
    expect(res.body.output).toContain("ok 2 - reaches its declared API");
    expect(res.body.permissionsUsed).toEqual([
      { kind: "network", target: "api.dry.example", allowed: true, count: 1 },
      { kind: "network", target: "elsewhere.example", allowed: false, count: 1 },
    ]);

    const tenantRun = (
      await callJson("GET", `/api/admin/skills/review/${versionId}`, { token: await operatorToken() })
    ).body.item.dryRun;
    expect(tenantRun.result).toMatchObject({ passed: true, tests: { total: 2 } });

    // Submitting runs it again in the background, so the reviewer finds a fresh outcome waiting.
    expect(await submit(tenant, versionId)).toMatchObject({ status: 200 });
    const op = await operatorToken();
    let item = await callJson("GET", `/api/admin/skills/review/${versionId}`, { token: op });
    await vi.waitFor(async () => {
      item = await callJson("GET", `/api/admin/skills/review/${versionId}`, { token: op });
      expect(item.body.item.dryRun.at > tenantRun.at).toBe(true);
    });
    expect(item.body.item.dryRun.result).toMatchObject({ passed: true, tests: { total: 2 } });

    // The reviewer can run it again; the item shows the new run.
    const again = await callJson("POST", `/api/admin/skills/review/${versionId}/dry-run`, { token: op });
    expect(again.status).toBe(200);
    expect(again.body.item.dryRun.at > item.body.item.dryRun.at).toBe(true);
    await vi.waitFor(async () => {
      const rows = (await auditRows(tenant.tenantId)).filter((r) => r.action === "skill.version_dry_run");
      expect(rows.length).toBe(3);
      expect(JSON.parse(rows[0]?.details ?? "{}")).toMatchObject({
        passed: true,
        refused: ["network:elsewhere.example"],
      });
    });
  });

  it("review decisions and dry-runs reach the tenant's live feed, and only that tenant's", async () => {
    const stored = await uploadOk(
      tenant,
      await pkg("dry-live", "1.0.0", {
        files: { "test/a.test.mjs": 'import { test } from "node:test";\ntest("ok", () => {});\n' },
      }),
    );
    const id = stored.version.id as string;
    const feed = await openSocket(`/ws/messages?token=${tenant.adminToken}`);
    await feed.next((f) => f.event === "subscribed");
    const other = await provisionTenant(await operatorToken(), { planTier: "growth" });
    const foreign = await openSocket(`/ws/messages?token=${other.adminToken}`);
    await foreign.next((f) => f.event === "subscribed");

    expect((await submit(tenant, id)).status).toBe(200);
    // The dry-run that submitting starts in the background announces itself when it is done…
    expect(
      await feed.next((f) => f.event === "skill_version" && f.change === "dry_run", 30_000),
    ).toMatchObject({
      skillId: stored.skill.id,
      versionId: id,
      name: "dry-live",
      version: "1.0.0",
    });
    // …and so does each step of the review.
    const op = await operatorToken();
    await callJson("PUT", `/api/admin/skills/review/${id}/start`, { token: op });
    expect(
      await feed.next((f) => f.event === "skill_version" && f.change === "review_started"),
    ).toMatchObject({
      versionId: id,
      status: "in_review",
    });
    await review(op, id, "approve", {});
    expect(await feed.next((f) => f.event === "skill_version" && f.change === "approved")).toMatchObject({
      versionId: id,
      status: "approved",
    });
    foreign.send({ op: "ping" });
    await foreign.next((f) => f.event === "pong" || f.op === "pong");
    expect(foreign.frames.filter((f) => f.event === "skill_version")).toEqual([]);
    feed.close();
    foreign.close();
  });

  it("a test that never ends is stopped at the time limit and reported as such", async () => {
    const spinning = await uploadOk(
      tenant,
      await pkg("dry-spinner", "1.0.0", {
        files: {
          "test/spin.test.mjs": 'import { test } from "node:test";\ntest("spins", () => { for (;;) {} });\n',
        },
      }),
    );
    const res = await dryRun(tenant.adminToken, spinning.version.id as string);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ passed: false, limit: "time" });
    expect(res.body.output).toContain("stopped at the time limit (2000 ms)");
  });

  it("is refused without a session, to members and to tenant admins on the operator route; 404 for unknown and other tenants' versions", async () => {
    expect((await dryRun(undefined)).status).toBe(401);
    const member = await callJson("POST", "/api/dashboard/settings/api-keys", {
      token: tenant.adminToken,
      body: { name: "dry-run-viewer", role: "tenant_member" },
    });
    expect((await dryRun(member.body.key as string)).status).toBe(403);
    expect(
      (await callJson("POST", `/api/admin/skills/review/${versionId}/dry-run`, { token: tenant.adminToken }))
        .status,
    ).toBe(403);
    const unknown = await dryRun(tenant.adminToken, "skv_nothing_here");
    expect(unknown.status).toBe(404);
    const other = await provisionTenant(await operatorToken(), { planTier: "growth" });
    const foreign = await dryRun(other.adminToken);
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.body)).not.toContain("dry-runner");
    expect((await dryRun(tenant.adminToken, "x".repeat(81))).status).toBe(400);
  });

  it("submit validates the stored package again: one that no longer passes is 422 and stays a draft", async () => {
    const stored = await uploadOk(
      tenant,
      await pkg("dry-tampered", "1.0.0", {
        files: { "test/a.test.mjs": 'import { test } from "node:test";\ntest("x", () => {});\n' },
      }),
    );
    const id = stored.version.id as string;
    // What is stored under the version's key stops passing the analysis (here: it now reaches an
    // undeclared host), as a package would after the analysis learns a new rule.
    await env.ARCHIVE.put(
      `skills/${stored.version.sha256}.tgz`,
      await pkg("dry-tampered", "1.0.0", {
        source: 'export const handler = () => fetch("https://undeclared.example/x");\n',
      }),
    );
    const res = await submit(tenant, id);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("package_invalid");
    expect(res.body.details.findings[0]).toMatchObject({ rule: "undeclared_network", file: "src/index.mjs" });
    const list = await callJson("GET", "/api/dashboard/skills/private", { token: tenant.adminToken });
    const skill = list.body.data.find((s: { name: string }) => s.name === "dry-tampered");
    expect(skill.versions[0].status).toBe("draft");
  });

  it("answers 503 sandbox_unavailable when the sandbox cannot be reached, and stores nothing", async () => {
    const unreachable = { ...env, SKILL_SANDBOX_URL: "http://127.0.0.1:1" };
    const spare = await uploadOk(
      tenant,
      await pkg("dry-unreached", "1.0.0", {
        domains: ["api.dry.example"],
        files: { "test/a.test.mjs": passingTest },
      }),
    );
    const id = spare.version.id as string;
    await expect(
      dryRunVersion(unreachable, createDb(env.DB), id, { tenantId: tenant.tenantId }),
    ).rejects.toMatchObject({ status: 503, code: "sandbox_unavailable" });
    const row = await env.DB.prepare("SELECT dry_run FROM skill_versions WHERE id = ?").bind(id).first();
    expect(row?.dry_run).toBeNull();
  });
});
