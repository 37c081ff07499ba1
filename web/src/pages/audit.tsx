import { AuditLogView } from "../components/audit-log";
import { operatorAudit, tenantAudit } from "../models/audit";

/** `/audit`: the tenant's own audit log. */
export function AuditPage() {
  return <AuditLogView log={tenantAudit} path="/audit" operator={false} />;
}

/** `/admin/audit`: every tenant's audit log, for the operator. */
export function AdminAuditPage() {
  return <AuditLogView log={operatorAudit} path="/admin/audit" operator />;
}
