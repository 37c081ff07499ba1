import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import {
  ACKNOWLEDGED_CEILING,
  AGENT_FEE_USD,
  CACHE_READ_WEIGHT,
  DEFAULT_MONTHLY_TOKEN_QUOTA,
  effectiveQuota,
  HIGH_THINKING_SURCHARGE_USD,
  includedAgents,
  isModelAllowed,
  isThinkingModeAllowed,
  MODEL_TIERS,
  monthlyTotalUsd,
  nextQuotaReset,
  OVERAGE_RATES_USD,
  PLAN_TIERS,
  PLANS,
  type PlanTier,
  type PricedAgent,
  platformFeeUsd,
  previewNewAgent,
  priceAgents,
  QUOTA_STATES,
  QUOTA_THRESHOLDS,
  type QuotaState,
  quotaStateFor,
  quotaTokens,
  RATE_LIMITED_INTERVAL_SECONDS,
  type TenantTerms,
  THINKING_MODES,
  UPSTREAM_COST_USD,
} from "./pricing";

/**
 * The numbers of /shared/pricing.md, written out by hand so that the tests compare the code with the
 * document rather than with itself.
 */
const SPEC_PLANS = {
  starter: {
    platformFeeUsd: 99,
    includedAgents: 2,
    maxAgents: 5,
    models: ["sonnet"],
    thinkingModes: ["off", "low"],
    overageEligible: false,
    auditRetentionDays: 30,
    privateSkills: 0,
  },
  growth: {
    platformFeeUsd: 299,
    includedAgents: 5,
    maxAgents: 20,
    models: ["sonnet", "opus"],
    thinkingModes: ["off", "low", "high"],
    overageEligible: true,
    auditRetentionDays: 90,
    privateSkills: 5,
  },
  enterprise: {
    platformFeeUsd: 0,
    includedAgents: 10,
    maxAgents: null,
    models: ["haiku", "sonnet", "opus"],
    thinkingModes: ["off", "low", "high"],
    overageEligible: true,
    auditRetentionDays: 365,
    privateSkills: null,
  },
} as const;
const SPEC_AGENT_FEE = { haiku: 19, sonnet: 49, opus: 99 } as const;
const SPEC_HIGH_THINKING = 20;

const agent = (modelTier: PricedAgent["modelTier"], thinkingMode: PricedAgent["thinkingMode"] = "off") => ({
  modelTier,
  thinkingMode,
});
const sonnets = (n: number): PricedAgent[] => Array.from({ length: n }, () => agent("sonnet"));

const growth: TenantTerms = { planTier: "growth" };
const starter: TenantTerms = { planTier: "starter" };
const enterprise: TenantTerms = { planTier: "enterprise" };

const modelArb = fc.constantFrom(...MODEL_TIERS);
const thinkingArb = fc.constantFrom(...THINKING_MODES);
const agentArb = fc.record({ modelTier: modelArb, thinkingMode: thinkingArb });
const agentsArb = fc.array(agentArb, { maxLength: 30 });
const termsArb: fc.Arbitrary<TenantTerms> = fc.record({
  planTier: fc.constantFrom(...PLAN_TIERS),
  contractPlatformFeeUsd: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
  contractIncludedAgents: fc.option(fc.nat({ max: 30 }), { nil: null }),
});

