import { useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { DEFAULT_MONTHLY_TOKEN_QUOTA } from "../../../worker/lib/pricing";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { TextField } from "../components/field";
import { maxAgentsLabel, platformFeeLabel } from "../components/plan-table";
import { ProvisioningProgress } from "../components/provisioning-progress";
import { RadioCard } from "../components/radio-card";
import { SecretBox } from "../components/secret-box";
import { StepIndicator } from "../components/steps";
import { Banner, BusyButton, Card, DefinitionList, ErrorBanner, Loading, PageHeader } from "../components/ui";
import { count, MODEL_LABELS, money, planLabel, sanitizeSlug, slugify, THINKING_LABELS } from "../format";
import {
  createTenant,
  ensurePlans,
  type ProvisioningWatcher,
  plans,
  watchProvisioning,
} from "../models/tenants";
import { Link } from "../router";
import type { CreateTenantInput, CreateTenantResponse, PlanTier } from "../types";

const STEPS = ["Company", "Plan", "Admin", "Review"] as const;

/** Which wizard step owns each field, so a server error sends the user back to the right place. */
const FIELD_STEP: Record<string, number> = {
  name: 0,
  slug: 0,
  region: 0,
  planTier: 1,
  monthlyTokenQuota: 1,
  adminName: 2,
  adminEmail: 2,
};

const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Server keys may carry a prefix ("body.slug"): keep the segment the wizard knows. */
function normalizeDetails(details: FieldErrors): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, messages] of Object.entries(details)) {
    const field = key.split(".").find((part) => part in FIELD_STEP) ?? key;
    out[field] = [...(out[field] ?? []), ...messages];
  }
  return out;
}

function parseQuota(raw: string): number | null | "invalid" {
  const cleaned = raw.replace(/[,_\s]/g, "");
  if (!cleaned) return null;
  const n = Number(cleaned);
  return Number.isSafeInteger(n) && n > 0 ? n : "invalid";
}

