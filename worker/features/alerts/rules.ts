import { z } from "zod";
import type { AuditEvent } from "../audit/record";

export const ALERT_SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const ALERT_STATUSES = ["open", "acknowledged", "resolved"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** What one alert is about, within its tenant and rule: a `details` field, the actor, or the tenant. */
export type AlertSubject = { from: "details"; key: string } | { from: "actor" } | { from: "tenant" };

export interface AlertRule {
  /** Stable id, stored on the alert and used in its dedupe key. */
  id: string;
  /** The audit action the rule watches. */
  action: string;
  severity: AlertSeverity;
  /** Events of one subject needed within `windowSeconds`; 1 raises on every event. */
  threshold: number;
  windowSeconds: number;
  subject: AlertSubject;
  /** `{subject}`, `{actor}` and `{target}` are filled from the event that raised the alert. */
  title: string;
}

/**
 * The security alert rules, evaluated by the audit queue consumer right after each batch is
 * written (worker/features/alerts/engine.ts). An alert belongs to the tenant of its events (null
 * for platform-level events, such as failed logins, which have no tenant yet).
 *
 * `message.rejected` is emitted by the messaging path (AgentMailbox/TenantHub) for each message
 * refused by the allowlist or the loop guard, with `details.reason`; until it does, the rule is
 * ready and tested on synthetic events.
 */
export const ALERT_RULES: readonly AlertRule[] = [
  {
    id: "login_failed_burst",
    action: "auth.login_failed",
    severity: "high",
    threshold: 5,
    windowSeconds: 5 * 60,
    subject: { from: "details", key: "email" },
    title: "Repeated failed logins for {subject}",
  },
  {
    id: "cross_tenant_attempt",
    action: "security.cross_tenant_attempt",
    severity: "high",
    threshold: 1,
    windowSeconds: 0,
    subject: { from: "actor" },
    title: "Cross-tenant access attempt by {actor}",
  },
  {
    id: "permission_denied_burst",
    action: "auth.permission_denied",
    severity: "medium",
    threshold: 5,
    windowSeconds: 10 * 60,
    subject: { from: "actor" },
    title: "Repeated permission denials for {actor}",
  },
  {
    id: "message_rejected_rate",
    action: "message.rejected",
    severity: "medium",
    threshold: 20,
    windowSeconds: 5 * 60,
    subject: { from: "details", key: "reason" },
    title: "Messages rejected ({subject}) above 20 in 5 minutes",
  },
  {
    id: "skill_undeclared_permission",
    action: "skill.permission_denied",
    severity: "high",
    threshold: 1,
    windowSeconds: 0,
    subject: { from: "actor" },
    title: "Agent {actor} used a permission its skill {target} does not declare",
  },
  {
    id: "model_usage_missing",
    action: "model.usage_missing",
    severity: "medium",
    threshold: 1,
    windowSeconds: 0,
    subject: { from: "details", key: "model" },
    title: "The model upstream answered {subject} without a usage block: calls recorded with zero tokens",
  },
  {
    id: "egress_blocked",
    action: "egress.blocked",
    severity: "medium",
    threshold: 1,
    windowSeconds: 0,
    subject: { from: "actor" },
    title: "Egress from agent {actor} to {target} was blocked",
  },
  {
    id: "cluster_desired_state_rejected",
    action: "cluster.desired_state_rejected",
    severity: "high",
    threshold: 1,
    windowSeconds: 0,
    subject: { from: "actor" },
    title: "Cluster {actor} refused its desired state",
  },
  {
    id: "audit_chain_broken",
    action: "audit.verify_failed",
    severity: "critical",
    threshold: 1,
    windowSeconds: 0,
    subject: { from: "tenant" },
    title: "The audit log's hash chain is broken",
  },
];

/** A repeat of an alert's subject within this long of its last event updates it instead of raising another. */
export const SUPPRESS_SECONDS = 15 * 60;

/** The subject when the event does not carry one (still alerted on, grouped together). */
export const UNKNOWN_SUBJECT = "unknown";

export function rulesFor(action: string): AlertRule[] {
  return ALERT_RULES.filter((r) => r.action === action);
}

const Details = z.record(z.string(), z.unknown());

function detailString(details: unknown, key: string): string | null {
  const parsed = Details.safeParse(details);
  const value = parsed.success ? parsed.data[key] : undefined;
  return typeof value === "string" && value ? value.slice(0, 200) : null;
}

/** The subject of an event under a rule, as stored in the dedupe key. */
export function subjectOf(rule: AlertRule, e: AuditEvent): string {
  switch (rule.subject.from) {
    case "details":
      return detailString(e.details, rule.subject.key) ?? UNKNOWN_SUBJECT;
    case "actor":
      return e.actorId ?? UNKNOWN_SUBJECT;
    case "tenant":
      return e.tenantId ?? "platform";
  }
}

export function dedupeKey(rule: AlertRule, subject: string): string {
  return `${rule.id}:${subject}`;
}

export function titleOf(rule: AlertRule, subject: string, e: AuditEvent): string {
  const actor = e.actorName ?? e.actorId ?? "an unknown actor";
  return rule.title
    .replaceAll("{subject}", subject)
    .replaceAll("{actor}", actor)
    .replaceAll("{target}", e.targetId ?? "?")
    .slice(0, 300);
}
