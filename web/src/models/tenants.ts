import { computed, type ReadonlySignal, signal } from "@preact/signals";
import { ApiError, api, errorMessage } from "../api";
import type {
  AdminStats,
  Agent,
  CreateTenantInput,
  CreateTenantResponse,
  ListOf,
  Page,
  PlansResponse,
  Provisioning,
  Tenant,
  TenantDetail,
  TenantPatch,
} from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

export const TENANT_PAGE_SIZE = 20;

export const adminStats = resource((signal) =>
  api.get<AdminStats>("/api/admin/dashboard/stats", undefined, signal),
);

/** Plans change with a deploy, not during a session: fetched once. */
export const plans = resource((signal) => api.get<PlansResponse>("/api/admin/plans", undefined, signal));
export function ensurePlans(): void {
  if (!plans.data.value && !plans.loading.value) void plans.load();
}

export const tenantQuery = signal("");
export const tenantPage = signal(1);
export const tenantList = resource((signal, q: string, page: number) =>
  api.get<Page<Tenant>>("/api/admin/tenants", { q, page, limit: TENANT_PAGE_SIZE }, signal),
);
export function loadTenants(): Promise<void> {
  return tenantList.load(tenantQuery.value.trim(), tenantPage.value);
}

/**
 * Tenants for pickers (up to 100, by name), searched on the server by name or slug. The last answer
 * stays visible while the next one loads.
 */
export const tenantDirectory = resource(async (signal, q: string) => {
  const page = await api.get<Page<Tenant>>("/api/admin/tenants", { q, page: 1, limit: 100 }, signal);
  return { q, total: page.meta.total, data: [...page.data].sort((a, b) => a.name.localeCompare(b.name)) };
});

export const tenantDetail = resource((signal, id: string) =>
  api.get<TenantDetail>(`/api/admin/tenants/${encodeURIComponent(id)}`, undefined, signal),
);
export const tenantAgents = resource((signal, id: string) =>
  api.get<ListOf<Agent>>(`/api/admin/tenants/${encodeURIComponent(id)}/agents`, undefined, signal),
);

export function createTenant(input: CreateTenantInput): Promise<CreateTenantResponse> {
  return api.post<CreateTenantResponse>("/api/admin/tenants", input);
}

export async function updateTenant(id: string, patch: TenantPatch): Promise<Tenant> {
  const { tenant } = await api.patch<{ tenant: Tenant }>(
    `/api/admin/tenants/${encodeURIComponent(id)}`,
    patch,
  );
  const current = tenantDetail.data.value;
  if (current && current.tenant.id === id) tenantDetail.set({ ...current, tenant });
  return tenant;
}

const POLL_MS = 500;

export interface ProvisioningWatcher {
  readonly provisioning: ReadonlySignal<Provisioning | null>;
  readonly pollError: ReadonlySignal<string | null>;
  readonly retrying: ReadonlySignal<boolean>;
  readonly retryError: ReadonlySignal<string | null>;
  /** completed or failed */
  readonly done: ReadonlySignal<boolean>;
  start(): void;
  retry(): Promise<void>;
  stop(): void;
}

/**
 * Polls a tenant's provisioning every 500 ms until it completes or fails; a retry resumes polling.
 * Transient poll failures are shown but do not stop the loop; auth and not-found errors do.
 */
export function watchProvisioning(
  tenantId: string,
  initial: Provisioning | null,
  onSettled?: (p: Provisioning) => void,
): ProvisioningWatcher {
  const provisioning = signal<Provisioning | null>(initial);
  const pollError = signal<string | null>(null);
  const retrying = signal(false);
  const retryError = signal<string | null>(null);
  const done = computed(() => {
    const s = provisioning.value?.status;
    return s === "completed" || s === "failed";
  });
  const url = `/api/admin/tenants/${encodeURIComponent(tenantId)}/provisioning`;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = true;

  const schedule = () => {
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };

  async function tick() {
    timer = null;
    try {
      const p = await api.get<Provisioning>(url);
      if (stopped) return;
      provisioning.value = p;
      pollError.value = null;
      if (p.status === "completed" || p.status === "failed") {
        stopped = true;
        onSettled?.(p);
        return;
      }
    } catch (e) {
      if (stopped) return;
      pollError.value = errorMessage(e);
      if (e instanceof ApiError && [401, 403, 404].includes(e.status)) {
        stopped = true;
        return;
      }
    }
    schedule();
  }

  return {
    provisioning,
    pollError,
    retrying,
    retryError,
    done,
    start() {
      if (!stopped) return;
      const s = provisioning.value?.status;
      if (s === "completed" || s === "failed") return;
      stopped = false;
      schedule();
    },
    async retry() {
      retrying.value = true;
      retryError.value = null;
      try {
        provisioning.value = await api.post<Provisioning>(`${url}/retry`, {});
        stopped = false;
        if (timer) clearTimeout(timer);
        schedule();
      } catch (e) {
        retryError.value = errorMessage(e);
      } finally {
        retrying.value = false;
      }
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

onSessionReset(() => {
  adminStats.reset();
  plans.reset();
  tenantList.reset();
  tenantDirectory.reset();
  tenantDetail.reset();
  tenantAgents.reset();
  tenantQuery.value = "";
  tenantPage.value = 1;
});
