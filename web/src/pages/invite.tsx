import { useSignal } from "@preact/signals";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { TextField } from "../components/field";
import { IconShield } from "../components/icons";
import { BusyButton, ErrorBanner } from "../components/ui";
import { acceptInvite, homePath } from "../models/session";
import { navigate, searchParams } from "../router";

const MIN_PASSWORD = 12;

export function InvitePage() {
  const token = searchParams.value.get("token") ?? "";
  const name = useSignal("");
  const password = useSignal("");
  const confirm = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});

  async function submit(e: Event) {
    e.preventDefault();
    const errs: FieldErrors = {};
    if (!name.value.trim()) errs.name = ["Enter your name"];
    if (password.value.length < MIN_PASSWORD) errs.password = [`Use at least ${MIN_PASSWORD} characters`];
    else if (confirm.value !== password.value) errs.confirm = ["Passwords do not match"];
    fields.value = errs;
    error.value = null;
    if (Object.keys(errs).length) return;
    busy.value = true;
    try {
      await acceptInvite(token, name.value.trim(), password.value);
      navigate(homePath(), { replace: true });
    } catch (err) {
      error.value = errorMessage(err);
      if (err instanceof ApiError && err.details) fields.value = err.details;
      busy.value = false;
    }
  }

  return (
    <div class="fullpage">
      <form class="auth-card" onSubmit={submit} noValidate aria-labelledby="invite-title">
        <div class="auth-brand">
          <IconShield class="brand-mark" />
          <span class="brand-name">Aegis</span>
        </div>
        <h1 id="invite-title" class="auth-title">
          Accept your invitation
        </h1>
        {!token ? (
          <ErrorBanner error="This invitation link is incomplete. Ask your admin for a new one." />
        ) : (
          <>
            <p class="muted auth-sub">Choose your name and a password to join your team.</p>
            <ErrorBanner error={error.value} />
            {fields.value.token && <ErrorBanner error={fields.value.token.join(" ")} />}
            <TextField
              id="name"
              label="Your name"
              autoComplete="name"
              value={name}
              error={fields.value.name}
              autoFocus
            />
            <TextField
              id="password"
              label="Password"
              type="password"
              autoComplete="new-password"
              value={password}
              error={fields.value.password}
              hint={`At least ${MIN_PASSWORD} characters`}
            />
            <TextField
              id="confirm"
              label="Confirm password"
              type="password"
              autoComplete="new-password"
              value={confirm}
              error={fields.value.confirm}
            />
            <BusyButton type="submit" busy={busy} busyLabel="Joining…" class="btn btn-primary btn-block">
              Accept invitation
            </BusyButton>
          </>
        )}
      </form>
    </div>
  );
}
