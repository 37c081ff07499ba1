import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../../db/client";
import { users } from "../../db/schema";
import { newId } from "../../lib/ids";
import { hubStub } from "../../lib/objects";
import { publishWebhookEvent, type WebhookEvent } from "../webhooks/service";
import type { Alert } from "./service";

export type AlertChangeKind = "raised" | "updated" | "acknowledged" | "resolved";

const WEBHOOK_EVENT: Partial<Record<AlertChangeKind, WebhookEvent>> = {
  raised: "alert.raised",
  acknowledged: "alert.acknowledged",
  resolved: "alert.resolved",
};

/** Who is emailed about a new alert: the tenant's admins, or the operators for a platform alert. */
async function recipients(db: Database, tenantId: string | null): Promise<string[]> {
  const rows = await db
    .select({ email: users.email })
    .from(users)
    .where(
      and(
        tenantId === null ? isNull(users.tenantId) : eq(users.tenantId, tenantId),
        eq(users.role, tenantId === null ? "platform_admin" : "tenant_admin"),
        eq(users.status, "active"),
      ),
    )
    .all();
  return rows.map((r) => r.email);
}

export function alertEmail(alert: Alert): { subject: string; text: string } {
  return {
    subject: `[Aegis] ${alert.severity.toUpperCase()} alert: ${alert.title}`,
    text: [
      alert.title,
      "",
      `Severity:   ${alert.severity}`,
      `Rule:       ${alert.rule}`,
      `Tenant:     ${alert.tenantId ?? "(platform)"}`,
      `Events:     ${alert.count}, from ${alert.firstAt} to ${alert.lastAt}`,
      `Evidence:   ${alert.evidence.join(", ")}`,
      `Alert id:   ${alert.id}`,
      "",
      "Acknowledge or resolve it under Alerts in the Aegis dashboard; the evidence ids open in the audit log.",
    ].join("\n"),
  };
}

/**
 * Tells everyone who should know about an alert change: the tenant's live feed (every change),
 * the tenant's webhooks (raised, acknowledged, resolved) and, for a new alert, an email to each
 * admin. Best effort per channel: one failing channel neither blocks the others nor the caller.
 */
export async function announceAlert(
  db: Database,
  env: Env,
  change: AlertChangeKind,
  alert: Alert,
): Promise<void> {
  const tenantId = alert.tenantId;
  const tasks: Array<[string, () => Promise<unknown>]> = [];
  if (tenantId) {
    tasks.push(["feed", () => hubStub(env, tenantId).publish({ event: "alert", change, alert })]);
    const event = WEBHOOK_EVENT[change];
    if (event) tasks.push(["webhooks", () => publishWebhookEvent(db, env, tenantId, event, { alert })]);
  }
  if (change === "raised") {
    tasks.push([
      "email",
      async () => {
        const to = await recipients(db, tenantId);
        if (to.length === 0) return;
        const { subject, text } = alertEmail(alert);
        await env.NOTIFY.sendBatch(
          to.map((addr) => ({ body: { kind: "email" as const, id: newId("ntf"), to: addr, subject, text } })),
        );
      },
    ]);
  }
  await Promise.all(
    tasks.map(async ([channel, run]) => {
      try {
        await run();
      } catch (err) {
        console.error("alert notification failed", {
          alertId: alert.id,
          change,
          channel,
          error: String(err),
        });
      }
    }),
  );
}
