import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { errorMessage } from "../api";
import { DryRunResult } from "../components/dry-run-result";
import {
  Checklist,
  FindingsList,
  PermissionDiffView,
  VersionStatusBadge,
} from "../components/skill-registry";
import { Banner, BusyButton, Card, EmptyState, ErrorBanner, Loading, PageHeader } from "../components/ui";
import { dateTime, humanize } from "../format";
import { useFeed } from "../models/feed";
import { canWrite } from "../models/session";
import {
  dryRunVersion,
  findingsOf,
  privateSkillDetail,
  privateSkills,
  SUBMITTABLE,
  submitForReview,
  uploadPackage,
  validatePackage,
} from "../models/skill-registry";
import { showToast } from "../models/toasts";
import { Link } from "../router";
import type { PrivateSkill, SkillDryRun, SkillFinding, SkillValidation, SkillVersionSummary } from "../types";

function UploadCard() {
  const file = useSignal<File | null>(null);
  const validation = useSignal<SkillValidation | null>(null);
  const rejected = useSignal<SkillFinding[]>([]);
  const error = useSignal<unknown>(null);
  const busy = useSignal<"validate" | "upload" | null>(null);
  const inputKey = useSignal(0);

  const run = async (action: "validate" | "upload") => {
    const f = file.value;
    if (!f) {
      error.value = "Choose a .tgz package made by `aegis-skill pack` first.";
      return;
    }
    busy.value = action;
    error.value = null;
    rejected.value = [];
    try {
      if (action === "validate") {
        validation.value = await validatePackage(f);
      } else {
        const { skill, version } = await uploadPackage(f);
        showToast(`${skill.displayName} v${version.version} stored as a draft`);
        file.value = null;
        validation.value = null;
        inputKey.value++;
      }
    } catch (e) {
      error.value = e;
      rejected.value = findingsOf(e);
    } finally {
      busy.value = null;
    }
  };

  const v = validation.value;
  return (
    <Card title="Upload a package" data-testid="skill-upload">
      <div class="stack">
        <div class="field">
          <label for="skill-package" class="field-label">
            Package (.tgz)
          </label>
          <input
            key={inputKey.value}
            id="skill-package"
            type="file"
            accept=".tgz,application/gzip,application/x-gzip"
            class="input"
            data-testid="skill-package-input"
            onChange={(e) => {
              file.value = e.currentTarget.files?.[0] ?? null;
              validation.value = null;
              error.value = null;
              rejected.value = [];
            }}
          />
          <p class="field-hint">
            Made by <code class="mono">npx aegis-skill pack</code>. Validate checks it without storing
            anything; Upload stores it as a draft you can submit for review.
          </p>
        </div>
        <div class="form-actions">
          <BusyButton
            class="btn"
            busy={busy.value === "validate"}
            busyLabel="Validating…"
            disabled={busy.value !== null}
            onClick={() => void run("validate")}
          >
            Validate
          </BusyButton>
          <BusyButton
            busy={busy.value === "upload"}
            busyLabel="Uploading…"
            disabled={busy.value !== null}
            onClick={() => void run("upload")}
          >
            Upload
          </BusyButton>
        </div>
        <ErrorBanner error={error.value} title="The package was not accepted" />
        {rejected.value.length > 0 && <FindingsList findings={rejected.value} testId="upload-findings" />}
        {v && (
          <div class="stack" data-testid="validation-result" data-valid={String(v.valid)}>
            <Banner tone={v.valid ? "success" : "danger"}>
              {v.valid
                ? `${String(v.manifest?.name ?? "The package")}@${String(v.manifest?.version ?? "?")} is valid. Nothing has been stored yet.`
                : "The package has errors; fix them before uploading."}
            </Banner>
            <div>
              <h3 class="field-label">Findings</h3>
              <FindingsList findings={v.findings} testId="validation-findings" />
            </div>
            <div>
              <h3 class="field-label">Security checklist</h3>
              <Checklist items={v.checklist} />
            </div>
          </div>
        )}
      </div>
    </Card>
  );
}