export function TenantNewPage() {
  const step = useSignal(0);
  const name = useSignal("");
  const slug = useSignal("");
  const slugEdited = useSignal(false);
  const planTier = useSignal<PlanTier>("starter");
  const quota = useSignal("");
  const adminName = useSignal("");
  const adminEmail = useSignal("");
  const fields = useSignal<FieldErrors>({});
  const submitError = useSignal<string | null>(null);
  const submitting = useSignal(false);
  const created = useSignal<CreateTenantResponse | null>(null);
  const watcher = useSignal<ProvisioningWatcher | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    ensurePlans();
    return () => watcher.peek()?.stop();
  }, []);

  useEffect(() => {
    headingRef.current?.focus();
  }, [step.value]);

  function validate(index: number): FieldErrors {
    const e: FieldErrors = {};
    if (index === 0) {
      if (!name.value.trim()) e.name = ["Enter the company name"];
      else if (name.value.trim().length > 100) e.name = ["Use at most 100 characters"];
      if (!slug.value) e.slug = ["Enter a slug"];
      else if (!SLUG_RE.test(slug.value))
        e.slug = [
          "Use lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
        ];
    }
    if (index === 1) {
      if (!planTier.value) e.planTier = ["Choose a plan"];
      if (parseQuota(quota.value) === "invalid")
        e.monthlyTokenQuota = ["Enter a whole number of tokens, or leave empty"];
    }
    if (index === 2) {
      if (!adminName.value.trim()) e.adminName = ["Enter the admin's name"];
      if (!adminEmail.value.trim()) e.adminEmail = ["Enter the admin's email"];
      else if (!EMAIL_RE.test(adminEmail.value.trim())) e.adminEmail = ["Enter a valid email address"];
    }
    return e;
  }

  /** Replaces the errors of one step's fields, leaving the others alone. */
  function setStepErrors(index: number, errs: FieldErrors) {
    const kept = Object.fromEntries(Object.entries(fields.value).filter(([k]) => FIELD_STEP[k] !== index));
    fields.value = { ...kept, ...errs };
  }

  function next(e: Event) {
    e.preventDefault();
    const errs = validate(step.value);
    setStepErrors(step.value, errs);
    if (Object.keys(errs).length) return;
    if (step.value < STEPS.length - 1) step.value += 1;
    else void submit();
  }

  async function submit() {
    for (let i = 0; i < 3; i++) {
      const errs = validate(i);
      if (Object.keys(errs).length) {
        setStepErrors(i, errs);
        step.value = i;
        return;
      }
    }
    const q = parseQuota(quota.value);
    const input: CreateTenantInput = {
      name: name.value.trim(),
      slug: slug.value,
      planTier: planTier.value,
      adminName: adminName.value.trim(),
      adminEmail: adminEmail.value.trim(),
      ...(typeof q === "number" ? { monthlyTokenQuota: q } : {}),
    };
    submitting.value = true;
    submitError.value = null;
    try {
      const res = await createTenant(input);
      created.value = res;
      const w = watchProvisioning(res.tenant.id, res.provisioning);
      watcher.value = w;
      w.start();
    } catch (err) {
      submitError.value = errorMessage(err);
      if (err instanceof ApiError) {
        const errs = err.details ? normalizeDetails(err.details) : {};
        if (err.code === "slug_taken" && !errs.slug) errs.slug = [err.message];
        if (err.code === "email_taken" && !errs.adminEmail) errs.adminEmail = [err.message];
        fields.value = errs;
        const steps = Object.keys(errs)
          .map((k) => FIELD_STEP[k])
          .filter((s): s is number => s !== undefined);
        if (steps.length) step.value = Math.min(...steps);
      }
    } finally {
      submitting.value = false;
    }
  }

  const done = created.value;
  const w = watcher.value;
  if (done && w) {
    return (
      <>
        <PageHeader title="New tenant" subtitle={`${done.tenant.name} is being provisioned.`} />
        <Banner tone="success">
          Tenant “{done.tenant.name}” created. Provisioning has started; this page follows it live.
        </Banner>
        <div class="grid-2">
          <Card title="Tenant admin sign-in">
            <DefinitionList
              items={[
                ["Admin email", <span data-testid="admin-email">{done.admin.email}</span>],
                ["Tenant", done.tenant.name],
              ]}
            />
            <SecretBox
              label="One-time password"
              value={done.admin.oneTimePassword}
              testId="one-time-password"
              warning="This password is shown only once. Copy it now and give it to the admin securely."
            />
          </Card>
          <Card title="Provisioning">
            <ProvisioningProgress
              watcher={w}
              ready={
                <div class="banner banner-success" role="status" data-testid="tenant-ready">
                  <div class="banner-body">
                    <strong>Tenant ready</strong>
                    <span>
                      <Link href={`/admin/tenants/${done.tenant.id}`}>Open {done.tenant.name}</Link>
                    </span>
                  </div>
                </div>
              }
            />
          </Card>
        </div>
        <div class="form-actions">
          <Link href="/admin/tenants">Back to tenants</Link>
        </div>
      </>
    );
  }

  const f = fields.value;
  const plansData = plans.data.value;
  const chosenPlan = plansData?.data.find((p) => p.tier === planTier.value);
  const q = parseQuota(quota.value);

  return (
    <>
      <PageHeader
        title="New tenant"
        subtitle="Provision a company: its workspace, plan and first admin."
        actions={<Link href="/admin/tenants">Cancel</Link>}
      />
      <StepIndicator
        steps={STEPS}
        current={step.value}
        locked={submitting.value}
        onSelect={(i) => {
          step.value = i;
        }}
      />
      <form class="card wizard" onSubmit={next} noValidate data-testid="tenant-wizard">
        <h2 class="wizard-title" ref={headingRef} tabIndex={-1}>
          {STEPS[step.value]}
        </h2>

        {step.value === 0 && (
          <div class="form">
            <TextField
              id="name"
              label="Company name"
              value={name}
              error={f.name}
              autoComplete="organization"
              onValue={(v) => {
                if (!slugEdited.value) slug.value = slugify(v);
              }}
            />
            <TextField
              id="slug"
              label="Slug"
              value={slug}
              error={f.slug}
              transform={sanitizeSlug}
              spellcheck={false}
              autoCapitalize="off"
              hint="Lowercase letters, digits and hyphens. Used in URLs and resource names; it cannot change later."
              onValue={(v) => {
                slugEdited.value = v !== "" && v !== slugify(name.value);
              }}
            />
          </div>
        )}

        {step.value === 1 && (
          <div class="form">
            <ErrorBanner error={plans.error.value} onRetry={() => void plans.load()} />
            {!plansData && plans.loading.value && <Loading label="Loading plans…" />}
            {plansData && (
              <fieldset class="fieldset">
                <legend class="field-label">Choose a plan</legend>
                <div class="card-grid card-grid-options" data-testid="plan-cards">
                  {plansData.data.map((p) => (
                    <RadioCard
                      key={p.tier}
                      name="planTier"
                      value={p.tier}
                      checked={planTier.value === p.tier}
                      onSelect={() => {
                        planTier.value = p.tier;
                      }}
                      title={p.label}
                      aside={p.customContract ? "Custom" : `${money(p.platformFeeUsd)}/mo`}
                      testId={`plan-card-${p.tier}`}
                    >
                      <span class="feature-list">
                        <span>Platform fee: {platformFeeLabel(p)}</span>
                        <span>
                          {count(p.includedAgents)} included agents
                          {p.customContract ? " (contract default)" : ""}
                        </span>
                        <span>Max agents: {maxAgentsLabel(p.maxAgents)}</span>
                        <span>Models: {p.models.map((m) => MODEL_LABELS[m] ?? m).join(", ")}</span>
                        <span>
                          Thinking: {p.thinkingModes.map((m) => THINKING_LABELS[m] ?? m).join(", ")}
                        </span>
                        <span>
                          Overage billing: {p.overageEligible ? "eligible (opt-in)" : "not available"}
                        </span>
                        <span>Audit retention: {p.auditRetentionDays} days</span>
                      </span>
                    </RadioCard>
                  ))}
                </div>
                {f.planTier && <p class="field-error">{f.planTier.join(" ")}</p>}
              </fieldset>
            )}
            <TextField
              id="monthlyTokenQuota"
              label="Monthly token quota per agent"
              value={quota}
              error={f.monthlyTokenQuota}
              inputMode="numeric"
              optional
              placeholder={count(DEFAULT_MONTHLY_TOKEN_QUOTA)}
              hint={`Leave empty for the default of ${count(DEFAULT_MONTHLY_TOKEN_QUOTA)} tokens.`}
            />
          </div>
        )}

        {step.value === 2 && (
          <div class="form">
            <p class="muted">
              The first tenant admin. They sign in with a one-time password shown after creation.
            </p>
            <TextField
              id="adminName"
              label="Admin name"
              value={adminName}
              error={f.adminName}
              autoComplete="off"
            />
            <TextField
              id="adminEmail"
              label="Admin email"
              type="email"
              value={adminEmail}
              error={f.adminEmail}
              autoComplete="off"
            />
          </div>
        )}

        {step.value === 3 && (
          <div class="form">
            <ErrorBanner error={submitError.value} title="The tenant was not created" />
            <div class="review" data-testid="tenant-review">
              <ReviewSection title="Company" onEdit={() => (step.value = 0)} disabled={submitting.value}>
                <DefinitionList
                  items={[
                    ["Company name", name.value.trim()],
                    ["Slug", <code class="mono">{slug.value}</code>],
                  ]}
                />
              </ReviewSection>
              <ReviewSection title="Plan" onEdit={() => (step.value = 1)} disabled={submitting.value}>
                <DefinitionList
                  items={[
                    ["Plan", chosenPlan?.label ?? planLabel(planTier.value)],
                    ["Platform fee", chosenPlan ? platformFeeLabel(chosenPlan) : "—"],
                    ["Included agents", chosenPlan ? count(chosenPlan.includedAgents) : "—"],
                    [
                      "Token quota per agent",
                      `${count(typeof q === "number" ? q : DEFAULT_MONTHLY_TOKEN_QUOTA)}${typeof q === "number" ? "" : " (default)"}`,
                    ],
                  ]}
                />
              </ReviewSection>
              <ReviewSection title="Admin" onEdit={() => (step.value = 2)} disabled={submitting.value}>
                <DefinitionList
                  items={[
                    ["Admin name", adminName.value.trim()],
                    ["Admin email", adminEmail.value.trim()],
                  ]}
                />
              </ReviewSection>
            </div>
          </div>
        )}

        {submitError.value && step.value !== 3 && (
          <ErrorBanner error={submitError.value} title="The tenant was not created" />
        )}

        <div class="wizard-footer">
          <button
            type="button"
            class="btn"
            disabled={step.value === 0 || submitting.value}
            onClick={() => {
              step.value = Math.max(0, step.value - 1);
            }}
          >
            Back
          </button>
          <span class="muted small">
            Step {step.value + 1} of {STEPS.length}
          </span>
          {step.value < STEPS.length - 1 ? (
            <button type="submit" class="btn btn-primary">
              Next
            </button>
          ) : (
            <BusyButton type="submit" busy={submitting} busyLabel="Creating tenant…">
              Create tenant
            </BusyButton>
          )}
        </div>
      </form>
    </>
  );
}

function ReviewSection({
  title,
  onEdit,
  disabled,
  children,
}: {
  title: string;
  onEdit: () => void;
  disabled: boolean;
  children: ComponentChildren;
}) {
  return (
    <section class="review-section">
      <div class="review-head">
        <h3>{title}</h3>
        <button
          type="button"
          class="btn btn-ghost btn-sm"
          onClick={onEdit}
          disabled={disabled}
          aria-label={`Edit ${title.toLowerCase()}`}
        >
          Edit
        </button>
      </div>
      {children}
    </section>
  );
}