describe("plans and prices match pricing.md", () => {
  it.each(PLAN_TIERS)("%s plan", (tier) => {
    const plan = PLANS[tier];
    const spec = SPEC_PLANS[tier];
    expect(plan.tier).toBe(tier);
    expect({
      platformFeeUsd: plan.platformFeeUsd,
      includedAgents: plan.includedAgents,
      maxAgents: plan.maxAgents,
      models: [...plan.models].sort(),
      thinkingModes: [...plan.thinkingModes].sort(),
      overageEligible: plan.overageEligible,
      auditRetentionDays: plan.auditRetentionDays,
      privateSkills: plan.privateSkills,
    }).toEqual({ ...spec, models: [...spec.models].sort(), thinkingModes: [...spec.thinkingModes].sort() });
  });

  it("only enterprise is priced per contract", () => {
    expect(PLANS.starter.customContract).toBe(false);
    expect(PLANS.growth.customContract).toBe(false);
    expect(PLANS.enterprise.customContract).toBe(true);
  });

  it("allows exactly the models and thinking modes of each plan", () => {
    for (const tier of PLAN_TIERS) {
      for (const model of MODEL_TIERS) {
        const allowed = (SPEC_PLANS[tier].models as readonly string[]).includes(model);
        expect(isModelAllowed(tier, model), `${tier}/${model}`).toBe(allowed);
      }
      for (const mode of THINKING_MODES) {
        const allowed = (SPEC_PLANS[tier].thinkingModes as readonly string[]).includes(mode);
        expect(isThinkingModeAllowed(tier, mode), `${tier}/${mode}`).toBe(allowed);
      }
    }
  });

  it("per-agent fees and the high thinking surcharge", () => {
    expect(AGENT_FEE_USD).toEqual({ haiku: 19, sonnet: 49, opus: 99 });
    expect(HIGH_THINKING_SURCHARGE_USD).toBe(20);
  });

  it("overage rates per 1M tokens", () => {
    expect(OVERAGE_RATES_USD).toEqual({
      haiku: { input: 8, output: 8 },
      sonnet: { input: 5, output: 20 },
      opus: { input: 8, output: 35 },
    });
  });

  it("upstream cost basis per 1M tokens, cache reads at one tenth", () => {
    expect(UPSTREAM_COST_USD).toEqual({
      haiku: { input: 1, output: 5 },
      sonnet: { input: 3, output: 15 },
      opus: { input: 5, output: 25 },
    });
    expect(CACHE_READ_WEIGHT).toBe(0.1);
  });

  it("token quota default and thresholds", () => {
    expect(DEFAULT_MONTHLY_TOKEN_QUOTA).toBe(2_500_000);
    expect(QUOTA_THRESHOLDS).toEqual([
      { state: "warning", atLeast: 0.8 },
      { state: "grace", atLeast: 1.0 },
      { state: "rate_limited", atLeast: 1.2 },
      { state: "paused", atLeast: 1.5 },
    ]);
    expect(QUOTA_STATES).toEqual(["normal", "warning", "grace", "rate_limited", "paused"]);
    expect(RATE_LIMITED_INTERVAL_SECONDS).toBe(10);
    expect(ACKNOWLEDGED_CEILING).toBe(2.0);
  });
});

describe("priceAgents", () => {
  it("includes the first N agents by creation, whatever their model", () => {
    const priced = priceAgents(growth, [
      agent("opus"),
      agent("opus"),
      agent("sonnet"),
      agent("opus"),
      agent("sonnet"),
      agent("opus"),
      agent("sonnet"),
    ]);
    expect(priced.map((a) => a.included)).toEqual([true, true, true, true, true, false, false]);
    expect(priced.map((a) => a.monthlyFeeUsd)).toEqual([0, 0, 0, 0, 0, 99, 49]);
  });

  it("bills each model its own fee beyond the included count", () => {
    const terms: TenantTerms = { planTier: "enterprise", contractIncludedAgents: 0 };
    const priced = priceAgents(terms, [agent("haiku"), agent("sonnet"), agent("opus")]);
    expect(priced.map((a) => a.monthlyFeeUsd)).toEqual([19, 49, 99]);
  });

  it("adds $20 for high thinking, to included agents too", () => {
    const priced = priceAgents(starter, [
      agent("sonnet", "high"),
      agent("sonnet", "low"),
      agent("sonnet", "high"),
      agent("sonnet", "low"),
    ]);
    expect(priced.map((a) => a.monthlyFeeUsd)).toEqual([20, 0, 69, 49]);
  });

  it("keeps each agent's own fields and the given order", () => {
    const priced = priceAgents(starter, [
      { id: "a1", ...agent("sonnet") },
      { id: "a2", ...agent("sonnet") },
      { id: "a3", ...agent("sonnet") },
    ]);
    expect(priced).toEqual([
      { id: "a1", modelTier: "sonnet", thinkingMode: "off", included: true, monthlyFeeUsd: 0 },
      { id: "a2", modelTier: "sonnet", thinkingMode: "off", included: true, monthlyFeeUsd: 0 },
      { id: "a3", modelTier: "sonnet", thinkingMode: "off", included: false, monthlyFeeUsd: 49 },
    ]);
  });

  it("prices no agents as an empty list", () => {
    expect(priceAgents(growth, [])).toEqual([]);
  });
});

