/**
 * Plans and prices, as data (../shared/pricing.md). A price change is an edit here and nowhere else.
 * Pure: imported by the Worker, the web UI and the tests.
 */

export const PLAN_TIERS = ["starter", "growth", "enterprise"] as const;
export type PlanTier = (typeof PLAN_TIERS)[number];

export const MODEL_TIERS = ["haiku", "sonnet", "opus"] as const;
export type ModelTier = (typeof MODEL_TIERS)[number];

export const THINKING_MODES = ["off", "low", "high"] as const;
export type ThinkingMode = (typeof THINKING_MODES)[number];

export interface Plan {
  tier: PlanTier;
  label: string;
  platformFeeUsd: number;
  /** Agents billed at $0: the tenant's first N agents by creation time. */
  includedAgents: number;
  /** null = unlimited */
  maxAgents: number | null;
  models: readonly ModelTier[];
  thinkingModes: readonly ThinkingMode[];
  overageEligible: boolean;
  auditRetentionDays: number;
  /** null = unlimited */
  privateSkills: number | null;
  /** Enterprise prices are set per contract; the numbers above are the defaults in code. */
  customContract: boolean;
}

export const PLANS: Record<PlanTier, Plan> = {
  starter: {
    tier: "starter",
    label: "Starter",
    platformFeeUsd: 99,
    includedAgents: 2,
    maxAgents: 5,
    models: ["sonnet"],
    thinkingModes: ["off", "low"],
    overageEligible: false,
    auditRetentionDays: 30,
    privateSkills: 0,
    customContract: false,
  },
  growth: {
    tier: "growth",
    label: "Growth",
    platformFeeUsd: 299,
    includedAgents: 5,
    maxAgents: 20,
    models: ["sonnet", "opus"],
    thinkingModes: ["off", "low", "high"],
    overageEligible: true,
    auditRetentionDays: 90,
    privateSkills: 5,
    customContract: false,
  },
  enterprise: {
    tier: "enterprise",
    label: "Enterprise",
    platformFeeUsd: 0,
    includedAgents: 10,
    maxAgents: null,
    models: ["haiku", "sonnet", "opus"],
    thinkingModes: ["off", "low", "high"],
    overageEligible: true,
    auditRetentionDays: 365,
    privateSkills: null,
    customContract: true,
  },
};

/** Monthly fee of an agent beyond the included count. */
export const AGENT_FEE_USD: Record<ModelTier, number> = { haiku: 19, sonnet: 49, opus: 99 };

/** Added to any agent's fee (included agents too) in high thinking mode. */
export const HIGH_THINKING_SURCHARGE_USD = 20;

export const DEFAULT_MONTHLY_TOKEN_QUOTA = 2_500_000;

/** Cache reads count at one tenth toward the quota and cost one tenth of the input price. */
export const CACHE_READ_WEIGHT = 0.1;

/** Per 1M tokens; thinking counts as output. */
export const OVERAGE_RATES_USD: Record<ModelTier, { input: number; output: number }> = {
  haiku: { input: 8, output: 8 },
  sonnet: { input: 5, output: 20 },
  opus: { input: 8, output: 35 },
};

/** Upstream cost basis per 1M tokens, for estimated cost in usage views. */
export const UPSTREAM_COST_USD: Record<ModelTier, { input: number; output: number }> = {
  haiku: { input: 1, output: 5 },
  sonnet: { input: 3, output: 15 },
  opus: { input: 5, output: 25 },
};

export const QUOTA_STATES = ["normal", "warning", "grace", "rate_limited", "paused"] as const;
export type QuotaState = (typeof QUOTA_STATES)[number];

/** Lower bound (share of quota) of each state above normal, in ascending order. */
export const QUOTA_THRESHOLDS: ReadonlyArray<{ state: Exclude<QuotaState, "normal">; atLeast: number }> = [
  { state: "warning", atLeast: 0.8 },
  { state: "grace", atLeast: 1.0 },
  { state: "rate_limited", atLeast: 1.2 },
  { state: "paused", atLeast: 1.5 },
];

/** After an admin acknowledges a pause, the agent may continue up to this share of its quota. */
export const ACKNOWLEDGED_CEILING = 2.0;

