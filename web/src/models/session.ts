import { computed, signal } from "@preact/signals";
import { ApiError, api, setUnauthorizedHandler } from "../api";
import { location, navigate } from "../router";
import type { LoginResponse, Me } from "../types";

export type SessionStatus = "unknown" | "authenticated" | "anonymous" | "error";

export const me = signal<Me | null>(null);
export const sessionStatus = signal<SessionStatus>("unknown");
export const sessionError = signal<string | null>(null);

export const user = computed(() => me.value?.user ?? null);
export const currentTenant = computed(() => me.value?.tenant ?? null);
export const isOperator = computed(() => user.value?.role === "platform_admin");
/** tenant_member: every mutation is hidden or disabled. */
export const isReadOnly = computed(() => user.value?.role === "tenant_member");
export const canWrite = computed(() => user.value !== null && user.value.role !== "tenant_member");

/** Paths reachable without a session. */
export const PUBLIC_PATHS = ["/login", "/invite"];
export function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.includes(path.replace(/\/+$/, "") || "/");
}

const resetters: Array<() => void> = [];
/** Models register here so that one user's data never shows to the next one in the same tab. */
export function onSessionReset(fn: () => void): void {
  resetters.push(fn);
}
function resetModels() {
  for (const fn of resetters) fn();
}

export function homePath(): string {
  return isOperator.value ? "/admin/tenants" : "/agents";
}

function goToLogin() {
  const { path, search } = location.value;
  if (isPublicPath(path)) return;
  const next = path === "/" ? "" : `?next=${encodeURIComponent(path + search)}`;
  navigate(`/login${next}`, { replace: true });
}

setUnauthorizedHandler(() => {
  me.value = null;
  sessionStatus.value = "anonymous";
  goToLogin();
});

export async function loadSession(): Promise<void> {
  sessionError.value = null;
  try {
    me.value = await api.get<Me>("/api/auth/me");
    sessionStatus.value = "authenticated";
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      me.value = null;
      sessionStatus.value = "anonymous";
    } else {
      sessionError.value = e instanceof Error ? e.message : "Cannot load your session";
      sessionStatus.value = "error";
    }
  }
}

/** Takes a login-shaped answer (login, invite accept), then loads the tenant from /me. */
export async function startSession(res: LoginResponse): Promise<void> {
  resetModels();
  try {
    me.value = await api.get<Me>("/api/auth/me");
  } catch {
    me.value = { user: res.user, tenant: null };
  }
  sessionStatus.value = "authenticated";
}

export async function login(email: string, password: string): Promise<void> {
  const res = await api.post<LoginResponse>("/api/auth/login", { email, password });
  await startSession(res);
}

export async function logout(): Promise<void> {
  try {
    await api.post<void>("/api/auth/logout");
  } catch {
    // The cookie may already be gone; logging out locally is what matters.
  }
  resetModels();
  me.value = null;
  sessionStatus.value = "anonymous";
  navigate("/login", { replace: true });
}

export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await api.post<void>("/api/auth/password", { currentPassword, newPassword });
}

export async function acceptInvite(token: string, name: string, password: string): Promise<void> {
  const res = await api.post<LoginResponse>("/api/auth/invites/accept", { token, name, password });
  await startSession(res);
}
