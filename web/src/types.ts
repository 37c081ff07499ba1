import type { ModelTier, PlanTier, QuotaState, ThinkingMode } from "../../worker/lib/pricing";

export type { ModelTier, PlanTier, QuotaState, ThinkingMode };

export type UserRole = "platform_admin" | "tenant_admin" | "tenant_member";

export interface User {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  tenantId: string | null;
}

export interface TenantSummary {
  id: string;
  name: string;
  slug: string;
  planTier: string;
  status: string;
}

export interface Me {
  user: User;
  tenant: TenantSummary | null;
}

export interface LoginResponse {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: User;
}

export interface PageMeta {
  page: number;
  limit: number;
  total: number;
  totalPages: number;
}

export interface Page<T> {
  data: T[];
  meta: PageMeta;
}

export interface ListOf<T> {
  data: T[];
}

export type TenantStatus = "provisioning" | "active" | "failed" | "suspended";

export interface Tenant {
  id: string;
  name: string;
  slug: string;
  region: string | null;
  status: TenantStatus;
  planTier: PlanTier;
  overageBillingEnabled: boolean;
  monthlyTokenQuota: number | null;
  contractPlatformFeeUsd: number | null;
  contractIncludedAgents: number | null;
  createdAt: string;
  updatedAt: string;
}

export type StepStatus = "pending" | "running" | "completed" | "failed";

export interface ProvisioningStep {
  name: string;
  label?: string;
  status: StepStatus;
  error?: string | null;
}

export interface Provisioning {
  id: string;
  status: StepStatus;
  steps: ProvisioningStep[];
  attempts?: number;
}

export interface CreateTenantInput {
  name: string;
  slug: string;
  planTier: PlanTier;
  adminEmail: string;
  adminName: string;
  region?: string;
  monthlyTokenQuota?: number;
}

export interface CreateTenantResponse {
  tenant: Tenant;
  provisioning: Provisioning;
  admin: { email: string; oneTimePassword: string };
}

export interface TenantDetail {
  tenant: Tenant;
  agentCount: number;
  provisioning: Provisioning | null;
}

export interface TenantPatch {
  planTier?: PlanTier;
  overageBillingEnabled?: boolean;
  monthlyTokenQuota?: number;
  status?: "active" | "suspended";
}

export interface AdminStats {
  tenants: number;
  agents: number;
  activeTenants: number;
  provisioningFailed: number;
}

export interface PlanInfo {
  tier: PlanTier;
  label: string;
  platformFeeUsd: number;
  includedAgents: number;
  maxAgents: number | null;
  models: ModelTier[];
  thinkingModes: ThinkingMode[];
  overageEligible: boolean;
  auditRetentionDays: number;
  privateSkills: number | null;
  customContract: boolean;
}

export interface PlansResponse {
  data: PlanInfo[];
  agentFeesUsd: Record<ModelTier, number>;
  highThinkingSurchargeUsd: number;
}

export type AgentStatus = "active" | "paused" | "stopped";

export interface AgentRuntime {
  status: string;
  restarts: number;
  lastError?: string | null;
  connectedAt?: string | null;
}