/** In `rate_limited`, at most one model call per agent per this many seconds. */
export const RATE_LIMITED_INTERVAL_SECONDS = 10;

export interface TenantTerms {
  planTier: PlanTier;
  contractPlatformFeeUsd?: number | null;
  contractIncludedAgents?: number | null;
}

export function planOf(tier: PlanTier): Plan {
  return PLANS[tier];
}

export function platformFeeUsd(t: TenantTerms): number {
  return t.contractPlatformFeeUsd ?? PLANS[t.planTier].platformFeeUsd;
}

export function includedAgents(t: TenantTerms): number {
  return t.contractIncludedAgents ?? PLANS[t.planTier].includedAgents;
}

export function isModelAllowed(tier: PlanTier, model: ModelTier): boolean {
  return PLANS[tier].models.includes(model);
}

export function isThinkingModeAllowed(tier: PlanTier, mode: ThinkingMode): boolean {
  return PLANS[tier].thinkingModes.includes(mode);
}

export function agentMonthlyFeeUsd(model: ModelTier, thinking: ThinkingMode, included: boolean): number {
  const base = included ? 0 : AGENT_FEE_USD[model];
  return base + (thinking === "high" ? HIGH_THINKING_SURCHARGE_USD : 0);
}

export interface PricedAgent {
  modelTier: ModelTier;
  thinkingMode: ThinkingMode;
}

/** The tenant's agents in creation order, each with whether it is included and its fee. */
export function priceAgents<T extends PricedAgent>(
  terms: TenantTerms,
  agentsByCreation: readonly T[],
): Array<T & { included: boolean; monthlyFeeUsd: number }> {
  const n = includedAgents(terms);
  return agentsByCreation.map((a, i) => {
    const included = i < n;
    return { ...a, included, monthlyFeeUsd: agentMonthlyFeeUsd(a.modelTier, a.thinkingMode, included) };
  });
}

export function monthlyTotalUsd(terms: TenantTerms, agentsByCreation: readonly PricedAgent[]): number {
  return priceAgents(terms, agentsByCreation).reduce(
    (sum, a) => sum + a.monthlyFeeUsd,
    platformFeeUsd(terms),
  );
}

export interface PricingPreview {
  included: boolean;
  monthlyFeeUsd: number;
  label: string;
  currentMonthlyTotalUsd: number;
  newMonthlyTotalUsd: number;
}

/** What adding one more agent of this model and thinking mode would cost (E12-05). */
export function previewNewAgent(
  terms: TenantTerms,
  existing: readonly PricedAgent[],
  model: ModelTier,
  thinking: ThinkingMode,
): PricingPreview {
  const included = existing.length < includedAgents(terms);
  const fee = agentMonthlyFeeUsd(model, thinking, included);
  const current = monthlyTotalUsd(terms, existing);
  return {
    included,
    monthlyFeeUsd: fee,
    label: fee === 0 ? "Included" : included ? `Included +$${fee}/mo` : `+$${fee}/mo`,
    currentMonthlyTotalUsd: current,
    newMonthlyTotalUsd: current + fee,
  };
}

export function effectiveQuota(tenantQuota: number, override: number | null | undefined): number {
  return override ?? tenantQuota;
}

/** Tokens that count toward the quota: input + output + thinking, cache reads at one tenth. */
export function quotaTokens(u: {
  inputTokens: number;
  outputTokens: number;
  thinkingTokens: number;
  cacheReadTokens: number;
}): number {
  return u.inputTokens + u.outputTokens + u.thinkingTokens + Math.ceil(u.cacheReadTokens * CACHE_READ_WEIGHT);
}

export function quotaStateFor(used: number, quota: number): QuotaState {
  if (quota <= 0) return used > 0 ? "paused" : "normal";
  const share = used / quota;
  let state: QuotaState = "normal";
  for (const t of QUOTA_THRESHOLDS) if (share >= t.atLeast) state = t.state;
  return state;
}

/** The first instant of the next calendar month in UTC: when monthly usage resets. */
export function nextQuotaReset(from: Date): string {
  return new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)).toISOString();
}
