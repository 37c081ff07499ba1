import { useSignal } from "@preact/signals";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { TextField } from "../components/field";
import { Banner, BusyButton, Card, DefinitionList, ErrorBanner, PageHeader } from "../components/ui";
import { roleLabel } from "../format";
import { changePassword, currentTenant, user } from "../models/session";

const MIN_PASSWORD = 12;

export function AccountPage() {
  const current = useSignal("");
  const next = useSignal("");
  const confirm = useSignal("");
  const busy = useSignal(false);
  const done = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});
  const u = user.value;

  async function submit(e: Event) {
    e.preventDefault();
    const errs: FieldErrors = {};
    if (!current.value) errs.currentPassword = ["Enter your current password"];
    if (next.value.length < MIN_PASSWORD) errs.newPassword = [`Use at least ${MIN_PASSWORD} characters`];
    else if (next.value === current.value)
      errs.newPassword = ["Choose a password different from the current one"];
    if (!errs.newPassword && confirm.value !== next.value) errs.confirmPassword = ["Passwords do not match"];
    fields.value = errs;
    error.value = null;
    done.value = false;
    if (Object.keys(errs).length) return;
    busy.value = true;
    try {
      await changePassword(current.value, next.value);
      done.value = true;
      current.value = "";
      next.value = "";
      confirm.value = "";
    } catch (err) {
      error.value = errorMessage(err);
      if (err instanceof ApiError && err.details) fields.value = err.details;
    } finally {
      busy.value = false;
    }
  }

  return (
    <>
      <PageHeader title="Account" subtitle="Your profile and password." />
      <div class="grid-2">
        <Card title="Profile">
          {u && (
            <DefinitionList
              items={[
                ["Name", u.name],
                ["Email", u.email],
                ["Role", roleLabel(u.role)],
                ["Tenant", currentTenant.value?.name ?? "Platform operator"],
              ]}
            />
          )}
        </Card>
        <Card title="Change password">
          <form onSubmit={submit} noValidate class="form">
            {done.value && (
              <Banner tone="success" data-testid="password-changed">
                Password changed. Your other sessions have been signed out.
              </Banner>
            )}
            <ErrorBanner error={error.value} />
            <TextField
              id="currentPassword"
              label="Current password"
              type="password"
              autoComplete="current-password"
              value={current}
              error={fields.value.currentPassword}
            />
            <TextField
              id="newPassword"
              label="New password"
              type="password"
              autoComplete="new-password"
              value={next}
              error={fields.value.newPassword}
              hint={`At least ${MIN_PASSWORD} characters`}
            />
            <TextField
              id="confirmPassword"
              label="Confirm password"
              type="password"
              autoComplete="new-password"
              value={confirm}
              error={fields.value.confirmPassword}
            />
            <div class="form-actions">
              <BusyButton type="submit" busy={busy} busyLabel="Changing password…">
                Change password
              </BusyButton>
            </div>
          </form>
        </Card>
      </div>
    </>
  );
}
