import type { Database } from "../db/client";
import { auditEvents } from "../db/schema";
import type { AuditEvent } from "../features/audit/record";

/** Inserts a batch of audit events; an event id already written is skipped, so a redelivered batch writes nothing twice. */
export async function writeAuditEvents(db: Database, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    ...e,
    details: e.details === null || e.details === undefined ? null : JSON.stringify(e.details),
  }));
  // D1 limits bound parameters per statement; 14 columns × 6 rows stays well under 100.
  const statements = [];
  for (let i = 0; i < rows.length; i += 6) {
    statements.push(
      db
        .insert(auditEvents)
        .values(rows.slice(i, i + 6))
        .onConflictDoNothing(),
    );
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}
