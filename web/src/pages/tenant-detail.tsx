import { useSignal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import { PLAN_TIERS, PLANS } from "../../../worker/lib/pricing";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { AgentsTable } from "../components/agents-table";
import { SelectField, TextField } from "../components/field";
import { ProvisioningProgress } from "../components/provisioning-progress";
import {
  Badge,
  Banner,
  BusyButton,
  Card,
  DefinitionList,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
  StatusBadge,
} from "../components/ui";
import { count, dateTime, money, planLabel } from "../format";
import {
  ensurePlans,
  plans,
  tenantAgents,
  tenantDetail,
  updateTenant,
  watchProvisioning,
} from "../models/tenants";
import { Link } from "../router";
import type { PlanTier, Tenant, TenantPatch } from "../types";

export function TenantDetailPage({ id }: { id: string }) {
  useEffect(() => {
    tenantAgents.reset();
    void tenantDetail.load(id);
    void tenantAgents.load(id);
    ensurePlans();
  }, [id]);

  const raw = tenantDetail.data.value;
  const detail = raw && raw.tenant.id === id ? raw : undefined;
  const provisioningId = detail?.provisioning?.id;

  const watcher = useMemo(
    () =>
      detail?.provisioning
        ? watchProvisioning(id, detail.provisioning, () => {
            void tenantDetail.load(id);
          })
        : null,
    // A new watcher per provisioning job, not per refetch of the tenant.
    [id, provisioningId],
  );
  useEffect(() => {
    watcher?.start();
    return () => watcher?.stop();
  }, [watcher]);

  if (!detail) {
    return (
      <>
        <PageHeader title="Tenant" />
        <ErrorBanner error={tenantDetail.error.value} onRetry={() => void tenantDetail.load(id)} />
        {tenantDetail.loading.value && <Loading />}
        {tenantDetail.error.value instanceof ApiError && tenantDetail.error.value.status === 404 && (
          <Link href="/admin/tenants">Back to tenants</Link>
        )}
      </>
    );
  }

  const t = detail.tenant;
  const planInfo = plans.data.value?.data.find((p) => p.tier === t.planTier);
  const fee = t.contractPlatformFeeUsd ?? planInfo?.platformFeeUsd ?? PLANS[t.planTier]?.platformFeeUsd;
  const included = t.contractIncludedAgents ?? planInfo?.includedAgents ?? PLANS[t.planTier]?.includedAgents;
  const agents = tenantAgents.data.value?.data.filter((a) => a.tenantId === id);

  return (
    <>
      <div class="breadcrumbs">
        <Link href="/admin/tenants">Tenants</Link> <span aria-hidden="true">/</span> <span>{t.name}</span>
      </div>
      <PageHeader
        title={<span data-testid="tenant-title">{t.name}</span>}
        subtitle={<code class="mono">{t.slug}</code>}
        actions={
          <>
            <Badge tone="brand">{planLabel(t.planTier)}</Badge>
            <StatusBadge status={t.status} testId="tenant-status" />
          </>
        }
      />
      <ErrorBanner error={tenantDetail.error.value} onRetry={() => void tenantDetail.load(id)} />
      <div class="grid-2">
        <Card title="Details">
          <DefinitionList
            items={[
              ["Tenant ID", <code class="mono">{t.id}</code>],
              ["Status", <StatusBadge status={t.status} />],
              ["Plan", planLabel(t.planTier)],
              [
                "Platform fee",
                fee === undefined
                  ? "—"
                  : `${money(fee)}/mo${t.contractPlatformFeeUsd !== null ? " (contract)" : ""}`,
              ],
              [
                "Included agents",
                included === undefined
                  ? "—"
                  : `${count(included)}${t.contractIncludedAgents !== null ? " (contract)" : ""}`,
              ],
              ["Agents", count(detail.agentCount)],
              ["Overage billing", t.overageBillingEnabled ? "Enabled" : "Disabled"],
              [
                "Token quota per agent",
                t.monthlyTokenQuota === null ? "Default" : count(t.monthlyTokenQuota),
              ],
              ["Region", t.region || "Default"],
              ["Created", dateTime(t.createdAt)],
              ["Updated", dateTime(t.updatedAt)],
            ]}
          />
        </Card>
        <Card title="Provisioning">
          {watcher ? (
            <ProvisioningProgress
              watcher={watcher}
              ready={<p class="muted small">All provisioning steps completed.</p>}
            />
          ) : (
            <p class="muted">No provisioning record for this tenant.</p>
          )}
        </Card>
      </div>
      <EditTenant key={t.id} tenant={t} />
      <Card title="Agents">
        <ErrorBanner error={tenantAgents.error.value} onRetry={() => void tenantAgents.load(id)} />
        <AgentsTable
          agents={agents}
          loading={tenantAgents.loading.value}
          linkAgents={false}
          empty={
            <EmptyState title="No agents yet">This tenant's admins have not created any agents.</EmptyState>
          }
        />
      </Card>
    </>
  );
}

type EditableStatus = "active" | "suspended";

function EditTenant({ tenant }: { tenant: Tenant }) {
  const planTier = useSignal<PlanTier>(tenant.planTier);
  const status = useSignal<EditableStatus>(tenant.status === "suspended" ? "suspended" : "active");
  const overage = useSignal(tenant.overageBillingEnabled);
  const quota = useSignal(tenant.monthlyTokenQuota === null ? "" : String(tenant.monthlyTokenQuota));
  const saving = useSignal(false);
  const saved = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});

  const statusEditable = tenant.status === "active" || tenant.status === "suspended";
  const planOptions =
    plans.data.value?.data.map((p) => ({ value: p.tier, label: p.label })) ??
    PLAN_TIERS.map((tier) => ({ value: tier, label: PLANS[tier].label }));
  const chosen = plans.data.value?.data.find((p) => p.tier === planTier.value) ?? PLANS[planTier.value];
  const overageAllowed = chosen?.overageEligible ?? true;

  async function save(e: Event) {
    e.preventDefault();
    saved.value = false;
    error.value = null;
    const patch: TenantPatch = {};
    if (planTier.value !== tenant.planTier) patch.planTier = planTier.value;
    const wantOverage = overageAllowed && overage.value;
    if (wantOverage !== tenant.overageBillingEnabled) patch.overageBillingEnabled = wantOverage;
    if (statusEditable && status.value !== tenant.status) patch.status = status.value;
    const cleaned = quota.value.replace(/[,_\s]/g, "");
    if (cleaned) {
      const n = Number(cleaned);
      if (!Number.isSafeInteger(n) || n <= 0) {
        fields.value = { monthlyTokenQuota: ["Enter a whole number of tokens"] };
        return;
      }
      if (n !== tenant.monthlyTokenQuota) patch.monthlyTokenQuota = n;
    }
    fields.value = {};
    if (Object.keys(patch).length === 0) {
      error.value = "Nothing to save: no field has changed.";
      return;
    }
    saving.value = true;
    try {
      await updateTenant(tenant.id, patch);
      saved.value = true;
    } catch (err) {
      error.value = errorMessage(err);
      if (err instanceof ApiError && err.details) fields.value = err.details;
    } finally {
      saving.value = false;
    }
  }

  return (
    <Card title="Plan and status">
      <form class="form" onSubmit={save} noValidate data-testid="edit-tenant">
        {saved.value && <Banner tone="success">Changes saved.</Banner>}
        <ErrorBanner error={error.value} />
        <div class="form-row">
          <SelectField
            id="planTier"
            label="Plan"
            value={planTier}
            options={planOptions}
            error={fields.value.planTier}
          />
          <SelectField
            id="status"
            label="Status"
            value={status}
            disabled={!statusEditable}
            error={fields.value.status}
            hint={
              statusEditable
                ? "Users of a suspended tenant cannot sign in."
                : `Not editable while ${tenant.status}.`
            }
            options={[
              { value: "active", label: "Active" },
              { value: "suspended", label: "Suspended" },
            ]}
          />
          <TextField
            id="monthlyTokenQuota"
            label="Token quota per agent"
            value={quota}
            inputMode="numeric"
            optional
            placeholder="Default"
            error={fields.value.monthlyTokenQuota}
          />
        </div>
        <div class="checkbox-field">
          <input
            type="checkbox"
            id="overageBillingEnabled"
            checked={overageAllowed && overage.value}
            disabled={!overageAllowed}
            onChange={(e) => {
              overage.value = e.currentTarget.checked;
            }}
          />
          <label for="overageBillingEnabled">Overage billing enabled</label>
          {!overageAllowed && (
            <span class="muted small">
              Not available on the {chosen?.label ?? planLabel(planTier.value)} plan
            </span>
          )}
          {fields.value.overageBillingEnabled && (
            <span class="field-error">{fields.value.overageBillingEnabled.join(" ")}</span>
          )}
        </div>
        <div class="form-actions">
          <BusyButton type="submit" busy={saving} busyLabel="Saving…">
            Save changes
          </BusyButton>
        </div>
      </form>
    </Card>
  );
}
