import { describe, expect, it } from "vitest";
import {
  AGENT_FEE_USD,
  agentMonthlyFeeUsd,
  HIGH_THINKING_SURCHARGE_USD,
  isModelAllowed,
  isThinkingModeAllowed,
  MODEL_TIERS,
  PLAN_TIERS,
  THINKING_MODES,
} from "../../lib/pricing";
import { admitModelCall, type BillingProfile, thinkingModeOf, tierOfModel } from "./profile";
import { costMicros, effectiveQuotaState, overageOf, thresholdsReached } from "./usage";

const PLAN_TABLE = {
  starter: { models: ["sonnet"], thinking: ["off", "low"] },
  growth: { models: ["sonnet", "opus"], thinking: ["off", "low", "high"] },
  enterprise: { models: ["haiku", "sonnet", "opus"], thinking: ["off", "low", "high"] },
} as const;
const FEES = { haiku: 19, sonnet: 49, opus: 99 } as const;

describe("every plan × model × thinking mode × included/extra (pricing.md)", () => {
  for (const plan of PLAN_TIERS) {
    for (const model of MODEL_TIERS) {
      for (const thinking of THINKING_MODES) {
        for (const included of [true, false]) {
          const allowed =
            (PLAN_TABLE[plan].models as readonly string[]).includes(model) &&
            (PLAN_TABLE[plan].thinking as readonly string[]).includes(thinking);
          const fee = (included ? 0 : FEES[model]) + (thinking === "high" ? 20 : 0);
          it(`${plan} ${model} thinking ${thinking} ${included ? "included" : "extra"}: ${allowed ? `$${fee}/mo` : "refused"}`, () => {
            expect(isModelAllowed(plan, model) && isThinkingModeAllowed(plan, thinking)).toBe(allowed);
            expect(agentMonthlyFeeUsd(model, thinking, included)).toBe(fee);
            // The gateway agrees with the plan for an agent configured at this model and mode.
            const profile: BillingProfile = {
              planTier: plan,
              modelTier: model,
              thinkingMode: thinking,
              quotaState: "normal",
              overageEnabled: false,
            };
            expect(admitModelCall(profile, { tier: model, thinking }, 0, null).ok).toBe(allowed);
          });
        }
      }
    }
  }
  it("uses the fee constants of pricing.ts", () => {
    expect(AGENT_FEE_USD).toEqual(FEES);
    expect(HIGH_THINKING_SURCHARGE_USD).toBe(20);
  });
});

describe("gateway admission", () => {
  const base: BillingProfile = {
    planTier: "enterprise",
    modelTier: "sonnet",
    thinkingMode: "low",
    quotaState: "normal",
    overageEnabled: false,
  };
  it("lets an agent use its own tier or a cheaper one, never a dearer one", () => {
    expect(admitModelCall(base, { tier: "haiku", thinking: "off" }, 0, null).ok).toBe(true);
    expect(admitModelCall(base, { tier: "opus", thinking: "off" }, 0, null)).toMatchObject({
      ok: false,
      status: 403,
      code: "model_not_allowed",
    });
    expect(admitModelCall(base, { tier: "sonnet", thinking: "high" }, 0, null)).toMatchObject({
      code: "thinking_mode_not_allowed",
    });
  });
  it("rate_limited: one call per 10 s with the seconds left; paused: none; overage: all", () => {
    const limited = { ...base, quotaState: "rate_limited" as const };
    expect(admitModelCall(limited, { tier: "sonnet", thinking: "off" }, 50_000, null).ok).toBe(true);
    expect(admitModelCall(limited, { tier: "sonnet", thinking: "off" }, 50_000, 45_000)).toMatchObject({
      status: 429,
      code: "quota_rate_limited",
      retryAfterSeconds: 5,
    });
    expect(admitModelCall(limited, { tier: "sonnet", thinking: "off" }, 55_000, 45_000).ok).toBe(true);
    const paused = { ...base, quotaState: "paused" as const };
    expect(admitModelCall(paused, { tier: "sonnet", thinking: "off" }, 0, null)).toMatchObject({
      status: 429,
      code: "quota_paused",
    });
    expect(
      admitModelCall({ ...paused, overageEnabled: true }, { tier: "sonnet", thinking: "off" }, 0, null).ok,
    ).toBe(true);
  });
  it("reads the tier from a model id and the thinking mode from the request", () => {
    expect(tierOfModel("claude-sonnet-4-5")).toBe("sonnet");
    expect(tierOfModel("claude-3-5-haiku-latest")).toBe("haiku");
    expect(tierOfModel("claude-opus-4-1-20250805")).toBe("opus");
    expect(tierOfModel("gpt-4o")).toBeNull();
    expect(thinkingModeOf(undefined)).toBe("off");
    expect(thinkingModeOf({ type: "disabled" })).toBe("off");
    expect(thinkingModeOf({ type: "enabled", budget_tokens: 1024 })).toBe("low");
    expect(thinkingModeOf({ type: "enabled", budget_tokens: 8192 })).toBe("high");
  });
});

