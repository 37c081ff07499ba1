import { computed } from "@preact/signals";
import { api } from "../api";
import type {
  AcknowledgeResponse,
  BillingAgentLine,
  BillingOverview,
  BillingUsage,
  OverageSettings,
  QuotaState,
} from "../types";
import { resource } from "./resource";
import { onSessionReset } from "./session";

const BASE = "/api/dashboard/billing";

export const billingOverview = resource((signal) =>
  api.get<BillingOverview>(`${BASE}/overview`, undefined, signal),
);

/** Remembers the month it was asked for, so one month's usage is never shown under another's name. */
export const billingUsage = resource(async (signal, month: string) => {
  const usage = await api.get<BillingUsage>(`${BASE}/usage`, { month }, signal);
  return { month, usage };
});

export const overageSettings = resource((signal) =>
  api.get<OverageSettings>(`${BASE}/overage`, undefined, signal),
);

/** Turns overage billing on or off; the overview (plan flag, projection) is fetched again after. */
export async function setOverage(enabled: boolean): Promise<OverageSettings> {
  const settings = await api.put<OverageSettings>(`${BASE}/overage`, { enabled });
  overageSettings.set(settings);
  void billingOverview.load();
  return settings;
}

/** Lets a paused agent continue (up to 200% of its quota); the agent's line is updated in place. */
export async function acknowledgeQuota(agentId: string): Promise<AcknowledgeResponse["agent"]> {
  const { agent } = await api.post<AcknowledgeResponse>(
    `${BASE}/agents/${encodeURIComponent(agentId)}/acknowledge`,
  );
  const overview = billingOverview.data.value;
  if (overview) {
    billingOverview.set({
      ...overview,
      agents: overview.agents.map((a) =>
        a.agentId === agent.id ? { ...a, quotaState: agent.quotaState } : a,
      ),
    });
  }
  return agent;
}

/** Quota states from the lowest that needs attention to the most severe. */
export const QUOTA_ATTENTION: readonly QuotaState[] = ["warning", "grace", "rate_limited", "paused"];
const severity = (s: QuotaState) => QUOTA_ATTENTION.indexOf(s);

/** Agents at warning or above, the most severe first. */
export const agentsNeedingAttention = computed<BillingAgentLine[]>(() =>
  (billingOverview.data.value?.agents ?? [])
    .filter((a) => severity(a.quotaState) >= 0)
    .sort((a, b) => severity(b.quotaState) - severity(a.quotaState) || a.name.localeCompare(b.name)),
);

/** The current calendar month in UTC, "YYYY-MM" (when quotas reset). */
export function currentUtcMonth(now = new Date()): string {
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}

export function isMonth(v: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(v);
}

/** `month` and the `count - 1` months before it, newest first. */
export function recentMonths(month: string, count = 12): string[] {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return [];
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(y, mo - i, 1));
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
  });
}

/** Every day of a "YYYY-MM" month as "YYYY-MM-DD". */
export function daysOfMonth(month: string): string[] {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return [];
  const n = new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
  return Array.from({ length: n }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`);
}

onSessionReset(() => {
  billingOverview.reset();
  billingUsage.reset();
  overageSettings.reset();
});
