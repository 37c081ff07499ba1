import { PLAN_TIERS, PLANS, type PlanTier } from "../../worker/lib/pricing";
import type { MemberRole, ModelTier, ThinkingMode } from "./types";

const usdWhole = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  maximumFractionDigits: 0,
});
const usdCents = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
});

/** "$1,234"; cents only when the amount has them. */
export function money(usd: number): string {
  return Number.isInteger(usd) ? usdWhole.format(usd) : usdCents.format(usd);
}

const integer = new Intl.NumberFormat("en-US");
export function count(n: number): string {
  return integer.format(n);
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
/** "1.2M" */
export function tokens(n: number): string {
  return compact.format(n);
}

const dateFmt = new Intl.DateTimeFormat("en-US", { dateStyle: "medium" });
const dateTimeFmt = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short" });

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function date(iso: string | null | undefined, fallback = "—"): string {
  const d = parse(iso);
  return d ? dateFmt.format(d) : fallback;
}

export function dateTime(iso: string | null | undefined, fallback = "—"): string {
  const d = parse(iso);
  return d ? dateTimeFmt.format(d) : fallback;
}

const clockFmt = new Intl.DateTimeFormat("en-US", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const dayClockFmt = new Intl.DateTimeFormat("en-US", {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
/** For logs: "14:32:05" today, "Nov 25, 14:32" before. */
export function clock(iso: string | null | undefined, fallback = "—"): string {
  const d = parse(iso);
  if (!d) return fallback;
  return d.toDateString() === new Date().toDateString() ? clockFmt.format(d) : dayClockFmt.format(d);
}

const rtf = new Intl.RelativeTimeFormat("en-US", { numeric: "auto" });
/** "3 minutes ago", falling back to a date beyond a week. */
export function relative(iso: string | null | undefined, fallback = "Never"): string {
  const d = parse(iso);
  if (!d) return fallback;
  const seconds = Math.round((d.getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86400) return rtf.format(Math.round(seconds / 86400), "day");
  return dateFmt.format(d);
}

export function isPlanTier(v: string): v is PlanTier {
  return (PLAN_TIERS as readonly string[]).includes(v);
}

export function planLabel(tier: string): string {
  return isPlanTier(tier) ? PLANS[tier].label : tier;
}

export const MODEL_LABELS: Record<ModelTier, string> = { haiku: "Haiku", sonnet: "Sonnet", opus: "Opus" };
export const MODEL_BLURBS: Record<ModelTier, string> = {
  haiku: "Fast and economical for routine work",
  sonnet: "Balanced quality and speed",
  opus: "Most capable, for complex reasoning",
};
export const THINKING_LABELS: Record<ThinkingMode, string> = { off: "Off", low: "Low", high: "High" };
export const THINKING_BLURBS: Record<ThinkingMode, string> = {
  off: "Answers directly",
  low: "Brief reasoning before answering",
  high: "Extended reasoning for hard problems",
};

export const ROLE_LABELS: Record<string, string> = {
  platform_admin: "Operator",
  tenant_admin: "Admin",
  tenant_member: "Member",
};

/** Roles a tenant admin can give to people and API keys. */
export const ROLE_OPTIONS: ReadonlyArray<{ value: MemberRole; label: string }> = [
  { value: "tenant_member", label: "Member (read-only)" },
  { value: "tenant_admin", label: "Admin" },
];

export function roleLabel(role: string): string {
  return ROLE_LABELS[role] ?? role;
}

/** "in_review" → "In review" */
export function humanize(s: string): string {
  const t = s.replace(/[_-]+/g, " ").trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** Company name → URL slug: lowercase letters, digits and single hyphens. */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/g, "");
}

/** What a user may type into a slug field: lowercased, spaces become hyphens, anything else dropped. */
export function sanitizeSlug(input: string): string {
  return input
    .toLowerCase()
    .replace(/[\s_]+/g, "-")
    .replace(/[^a-z0-9-]/g, "")
    .replace(/-{2,}/g, "-")
    .slice(0, 63);
}

/** "Included", "Included +$20/mo" or "$49/mo", from an agent's included flag and monthly cost. */
export function agentCostLabel(included: boolean, costPerMonth: number): string {
  if (included) return costPerMonth > 0 ? `Included +${money(costPerMonth)}/mo` : "Included";
  return `${money(costPerMonth)}/mo`;
}

/** "1 d 2 h", "45 min", "30 s" */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const units: Array<[number, string]> = [
    [86400, "d"],
    [3600, "h"],
    [60, "min"],
  ];
  const out: string[] = [];
  let rest = Math.round(seconds);
  for (const [size, unit] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) out.push(`${n} ${unit}`);
    rest -= n * size;
    if (out.length === 2) break;
  }
  return out.join(" ");
}

const monthFmt = new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
const dayFmt = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

/** "2025-11" → "November 2025"; anything else comes back as it was. */
export function monthLabel(month: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return month;
  return monthFmt.format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)));
}

/** "2025-11-03" → "Nov 3" (a UTC calendar day, whatever the viewer's zone). */
export function dayLabel(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : dayFmt.format(d);
}

/** "76%" from a share of 0.763. */
export function percent(share: number): string {
  return Number.isFinite(share) ? `${Math.round(share * 100)}%` : "—";
}
