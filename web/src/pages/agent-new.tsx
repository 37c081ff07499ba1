import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { TextField } from "../components/field";
import { RadioCard } from "../components/radio-card";
import { SecretBox } from "../components/secret-box";
import { StepIndicator } from "../components/steps";
import {
  Badge,
  Banner,
  BusyButton,
  Card,
  DefinitionList,
  ErrorBanner,
  Loading,
  PageHeader,
} from "../components/ui";
import {
  agentCostLabel,
  count,
  MODEL_BLURBS,
  MODEL_LABELS,
  money,
  planLabel,
  THINKING_BLURBS,
  THINKING_LABELS,
} from "../format";
import { agentOptions, createAgent, loadAgents, pricingPreview, tenantStats } from "../models/agents";
import { canWrite } from "../models/session";
import { Link, navigate } from "../router";
import type { CreateAgentResponse, ModelTier, ThinkingMode } from "../types";

const STEPS = ["Name", "Model", "Review"] as const;

const FIELD_STEP: Record<string, number> = { name: 0, role: 0, modelTier: 1, thinkingMode: 1 };
const CODE_FIELD: Record<string, string> = {
  name_taken: "name",
  model_not_allowed: "modelTier",
  thinking_mode_not_allowed: "thinkingMode",
};

export function AgentNewPage() {
  const step = useSignal(0);
  const name = useSignal("");
  const role = useSignal("");
  const modelTier = useSignal<ModelTier | null>(null);
  const thinkingMode = useSignal<ThinkingMode | null>(null);
  const fields = useSignal<FieldErrors>({});
  const submitError = useSignal<string | null>(null);
  const submitting = useSignal(false);
  const created = useSignal<CreateAgentResponse | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    pricingPreview.reset();
    void agentOptions.load();
  }, []);

  useEffect(() => {
    headingRef.current?.focus();
  }, [step.value]);

  const options = agentOptions.data.value;

  // Default to the first choices the plan allows (Sonnet and no thinking when available).
  useEffect(() => {
    if (!options) return;
    if (!modelTier.value) {
      const allowed = options.models.filter((m) => m.allowed);
      modelTier.value = (allowed.find((m) => m.tier === "sonnet") ?? allowed[0])?.tier ?? null;
    }
    if (!thinkingMode.value) {
      const allowed = options.thinkingModes.filter((t) => t.allowed);
      thinkingMode.value = (allowed.find((t) => t.mode === "off") ?? allowed[0])?.mode ?? null;
    }
  }, [options]);

  // The price follows the choice: refetched on every change of model or thinking mode.
  useEffect(() => {
    if (modelTier.value && thinkingMode.value) void pricingPreview.load(modelTier.value, thinkingMode.value);
  }, [modelTier.value, thinkingMode.value]);

  if (!canWrite.value) {
    return (
      <>
        <PageHeader title="New agent" />
        <Banner tone="warning">Your role is read-only: ask a tenant admin to create agents.</Banner>
      </>
    );
  }

  function validate(index: number): FieldErrors {
    const e: FieldErrors = {};
    if (index === 0) {
      const n = name.value.trim();
      if (!n) e.name = ["Give the agent a name"];
      else if (n.length > 64) e.name = ["Use at most 64 characters"];
      if (role.value.trim().length > 200) e.role = ["Use at most 200 characters"];
    }
    if (index === 1) {
      if (!modelTier.value) e.modelTier = ["Choose a model"];
      if (!thinkingMode.value) e.thinkingMode = ["Choose a thinking mode"];
    }
    return e;
  }

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
    const model = modelTier.value;
    const thinking = thinkingMode.value;
    if (!model || !thinking || !options?.canCreate) return;
    submitting.value = true;
    submitError.value = null;
    try {
      const trimmedRole = role.value.trim();
      created.value = await createAgent({
        name: name.value.trim(),
        ...(trimmedRole ? { role: trimmedRole } : {}),
        modelTier: model,
        thinkingMode: thinking,
      });
      void loadAgents();
      void tenantStats.load();
    } catch (err) {
      submitError.value = errorMessage(err);
      if (err instanceof ApiError) {
        const errs: FieldErrors = { ...(err.details ?? {}) };
        const field = CODE_FIELD[err.code];
        if (field && !errs[field]) errs[field] = [err.message];
        fields.value = errs;
        const steps = Object.keys(errs)
          .map((k) => FIELD_STEP[k])
          .filter((s): s is number => s !== undefined);
        if (steps.length) step.value = Math.min(...steps);
        if (err.code === "agent_limit_reached") void agentOptions.load();
      }
    } finally {
      submitting.value = false;
    }
  }

  const done = created.value;
  if (done) {
    return (
      <>
        <PageHeader title="New agent" subtitle={`${done.agent.name} is ready to connect.`} />
        <Banner tone="success">Agent “{done.agent.name}” created.</Banner>
        <Card title="Agent credential">
          <p class="muted">The agent runtime uses this credential to obtain its tokens.</p>
          <SecretBox
            label="Credential"
            value={done.credential}
            testId="agent-credential"
            warning="This credential is shown only once. Copy it into your agent's secret store now."
          />
          <DefinitionList
            items={[
              ["Name", done.agent.name],
              ["Model", MODEL_LABELS[done.agent.modelTier] ?? done.agent.modelTier],
              ["Thinking", THINKING_LABELS[done.agent.thinkingMode] ?? done.agent.thinkingMode],
              ["Monthly cost", agentCostLabel(done.agent.included, done.agent.costPerMonth)],
            ]}
          />
          <div class="form-actions">
            <Link href="/agents">Back to agents</Link>
            <button
              type="button"
              class="btn btn-primary"
              onClick={() => navigate(`/agents/${done.agent.id}`)}
            >
              Go to agent
            </button>
          </div>
        </Card>
      </>
    );
  }

  const f = fields.value;
  const pv = pricingPreview.data.value;
  const preview =
    pv && pv.modelTier === modelTier.value && pv.thinkingMode === thinkingMode.value ? pv.preview : null;

  return (
    <>
      <PageHeader
        title="New agent"
        subtitle="Name it, choose its model, and see what it costs before creating it."
        actions={<Link href="/agents">Cancel</Link>}
      />
      {options && !options.canCreate && (
        <div class="banner banner-danger" role="alert" data-testid="agent-limit">
          <div class="banner-body">
            <strong>You cannot create more agents</strong>
            <span>{options.limitReason ?? "Your plan's agent limit has been reached."}</span>
          </div>
        </div>
      )}
      <StepIndicator
        steps={STEPS}
        current={step.value}
        locked={submitting.value}
        onSelect={(i) => {
          step.value = i;
        }}
      />
      <form class="card wizard" onSubmit={next} noValidate data-testid="agent-wizard">
        <h2 class="wizard-title" ref={headingRef} tabIndex={-1}>
          {STEPS[step.value]}
        </h2>

        {step.value === 0 && (
          <div class="form">
            <TextField
              id="name"
              label="Name"
              value={name}
              error={f.name}
              autoComplete="off"
              hint="Unique within your workspace, e.g. “Support triage”."
            />
            <TextField
              id="role"
              label="Role"
              value={role}
              error={f.role}
              optional
              autoComplete="off"
              hint="What this agent does, in a few words."
            />
          </div>
        )}

        {step.value === 1 && (
          <div class="form">
            <ErrorBanner error={agentOptions.error.value} onRetry={() => void agentOptions.load()} />
            {!options && agentOptions.loading.value && <Loading label="Loading your plan's options…" />}
            {options && (
              <>
                <p class="muted">
                  {planLabel(options.planTier)} plan: {count(options.agentCount)} of{" "}
                  {options.maxAgents === null ? "unlimited" : count(options.maxAgents)} agents used; the first{" "}
                  {count(options.includedAgents)} are included.
                </p>
                <fieldset class="fieldset">
                  <legend class="field-label">Model</legend>
                  <div class="card-grid card-grid-options" data-testid="model-options">
                    {options.models.map((m) => (
                      <RadioCard
                        key={m.tier}
                        name="modelTier"
                        value={m.tier}
                        checked={modelTier.value === m.tier}
                        disabled={!m.allowed}
                        reason={
                          m.allowed
                            ? undefined
                            : (m.reason ?? `Not available on the ${planLabel(options.planTier)} plan`)
                        }
                        onSelect={() => {
                          modelTier.value = m.tier;
                        }}
                        title={MODEL_LABELS[m.tier] ?? m.tier}
                        aside={`${money(m.feeUsd)}/mo`}
                        testId={`model-option-${m.tier}`}
                      >
                        {MODEL_BLURBS[m.tier]}
                      </RadioCard>
                    ))}
                  </div>
                  {f.modelTier && <p class="field-error">{f.modelTier.join(" ")}</p>}
                  <p class="field-hint">The monthly fee applies to agents beyond your included count.</p>
                </fieldset>
                <fieldset class="fieldset">
                  <legend class="field-label">Thinking mode</legend>
                  <div class="card-grid card-grid-options" data-testid="thinking-options">
                    {options.thinkingModes.map((t) => (
                      <RadioCard
                        key={t.mode}
                        name="thinkingMode"
                        value={t.mode}
                        checked={thinkingMode.value === t.mode}
                        disabled={!t.allowed}
                        reason={
                          t.allowed
                            ? undefined
                            : (t.reason ?? `Not available on the ${planLabel(options.planTier)} plan`)
                        }
                        onSelect={() => {
                          thinkingMode.value = t.mode;
                        }}
                        title={THINKING_LABELS[t.mode] ?? t.mode}
                        aside={t.surchargeUsd > 0 ? `+${money(t.surchargeUsd)}/mo` : "No surcharge"}
                        testId={`thinking-option-${t.mode}`}
                      >
                        {THINKING_BLURBS[t.mode]}
                      </RadioCard>
                    ))}
                  </div>
                  {f.thinkingMode && <p class="field-error">{f.thinkingMode.join(" ")}</p>}
                </fieldset>
              </>
            )}
          </div>
        )}

        {step.value === 2 && (
          <div class="form">
            <ErrorBanner error={submitError.value} title="The agent was not created" />
            <DefinitionList
              items={[
                ["Name", name.value.trim()],
                ["Role", role.value.trim() || "—"],
                ["Model", modelTier.value ? MODEL_LABELS[modelTier.value] : "—"],
                ["Thinking mode", thinkingMode.value ? THINKING_LABELS[thinkingMode.value] : "—"],
              ]}
            />
            <div class="price-box" aria-live="polite" data-testid="price-preview">
              <ErrorBanner error={pricingPreview.error.value} title="Could not price this agent" />
              {preview ? (
                <>
                  <div class="price-row">
                    <span>Price of this agent</span>
                    <Badge
                      tone={preview.monthlyFeeUsd === 0 ? "success" : "warning"}
                      data-testid="price-label"
                    >
                      {preview.label}
                    </Badge>
                  </div>
                  <div class="price-row muted">
                    <span>Current monthly total</span>
                    <span data-testid="current-monthly-total">{money(preview.currentMonthlyTotalUsd)}</span>
                  </div>
                  <div class="price-row price-total">
                    <span data-testid="new-monthly-total">
                      New monthly total: {money(preview.newMonthlyTotalUsd)}
                    </span>
                  </div>
                </>
              ) : (
                !pricingPreview.error.value && <Loading label="Calculating price…" />
              )}
            </div>
          </div>
        )}

        {submitError.value && step.value !== 2 && (
          <ErrorBanner error={submitError.value} title="The agent was not created" />
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
            <BusyButton
              type="submit"
              busy={submitting}
              busyLabel="Creating agent…"
              disabled={!options?.canCreate}
            >
              Create agent
            </BusyButton>
          )}
        </div>
      </form>
    </>
  );
}