describe("monthlyTotalUsd", () => {
  it("is the platform fee with no agents", () => {
    expect(monthlyTotalUsd(starter, [])).toBe(99);
    expect(monthlyTotalUsd(growth, [])).toBe(299);
    expect(monthlyTotalUsd(enterprise, [])).toBe(0);
  });

  it("adds the fees of agents beyond the included count", () => {
    // starter: 99 + two included sonnets + 3 × 49
    expect(monthlyTotalUsd(starter, sonnets(5))).toBe(99 + 3 * 49);
    // growth: 299 + five included (one in high thinking: +20) + opus high (119) + sonnet (49)
    const agents = [...sonnets(4), agent("opus", "high"), agent("opus", "high"), agent("sonnet")];
    expect(monthlyTotalUsd(growth, agents)).toBe(299 + 20 + 119 + 49);
  });

  it("is the platform fee plus the sum of the agents' fees, for any agents (property)", () => {
    fc.assert(
      fc.property(termsArb, agentsArb, (terms, agents) => {
        const fee = terms.contractPlatformFeeUsd ?? SPEC_PLANS[terms.planTier].platformFeeUsd;
        const included = terms.contractIncludedAgents ?? SPEC_PLANS[terms.planTier].includedAgents;
        const expected = agents.reduce(
          (sum, a, i) =>
            sum +
            (i < included ? 0 : SPEC_AGENT_FEE[a.modelTier]) +
            (a.thinkingMode === "high" ? SPEC_HIGH_THINKING : 0),
          fee,
        );
        expect(monthlyTotalUsd(terms, agents)).toBe(expected);
      }),
    );
  });

  it("never goes down when an agent is added (property)", () => {
    fc.assert(
      fc.property(termsArb, agentsArb, agentArb, (terms, agents, added) => {
        expect(monthlyTotalUsd(terms, [...agents, added])).toBeGreaterThanOrEqual(
          monthlyTotalUsd(terms, agents),
        );
      }),
    );
  });
});