function VersionRow({ skill, version }: { skill: PrivateSkill; version: SkillVersionSummary }) {
  const busy = useSignal<"submit" | "dry-run" | null>(null);
  const error = useSignal<unknown>(null);
  /** A run started here; the list has no stored runs, only the opened details do. */
  const ran = useSignal<SkillDryRun | null>(null);
  const detail = privateSkillDetail.data.value;
  const full = detail?.id === skill.id ? detail.versions.find((x) => x.id === version.id) : undefined;
  const dryRun = ran.value ?? full?.dryRun ?? null;
  const noteTone = version.status === "rejected" ? "danger" : "warning";
  const act = async (action: "submit" | "dry-run") => {
    busy.value = action;
    error.value = null;
    try {
      if (action === "submit") {
        await submitForReview(version.id);
        showToast(`v${version.version} submitted for review`);
      } else {
        ran.value = await dryRunVersion(version.id);
      }
    } catch (e) {
      error.value = e;
    } finally {
      busy.value = null;
    }
  };
  return (
    <li class="version-row" data-testid={`version-${skill.name}-${version.version}`}>
      <div class="version-head">
        <code class="mono">v{version.version}</code>
        <VersionStatusBadge status={version.status} testId="version-status" />
        <span class="muted small">
          Uploaded {dateTime(version.createdAt)}
          {version.submittedAt && ` · submitted ${dateTime(version.submittedAt)}`}
          {version.reviewedAt && ` · reviewed ${dateTime(version.reviewedAt)}`}
        </span>
        {canWrite.value && (
          <div class="version-actions">
            <BusyButton
              class="btn btn-sm"
              busy={busy.value === "dry-run"}
              busyLabel="Running…"
              disabled={busy.value !== null}
              title="Run the version's own tests in the sandbox that enforces its permissions"
              onClick={() => void act("dry-run")}
            >
              Dry run
            </BusyButton>
            {SUBMITTABLE.includes(version.status) && (
              <BusyButton
                class="btn btn-sm btn-primary"
                busy={busy.value === "submit"}
                busyLabel="Submitting…"
                disabled={busy.value !== null}
                onClick={() => void act("submit")}
              >
                Submit for review
              </BusyButton>
            )}
          </div>
        )}
      </div>
      {version.reviewNote && (version.status === "changes_requested" || version.status === "rejected") && (
        <Banner tone={noteTone} data-testid="review-note">
          <strong>{version.status === "rejected" ? "Rejected: " : "Changes requested: "}</strong>
          {version.reviewNote}
        </Banner>
      )}
      {version.reviewNote && version.status === "approved" && (
        <p class="small muted" data-testid="review-note">
          Reviewer's note: {version.reviewNote}
        </p>
      )}
      <ErrorBanner error={error.value} />
      {full && (
        <div class="review">
          <section class="review-section">
            <div class="review-head">
              <h3>Permission changes</h3>
            </div>
            <PermissionDiffView diff={full.permissionDiff} testId="permission-diff" />
          </section>
          <section class="review-section">
            <div class="review-head">
              <h3>Findings</h3>
            </div>
            <FindingsList findings={full.findings} />
          </section>
        </div>
      )}
      {(full || dryRun) && (
        <section class="review-section" data-testid="dry-run">
          <div class="review-head">
            <h3>Dry run</h3>
          </div>
          <DryRunResult
            run={dryRun}
            empty={
              canWrite.value
                ? "Dry run runs the version's tests in a sandbox that allows only what its manifest declares."
                : "An admin of your workspace can run the version's tests in the sandbox."
            }
          />
        </section>
      )}
    </li>
  );
}

function SkillCard({ skill }: { skill: PrivateSkill }) {
  const open = privateSkillDetail.data.value?.id === skill.id;
  const versions = [...skill.versions].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <Card
      data-testid={`private-skill-${skill.name}`}
      title={
        <span class="title-with-badge">
          {skill.displayName} <code class="mono muted small">{skill.name}</code>
        </span>
      }
      actions={
        <button
          type="button"
          class="btn btn-sm"
          aria-expanded={open}
          onClick={() => {
            if (open) privateSkillDetail.reset();
            else void privateSkillDetail.load(skill.id);
          }}
        >
          {open ? "Hide permissions" : "Show permissions and findings"}
        </button>
      }
    >
      <div>
        <p class="muted small">
          {humanize(skill.category)} ·{" "}
          {skill.latestApprovedVersion
            ? `v${skill.latestApprovedVersion} is in your catalogue`
            : "No approved version yet"}
        </p>
        <p>{skill.description}</p>
        <ul class="version-list">
          {versions.map((v) => (
            <VersionRow key={v.id} skill={skill} version={v} />
          ))}
        </ul>
      </div>
    </Card>
  );
}

const DECISION_TEXT: Record<string, string> = {
  review_started: "is in review",
  approved: "was approved",
  rejected: "was rejected",
  changes_requested: "needs changes",
  deprecated: "was deprecated",
};

export function PrivateSkillsPage() {
  useEffect(() => {
    void privateSkills.load();
    return () => privateSkillDetail.reset();
  }, []);
  // A review decision or a dry-run shows up here as it happens: reload what changed.
  useFeed((e) => {
    if (e.event !== "skill_version") return;
    void privateSkills.load();
    if (privateSkillDetail.data.value?.id === e.skillId) void privateSkillDetail.load(e.skillId);
    const text = DECISION_TEXT[e.change];
    const shown = privateSkills.data.value?.data.find((s) => s.id === e.skillId)?.displayName ?? e.name;
    if (text) showToast(`${shown} v${e.version} ${text}`, e.change === "approved" ? "success" : "info");
  });
  const skills = privateSkills.data.value?.data;
  return (
    <>
      <PageHeader
        title="Private skills"
        subtitle="Skills your team builds, reviewed by the platform before agents can install them."
        actions={
          <Link href="/skills" class="btn">
            Skill catalogue
          </Link>
        }
      />
      <div class="stack">
        {canWrite.value && <UploadCard />}
        <ErrorBanner error={privateSkills.error.value} onRetry={() => void privateSkills.load()} />
        <ErrorBanner
          error={privateSkillDetail.error.value ? errorMessage(privateSkillDetail.error.value) : null}
        />
        {!skills && privateSkills.loading.value && <Loading label="Loading private skills…" />}
        {skills && skills.length === 0 && (
          <EmptyState title="No private skills yet">
            Build one with <code class="mono">npx @aegis/skill-sdk init my-skill</code>, pack it with{" "}
            <code class="mono">npx aegis-skill pack</code>
            {canWrite.value ? " and upload it above." : "; an admin of your workspace can upload it."}
          </EmptyState>
        )}
        {skills && skills.length > 0 && (
          <div class="stack" data-testid="private-skills">
            {skills.map((s) => (
              <SkillCard key={s.id} skill={s} />
            ))}
          </div>
        )}
      </div>
    </>
  );
}