describe("quota states and thresholds", () => {
  it("changes state exactly at 80/100/120/150%", () => {
    const q = 1000;
    expect(effectiveQuotaState(799, q, false)).toBe("normal");
    expect(effectiveQuotaState(800, q, false)).toBe("warning");
    expect(effectiveQuotaState(999, q, false)).toBe("warning");
    expect(effectiveQuotaState(1000, q, false)).toBe("grace");
    expect(effectiveQuotaState(1199, q, false)).toBe("grace");
    expect(effectiveQuotaState(1200, q, false)).toBe("rate_limited");
    expect(effectiveQuotaState(1499, q, false)).toBe("rate_limited");
    expect(effectiveQuotaState(1500, q, false)).toBe("paused");
  });
  it("an acknowledged pause continues rate limited below 200%, and pauses again at 200%", () => {
    expect(effectiveQuotaState(1500, 1000, true)).toBe("rate_limited");
    expect(effectiveQuotaState(1999, 1000, true)).toBe("rate_limited");
    expect(effectiveQuotaState(2000, 1000, true)).toBe("paused");
  });
  it("lists every threshold reached, lowest first", () => {
    expect(thresholdsReached(799, 1000)).toEqual([]);
    expect(thresholdsReached(1250, 1000)).toEqual(["warning", "grace", "rate_limited"]);
    expect(thresholdsReached(5, 0)).toEqual(["paused"]);
  });
});

describe("overage arithmetic at the thresholds", () => {
  const call = { inputTokens: 600, outputTokens: 300, thinkingTokens: 100, cacheReadTokens: 0 };
  it("nothing while the call ends at or below the quota", () => {
    expect(overageOf("sonnet", call, 0, 1000, 1000)).toEqual({ inputTokens: 0, outputTokens: 0, micros: 0 });
  });
  it("only the part beyond the quota, split over input and output in proportion", () => {
    // 1,000-token call from 500 to 1,500 with a quota of 1,000: half of it is overage.
    const o = overageOf("sonnet", call, 500, 1500, 1000);
    expect(o).toEqual({ inputTokens: 300, outputTokens: 200, micros: 300 * 5 + 200 * 20 });
  });
  it("all of a call made entirely beyond the quota, at each model's rates", () => {
    expect(overageOf("opus", call, 1000, 2000, 1000)).toEqual({
      inputTokens: 600,
      outputTokens: 400,
      micros: 600 * 8 + 400 * 35,
    });
    expect(overageOf("haiku", call, 3000, 4000, 1000).micros).toBe(1000 * 8);
  });
  it("estimates the upstream cost with cache reads at one tenth of the input price", () => {
    const e = {
      tenantId: "t",
      agentId: "a",
      model: "m",
      modelTier: "sonnet" as const,
      at: "2026-11-01T00:00:00.000Z",
      inputTokens: 1_000_000,
      outputTokens: 1_000_000,
      thinkingTokens: 0,
      cacheReadTokens: 1_000_000,
      cacheWriteTokens: 0,
      usageMissing: false,
      stream: false,
    };
    // $3 input + $15 output + $0.30 cache reads = $18.30.
    expect(costMicros("sonnet", e)).toBe(18_300_000);
  });
});