describe("previewNewAgent", () => {
  it('shows "Included" and an unchanged total while under the included count', () => {
    expect(previewNewAgent(growth, sonnets(4), "opus", "low")).toEqual({
      included: true,
      monthlyFeeUsd: 0,
      label: "Included",
      currentMonthlyTotalUsd: 299,
      newMonthlyTotalUsd: 299,
    });
  });

  it('shows "+$49/mo" for a sonnet beyond the included count', () => {
    expect(previewNewAgent(growth, sonnets(5), "sonnet", "off")).toEqual({
      included: false,
      monthlyFeeUsd: 49,
      label: "+$49/mo",
      currentMonthlyTotalUsd: 299,
      newMonthlyTotalUsd: 348,
    });
  });

  it('shows "+$119/mo" for opus in high thinking beyond the included count', () => {
    const preview = previewNewAgent(growth, sonnets(6), "opus", "high");
    expect(preview.label).toBe("+$119/mo");
    expect(preview.monthlyFeeUsd).toBe(119);
    expect(preview.currentMonthlyTotalUsd).toBe(299 + 49);
    expect(preview.newMonthlyTotalUsd).toBe(299 + 49 + 119);
  });

  it('shows "Included +$20/mo" for high thinking within the included count', () => {
    const preview = previewNewAgent(growth, sonnets(4), "opus", "high");
    expect(preview.included).toBe(true);
    expect(preview.label).toBe("Included +$20/mo");
    expect(preview.newMonthlyTotalUsd).toBe(299 + 20);
  });

  it('shows "+$19/mo" for haiku beyond an enterprise contract\'s included agents', () => {
    const terms: TenantTerms = { planTier: "enterprise", contractIncludedAgents: 1 };
    const preview = previewNewAgent(terms, [agent("opus")], "haiku", "off");
    expect(preview.label).toBe("+$19/mo");
    expect(preview.newMonthlyTotalUsd).toBe(19);
  });

  it("counts the existing agents' surcharges in the current total", () => {
    const existing = [...sonnets(5), agent("opus", "high")];
    const preview = previewNewAgent(growth, existing, "sonnet", "off");
    expect(preview.currentMonthlyTotalUsd).toBe(299 + 119);
    expect(preview.newMonthlyTotalUsd).toBe(299 + 119 + 49);
  });

  it("new total = current total + fee = total with the agent added (property)", () => {
    fc.assert(
      fc.property(termsArb, agentsArb, modelArb, thinkingArb, (terms, existing, model, thinking) => {
        const preview = previewNewAgent(terms, existing, model, thinking);
        expect(preview.currentMonthlyTotalUsd).toBe(monthlyTotalUsd(terms, existing));
        expect(preview.newMonthlyTotalUsd).toBe(preview.currentMonthlyTotalUsd + preview.monthlyFeeUsd);
        expect(preview.newMonthlyTotalUsd).toBe(
          monthlyTotalUsd(terms, [...existing, { modelTier: model, thinkingMode: thinking }]),
        );
        const expectedLabel =
          preview.monthlyFeeUsd === 0
            ? "Included"
            : preview.included
              ? `Included +$${preview.monthlyFeeUsd}/mo`
              : `+$${preview.monthlyFeeUsd}/mo`;
        expect(preview.label).toBe(expectedLabel);
      }),
    );
  });
});

describe("enterprise contract terms", () => {
  it("defaults to a $0 platform fee and 10 included agents", () => {
    expect(platformFeeUsd(enterprise)).toBe(0);
    expect(includedAgents(enterprise)).toBe(10);
    expect(monthlyTotalUsd(enterprise, sonnets(11))).toBe(49);
  });

  it("uses the contract platform fee and included agents when set", () => {
    const terms: TenantTerms = {
      planTier: "enterprise",
      contractPlatformFeeUsd: 2500,
      contractIncludedAgents: 3,
    };
    expect(platformFeeUsd(terms)).toBe(2500);
    expect(includedAgents(terms)).toBe(3);
    expect(monthlyTotalUsd(terms, sonnets(4))).toBe(2500 + 49);
    expect(previewNewAgent(terms, sonnets(3), "sonnet", "off").label).toBe("+$49/mo");
    expect(previewNewAgent(terms, sonnets(2), "sonnet", "off").label).toBe("Included");
  });

  it("honours a contract of zero (not treated as unset)", () => {
    const terms: TenantTerms = {
      planTier: "enterprise",
      contractPlatformFeeUsd: 0,
      contractIncludedAgents: 0,
    };
    expect(includedAgents(terms)).toBe(0);
    expect(previewNewAgent(terms, [], "opus", "off")).toMatchObject({
      included: false,
      label: "+$99/mo",
      newMonthlyTotalUsd: 99,
    });
  });

  it("applies a contract platform fee of zero instead of the plan's fee", () => {
    const waived: TenantTerms = { planTier: "growth", contractPlatformFeeUsd: 0 };
    expect(platformFeeUsd(waived)).toBe(0);
    expect(monthlyTotalUsd(waived, sonnets(6))).toBe(49);
  });

  it("falls back to the plan defaults when the contract fields are null", () => {
    const terms: TenantTerms = {
      planTier: "enterprise",
      contractPlatformFeeUsd: null,
      contractIncludedAgents: null,
    };
    expect(platformFeeUsd(terms)).toBe(0);
    expect(includedAgents(terms)).toBe(10);
  });
});