export interface Agent {
  id: string;
  tenantId: string;
  name: string;
  role: string | null;
  modelTier: ModelTier;
  thinkingMode: ThinkingMode;
  status: AgentStatus;
  included: boolean;
  costPerMonth: number;
  monthlyTokensUsed: number;
  monthlyTokenQuotaOverride: number | null;
  tokenQuotaResetAt: string | null;
  quota: number;
  quotaState: QuotaState;
  runtime: AgentRuntime;
  credentialPrefix: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TenantStats {
  agents: { total: number; active: number; paused: number };
  skillsInstalled: number;
  members: number;
  planTier: PlanTier;
  monthlyTotalUsd: number;
}

export interface ModelOption {
  tier: ModelTier;
  allowed: boolean;
  reason?: string;
  feeUsd: number;
}

export interface ThinkingOption {
  mode: ThinkingMode;
  allowed: boolean;
  reason?: string;
  surchargeUsd: number;
}

export interface AgentOptions {
  planTier: PlanTier;
  models: ModelOption[];
  thinkingModes: ThinkingOption[];
  agentCount: number;
  maxAgents: number | null;
  includedAgents: number;
  canCreate: boolean;
  limitReason?: string;
}

export interface PricingPreview {
  included: boolean;
  monthlyFeeUsd: number;
  label: string;
  currentMonthlyTotalUsd: number;
  newMonthlyTotalUsd: number;
}

export interface CreateAgentInput {
  name: string;
  role?: string;
  modelTier: ModelTier;
  thinkingMode: ThinkingMode;
  skills?: string[];
}

export interface CreateAgentResponse {
  agent: Agent;
  credential: string;
}

export type SkillVisibility = "core" | "public" | "private";

export interface Skill {
  id: string;
  name: string;
  displayName: string;
  description: string;
  category: string;
  visibility: SkillVisibility;
  isCore: boolean;
  latestVersion: string | null;
  permissions: string[];
}

export interface InstalledSkill {
  agentId: string;
  skillId: string;
  name: string;
  displayName?: string;
  version: string;
  isCore: boolean;
  installedAt: string;
}

export type MemberRole = "tenant_admin" | "tenant_member";

export interface Member {
  id: string;
  email: string;
  name: string;
  role: MemberRole;
  status: string;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface Invite {
  id: string;
  email: string;
  name: string | null;
  role: MemberRole;
  expiresAt: string;
  createdAt: string;
}

export interface TeamResponse {
  members: Member[];
  invites: Invite[];
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  role: MemberRole;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Mirrors the billing routes (worker/features/billing, story E12-10). */
export type BillingStatus = "none" | "active" | "past_due";

export interface BillingPlan {
  tier: PlanTier;
  platformFeeUsd: number;
  includedAgents: number;
  /** null = unlimited */
  maxAgents: number | null;
  overageEligible: boolean;
  overageEnabled: boolean;
}

export interface BillingAgentLine {
  agentId: string;
  name: string;
  modelTier: ModelTier;
  thinkingMode: ThinkingMode;
  included: boolean;
  /** The model's monthly fee; 0 for an included agent. The thinking surcharge is separate. */
  feeUsd: number;
  thinkingSurchargeUsd: number;
  quotaState: QuotaState;
  monthlyTokensUsed: number;
  quota: number;
}

export interface BillingTotals {
  platformFeeUsd: number;
  agentFeesUsd: number;
  thinkingSurchargesUsd: number;
  overageUsd: number;
  subtotalUsd: number;
}

export interface BillingProjection {
  overageUsd: number;
  subtotalUsd: number;
  /** A short sentence: "at 1.2M tokens/day over 25 days". */
  basis: string;
}

export interface BillingOverview {
  /** "YYYY-MM", UTC */
  month: string;
  plan: BillingPlan;
  billingStatus: BillingStatus;
  nextBillingDate: string;
  agents: BillingAgentLine[];
  totals: BillingTotals;
  projection: BillingProjection;
}

export interface AgentUsage {
  agentId: string;
  name: string;
  modelTier: ModelTier;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  thinkingTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  monthlyTokensUsed: number;
  quota: number;
  quotaState: QuotaState;
  estimatedCostUsd: number;
  overageUsd: number;
  /** Calls whose upstream response carried no usage block (counted, but without tokens). */
  missingUsageCalls: number;
}

export interface DailyUsage {
  /** "YYYY-MM-DD", UTC */
  day: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  thinkingTokens: number;
  cacheReadTokens: number;
  quotaTokens: number;
  estimatedCostUsd: number;
}

export interface BillingUsage {
  month: string;
  agents: AgentUsage[];
  daily: DailyUsage[];
}

/** USD per 1M tokens; thinking counts as output. */
export interface OverageRate {
  input: number;
  output: number;
}

export interface OverageSettings {
  enabled: boolean;
  eligible: boolean;
  rates: Record<ModelTier, OverageRate>;
}

export interface AcknowledgeResponse {
  agent: { id: string; quotaState: QuotaState; quotaAcknowledgedAt: string | null };
}

// Private skills and their review (worker/features/skills/registry-routes.ts)

export type SkillVersionStatus =
  | "draft"
  | "pending_review"
  | "in_review"
  | "approved"
  | "rejected"
  | "changes_requested";

export interface SkillFinding {
  severity: "error" | "warning" | "info";
  rule: string;
  file?: string;
  line?: number;
  message: string;
}

export interface SkillChecklistItem {
  control: string;
  passed: boolean;
  detail: string;
}

export interface SkillPermissionLists {
  domains: string[];
  readPaths: string[];
  writePaths: string[];
  env: string[];
  messageTypes: string[];
}

export interface SkillPermissionDiff {
  against: string | null;
  added: SkillPermissionLists;
  removed: SkillPermissionLists;
  modelGateway: { before: boolean; after: boolean } | null;
  changed: boolean;
}

export interface SkillVersionSummary {
  id: string;
  skillId: string;
  version: string;
  status: SkillVersionStatus;
  sha256: string | null;
  sizeBytes: number | null;
  reviewNote: string | null;
  uploadedBy: string | null;
  submittedAt: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  createdAt: string;
}

/** What the sandbox saw while a version's own tests ran (`POST …/dry-run`). */
export interface SkillDryRunResult {
  passed: boolean;
  /** The tests' TAP output, at most 64 KiB. */
  output: string;
  permissionsUsed: Array<{ kind: "network" | "env"; target: string; allowed: boolean; count: number }>;
  tests: { total: number; passed: number; failed: number };
  durationMs: number;
  /** Set when the sandbox stopped the run. */
  limit?: "time" | "memory";
  /** Why nothing ran (no tests, bad fixtures). */
  error?: string;
}

/** The latest dry-run kept on a version. */
export interface SkillDryRun {
  at: string;
  result: SkillDryRunResult;
}

export interface SkillVersionDetail extends SkillVersionSummary {
  manifest: Record<string, unknown>;
  findings: SkillFinding[];
  permissionDiff: SkillPermissionDiff;
  dryRun: SkillDryRun | null;
}

export interface PrivateSkillBase {
  id: string;
  name: string;
  displayName: string;
  description: string;
  category: string;
  visibility: "private";
  latestApprovedVersion: string | null;
  createdAt: string;
}

export interface PrivateSkill extends PrivateSkillBase {
  versions: SkillVersionSummary[];
}

export interface PrivateSkillDetail extends PrivateSkillBase {
  versions: SkillVersionDetail[];
}

export interface SkillValidation {
  valid: boolean;
  manifest: Record<string, unknown> | null;
  findings: SkillFinding[];
  checklist: SkillChecklistItem[];
}

export interface SkillReviewItem extends SkillVersionDetail {
  tenant: { id: string; name: string; slug: string; planTier: string };
  skill: { id: string; name: string; displayName: string };
}
