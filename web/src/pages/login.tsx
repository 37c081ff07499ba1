import { useSignal } from "@preact/signals";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { TextField } from "../components/field";
import { IconShield } from "../components/icons";
import { BusyButton, ErrorBanner } from "../components/ui";
import { login } from "../models/session";

export function LoginPage() {
  const email = useSignal("");
  const password = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});

  async function submit(e: Event) {
    e.preventDefault();
    const errs: FieldErrors = {};
    if (!email.value.trim()) errs.email = ["Enter your email address"];
    if (!password.value) errs.password = ["Enter your password"];
    fields.value = errs;
    error.value = null;
    if (Object.keys(errs).length) return;
    busy.value = true;
    try {
      // Success changes the session; the app then routes to the user's home.
      await login(email.value.trim(), password.value);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        error.value =
          err.retryAfter !== undefined
            ? `Too many attempts, try again in ${err.retryAfter} s`
            : "Too many attempts, try again later";
      } else {
        error.value = errorMessage(err);
        if (err instanceof ApiError && err.details) fields.value = err.details;
      }
      busy.value = false;
    }
  }

  return (
    <div class="fullpage">
      <form class="auth-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <div class="auth-brand">
          <IconShield class="brand-mark" />
          <span class="brand-name">Aegis</span>
        </div>
        <h1 id="login-title" class="auth-title">
          Log in
        </h1>
        <p class="muted auth-sub">Manage your AI agents, skills and team.</p>
        <ErrorBanner error={error.value} />
        <TextField
          id="email"
          label="Email"
          type="email"
          autoComplete="username"
          value={email}
          error={fields.value.email}
          autoFocus
        />
        <TextField
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          error={fields.value.password}
        />
        <BusyButton type="submit" busy={busy} busyLabel="Logging in…" class="btn btn-primary btn-block">
          Log in
        </BusyButton>
      </form>
    </div>
  );
}