describe("quota", () => {
  const q = DEFAULT_MONTHLY_TOKEN_QUOTA;

  it.each<[number, QuotaState]>([
    [0, "normal"],
    [1_999_750, "normal"], // 79.99 %
    [1_999_999, "normal"],
    [2_000_000, "warning"], // 80 %
    [2_499_999, "warning"],
    [2_500_000, "grace"], // 100 %
    [2_999_999, "grace"],
    [3_000_000, "rate_limited"], // 120 %
    [3_749_999, "rate_limited"],
    [3_750_000, "paused"], // 150 %
    [5_000_000, "paused"], // 200 %
    [50_000_000, "paused"],
  ])("%i of 2.5M tokens is %s", (used, state) => {
    expect(quotaStateFor(used, q)).toBe(state);
  });

  it("at the exact percentages of a small quota", () => {
    expect([79, 80, 99, 100, 119, 120, 149, 150].map((used) => quotaStateFor(used, 100))).toEqual([
      "normal",
      "warning",
      "warning",
      "grace",
      "grace",
      "rate_limited",
      "rate_limited",
      "paused",
    ]);
  });

  it("with a quota of 0: normal until any token is used, then paused", () => {
    expect(quotaStateFor(0, 0)).toBe("normal");
    expect(quotaStateFor(1, 0)).toBe("paused");
  });

  it("matches the thresholds of pricing.md in exact arithmetic (property)", () => {
    const expected = (used: number, quota: number): QuotaState => {
      // share ≥ p/100  ⇔  used × 100 ≥ quota × p, in integers
      if (used * 100 >= quota * 150) return "paused";
      if (used * 100 >= quota * 120) return "rate_limited";
      if (used * 100 >= quota * 100) return "grace";
      if (used * 100 >= quota * 80) return "warning";
      return "normal";
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000 }),
        fc.nat({ max: 2_000_000_000 }),
        (quota, used) => {
          expect(quotaStateFor(used, quota)).toBe(expected(used, quota));
        },
      ),
    );
  });

  it("is monotonic in usage (property)", () => {
    const rank = (s: QuotaState) => QUOTA_STATES.indexOf(s);
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000_000 }),
        fc.nat({ max: 2_000_000_000 }),
        fc.nat({ max: 2_000_000_000 }),
        (quota, a, b) => {
          const lo = Math.min(a, b);
          const hi = Math.max(a, b);
          expect(rank(quotaStateFor(lo, quota))).toBeLessThanOrEqual(rank(quotaStateFor(hi, quota)));
        },
      ),
    );
  });

  it("counts input, output and thinking tokens in full and cache reads at one tenth", () => {
    expect(
      quotaTokens({ inputTokens: 1000, outputTokens: 2000, thinkingTokens: 500, cacheReadTokens: 10_000 }),
    ).toBe(4500);
    expect(
      quotaTokens({ inputTokens: 0, outputTokens: 0, thinkingTokens: 0, cacheReadTokens: 2_500_000 }),
    ).toBe(250_000);
    expect(quotaTokens({ inputTokens: 0, outputTokens: 0, thinkingTokens: 7, cacheReadTokens: 0 })).toBe(7);
  });

  it("counts cache reads at one tenth, rounded to a whole token (property)", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000_000 }),
        fc.nat({ max: 10_000_000 }),
        fc.nat({ max: 10_000_000 }),
        fc.nat({ max: 100_000_000 }),
        (inputTokens, outputTokens, thinkingTokens, cacheReadTokens) => {
          const total = quotaTokens({ inputTokens, outputTokens, thinkingTokens, cacheReadTokens });
          const cache = total - inputTokens - outputTokens - thinkingTokens;
          expect(Number.isInteger(total)).toBe(true);
          expect(cache).toBeGreaterThanOrEqual(cacheReadTokens / 10);
          expect(cache).toBeLessThan(cacheReadTokens / 10 + 1);
          if (cacheReadTokens % 10 === 0) expect(cache).toBe(cacheReadTokens / 10);
        },
      ),
    );
  });

  it("uses the agent's override, else the tenant's quota", () => {
    expect(effectiveQuota(2_500_000, null)).toBe(2_500_000);
    expect(effectiveQuota(2_500_000, undefined)).toBe(2_500_000);
    expect(effectiveQuota(2_500_000, 10_000_000)).toBe(10_000_000);
    expect(effectiveQuota(2_500_000, 1_000)).toBe(1_000);
  });
});

