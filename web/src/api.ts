/**
 * The one way the UI talks to the Worker: same-origin JSON with the session cookie. A 401 triggers one
 * cookie-based refresh and a retry; if that fails too, the unauthorized handler (set by the session
 * model) takes the user to /login.
 */

export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: FieldErrors;
  readonly requestId?: string;
  /** Seconds, from the Retry-After header of a 429. */
  readonly retryAfter?: number;
  /** The error body as sent, for codes whose `details` are not field messages (a 409's `current`). */
  readonly body?: unknown;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { details?: FieldErrors; requestId?: string; retryAfter?: number; body?: unknown } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    if (extra.body !== undefined) this.body = extra.body;
    if (extra.details) this.details = extra.details;
    if (extra.requestId) this.requestId = extra.requestId;
    if (extra.retryAfter !== undefined) this.retryAfter = extra.retryAfter;
  }
}

/** Paths whose 401 means "wrong input", not "session expired". */
const NO_REFRESH = ["/api/auth/login", "/api/auth/refresh", "/api/auth/invites/accept"];

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time: parallel 401s (and the live feed's 4401 close) wait for the same attempt. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch("/api/auth/refresh", {
    method: "POST",
    credentials: "same-origin",
    headers: { accept: "application/json" },
  })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseDetails(v: unknown): FieldErrors | undefined {
  if (!isRecord(v)) return undefined;
  const out: FieldErrors = {};
  for (const [key, value] of Object.entries(v)) {
    if (typeof value === "string") out[key] = [value];
    else if (Array.isArray(value)) out[key] = value.filter((x): x is string => typeof x === "string");
  }
  return Object.keys(out).length ? out : undefined;
}

async function toApiError(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy page, an empty body): fall back to the status line.
  }
  const retryHeader = res.headers.get("retry-after");
  const retryAfter = retryHeader && /^\d+$/.test(retryHeader) ? Number(retryHeader) : undefined;
  const requestId = res.headers.get("x-request-id") ?? undefined;
  if (isRecord(body)) {
    const code = typeof body.code === "string" ? body.code : `http_${res.status}`;
    const message =
      typeof body.message === "string" && body.message
        ? body.message
        : typeof body.error === "string"
          ? body.error
          : res.statusText || `Request failed (${res.status})`;
    const details = parseDetails(body.details);
    const rid = typeof body.requestId === "string" ? body.requestId : requestId;
    return new ApiError(res.status, code, message, {
      body,
      ...(details ? { details } : {}),
      ...(rid ? { requestId: rid } : {}),
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    });
  }
  return new ApiError(res.status, `http_${res.status}`, res.statusText || `Request failed (${res.status})`, {
    ...(requestId ? { requestId } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}

type Query = Record<string, string | number | boolean | null | undefined>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}${path.includes("?") ? "&" : "?"}${qs}` : path;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const url = withQuery(path, opts.query);
  // A FormData body (a file upload) sets its own multipart content type with the boundary.
  const form = opts.body instanceof FormData ? opts.body : null;
  const init: RequestInit = {
    method,
    credentials: "same-origin",
    headers:
      opts.body === undefined || form
        ? { accept: "application/json" }
        : { accept: "application/json", "content-type": "application/json" },
    ...(opts.body === undefined ? {} : { body: form ?? JSON.stringify(opts.body) }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network_error", "Cannot reach the server. Check your connection and try again.");
  }
  if (res.status === 401 && !NO_REFRESH.includes(path)) {
    if (await refreshSession()) res = await fetch(url, init);
    if (res.status === 401) {
      const err = await toApiError(res);
      onUnauthorized();
      throw err;
    }
  }
  if (!res.ok) throw await toApiError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, "invalid_response", "The server sent an unexpected response. Try again.");
  }
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) =>
    request<T>("GET", path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) }),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body === undefined ? {} : { body }),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, { body }),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, { body }),
  /** multipart/form-data, for file uploads. */
  postForm: <T>(path: string, form: FormData) => request<T>("POST", path, { body: form }),
  del: <T = void>(path: string) => request<T>("DELETE", path),
};

export interface VersionInfo {
  version?: number;
  updatedBy?: string | null;
  updatedAt?: string | null;
}

/** From a 409 `version_conflict`: `details.current`, the version that was saved in between. */
export function conflictCurrent(e: unknown): VersionInfo | null {
  if (!(e instanceof ApiError) || e.status !== 409) return null;
  const details = isRecord(e.body) ? e.body.details : undefined;
  const current = isRecord(details) ? details.current : undefined;
  if (!isRecord(current)) return {};
  return {
    ...(typeof current.version === "number" ? { version: current.version } : {}),
    ...(typeof current.updatedBy === "string" ? { updatedBy: current.updatedBy } : {}),
    ...(typeof current.updatedAt === "string" ? { updatedAt: current.updatedAt } : {}),
  };
}

/** A message for any thrown value, preferring the server's own words. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return "Something went wrong";
}
