import { AuditArchiveSection } from "../components/audit-archive";
import { AuditLogView } from "../components/audit-log";
import { operatorAudit, operatorAuditArchives, tenantAudit, tenantAuditArchives } from "../models/audit";

/** `/audit`: the tenant's own audit log, and its archived days. */
export function AuditPage() {
  return (
    <>
      <AuditLogView log={tenantAudit} path="/audit" operator={false} />
      <AuditArchiveSection archives={tenantAuditArchives} path="/audit" operator={false} />
    </>
  );
}

/** `/admin/audit`: every tenant's audit log, for the operator; one tenant's archived day by date. */
export function AdminAuditPage() {
  return (
    <>
      <AuditLogView log={operatorAudit} path="/admin/audit" operator />
      <AuditArchiveSection archives={operatorAuditArchives} path="/admin/audit" operator />
    </>
  );
}