describe("nextQuotaReset", () => {
  it.each([
    ["2025-12-31T23:59:59.999Z", "2026-01-01T00:00:00.000Z"],
    ["2025-12-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"],
    ["2025-01-31T23:59:59.999Z", "2025-02-01T00:00:00.000Z"],
    ["2024-02-29T23:59:59.999Z", "2024-03-01T00:00:00.000Z"],
    ["2025-03-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z"],
    ["2025-06-15T12:34:56.789Z", "2025-07-01T00:00:00.000Z"],
  ])("from %s is %s", (from, expected) => {
    expect(nextQuotaReset(new Date(from))).toBe(expected);
  });

  it("uses the calendar month in UTC, not local time", () => {
    // 23:30 on Jan 31 in New York is already Feb 1 in UTC.
    expect(nextQuotaReset(new Date("2025-01-31T23:30:00-05:00"))).toBe("2025-03-01T00:00:00.000Z");
    // 08:00 on Mar 1 in Tokyo is still Feb 28 in UTC.
    expect(nextQuotaReset(new Date("2025-03-01T08:00:00+09:00"))).toBe("2025-03-01T00:00:00.000Z");
  });

  it("does not depend on the server's time zone", () => {
    for (const tz of ["America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "UTC"]) {
      vi.stubEnv("TZ", tz);
      try {
        expect(nextQuotaReset(new Date("2025-01-31T23:30:00.000Z")), tz).toBe("2025-02-01T00:00:00.000Z");
        expect(nextQuotaReset(new Date("2025-02-01T00:30:00.000Z")), tz).toBe("2025-03-01T00:00:00.000Z");
      } finally {
        vi.unstubAllEnvs();
      }
    }
  });

  it("is 00:00 UTC on the 1st of the following month (property)", () => {
    const from = fc.date({
      min: new Date("1990-01-01T00:00:00Z"),
      max: new Date("2200-01-01T00:00:00Z"),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(from, (d) => {
        const reset = new Date(nextQuotaReset(d));
        expect(reset.getTime()).toBeGreaterThan(d.getTime());
        expect(reset.getUTCDate()).toBe(1);
        expect(reset.getUTCHours() + reset.getUTCMinutes() + reset.getUTCSeconds()).toBe(0);
        expect(reset.getUTCMilliseconds()).toBe(0);
        expect(reset.getUTCMonth()).toBe((d.getUTCMonth() + 1) % 12);
        expect(reset.getUTCFullYear()).toBe(d.getUTCFullYear() + (d.getUTCMonth() === 11 ? 1 : 0));
      }),
    );
  });
});

describe("plan lookups", () => {
  it.each<[PlanTier, number, number]>([
    ["starter", 99, 2],
    ["growth", 299, 5],
    ["enterprise", 0, 10],
  ])("%s without a contract: $%i, %i included", (planTier, fee, included) => {
    expect(platformFeeUsd({ planTier })).toBe(fee);
    expect(includedAgents({ planTier })).toBe(included);
  });
});
