import { useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { dateTime } from "../format";
import type { DiffEntry } from "../json-schema";
import { ACTOR_TYPE_LABELS, type AuditEvent, auditActorText, auditChanges } from "../models/audit";
import { setAuditFilters } from "./audit-filters";
import { IconCheck, IconCopy } from "./icons";
import { JsonView } from "./json-view";

/** One event opened: a before/after diff or its details as JSON, and where it came from. */
function formatAuditValue(v: unknown): string {
  if (v === undefined) return "(not set)";
  return JSON.stringify(v) ?? String(v);
}

function DiffValue({ value, class: className }: { value: unknown; class: string }) {
  const text = formatAuditValue(value);
  const short = text.length > 120 ? `${text.slice(0, 119)}…` : text;
  return (
    <span class={className} title={short === text ? undefined : text}>
      {short}
    </span>
  );
}

export function AuditDiff({ changes }: { changes: DiffEntry[] }) {
  if (!changes.length)
    return (
      <p class="muted small" data-testid="audit-diff">
        Nothing changed.
      </p>
    );
  return (
    <ul class="diff audit-diff" data-testid="audit-diff">
      {changes.map((d) => (
        <li key={d.path} class={`diff-row diff-${d.kind}`} data-path={d.path}>
          <code class="diff-path">{d.path}</code>
          <span class="diff-values">
            <DiffValue value={d.before} class="diff-old" />
            <span class="diff-arrow" aria-hidden="true">
              →
            </span>
            <span class="visually-hidden"> becomes </span>
            <DiffValue value={d.after} class="diff-new" />
          </span>
        </li>
      ))}
    </ul>
  );
}

/** A long value (a hash, a request id) cut short, with the whole of it on hover and a copy button. */
function CopyValue({ value, label, keep = 16 }: { value: string; label: string; keep?: number }) {
  const state = useSignal<"idle" | "copied" | "failed">("idle");
  const short = value.length > keep + 1 ? `${value.slice(0, keep)}…` : value;
  return (
    <span class="copy-value">
      <code title={value}>{short}</code>
      <button
        type="button"
        class="btn-icon"
        aria-label={`Copy ${label}`}
        title={
          state.value === "failed" ? "Copying is blocked here: select the text instead" : `Copy ${label}`
        }
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(value);
            state.value = "copied";
            setTimeout(() => {
              state.value = "idle";
            }, 1500);
          } catch {
            state.value = "failed";
          }
        }}
      >
        {state.value === "copied" ? (
          <IconCheck width={13} height={13} />
        ) : (
          <IconCopy width={13} height={13} />
        )}
      </button>
      {state.value === "copied" && (
        <span class="visually-hidden" role="status">
          Copied
        </span>
      )}
      {state.value === "failed" && (
        <span class="field-error" role="alert">
          Copy failed
        </span>
      )}
    </span>
  );
}

export function AuditDetail({
  event: e,
  id,
  path,
  tenantName,
}: {
  event: AuditEvent;
  id: string;
  path: string;
  tenantName: { id: string | null; name: string } | null;
}) {
  const changes = auditChanges(e.details);
  const hasDetails = e.details !== null && e.details !== undefined;
  const meta: Array<[string, ComponentChildren]> = [
    ["Event", <CopyValue key="id" value={e.id} label="event id" keep={24} />],
    [
      "Time",
      <time key="at" dateTime={e.at}>
        {dateTime(e.at)} <span class="muted">({e.at})</span>
      </time>,
    ],
    ...(tenantName
      ? [
          ["Tenant", tenantName.id ? `${tenantName.name} (${tenantName.id})` : tenantName.name] as [
            string,
            ComponentChildren,
          ],
        ]
      : []),
    [
      "Actor",
      <span key="actor">
        {ACTOR_TYPE_LABELS[e.actor.type] ?? e.actor.type} · {auditActorText(e.actor)}
        {e.actor.id && e.actor.name && <code class="muted"> {e.actor.id}</code>}
      </span>,
    ],
    [
      "Target",
      e.target ? (
        <span key="target">
          {e.target.type}
          {e.target.id && <code> {e.target.id}</code>}
        </span>
      ) : (
        "—"
      ),
    ],
    ["IP address", e.ip ? <code key="ip">{e.ip}</code> : "—"],
    [
      "Request ID",
      e.requestId ? <CopyValue key="rid" value={e.requestId} label="request id" keep={24} /> : "—",
    ],
    ["User agent", e.userAgent ? <span class="audit-ua">{e.userAgent}</span> : "—"],
    [
      "Sequence",
      <span class="mono" key="seq">
        #{e.seq}
      </span>,
    ],
    // Events written before the chain existed carry no hash.
    ["Hash", e.hash ? <CopyValue key="hash" value={e.hash} label="hash" /> : "—"],
  ];

  return (
    <div class="audit-detail" id={id} data-testid={id}>
      <div class="audit-detail-main">
        {changes ? (
          <>
            <h3 class="audit-detail-heading">Changes</h3>
            <AuditDiff changes={changes.changes} />
            {changes.rest && (
              <>
                <h3 class="audit-detail-heading">Other details</h3>
                <JsonView value={changes.rest} />
              </>
            )}
          </>
        ) : hasDetails ? (
          <>
            <h3 class="audit-detail-heading">Details</h3>
            <JsonView value={e.details} testId="audit-details-json" />
          </>
        ) : (
          <p class="muted small">No details were recorded for this event.</p>
        )}
        <div class="audit-detail-actions">
          {e.actor.id && (
            <button
              type="button"
              class="btn btn-sm btn-ghost"
              onClick={() => setAuditFilters(path, { actorId: e.actor.id ?? "" })}
            >
              Only this actor
            </button>
          )}
          <button
            type="button"
            class="btn btn-sm btn-ghost"
            onClick={() => setAuditFilters(path, { action: e.action })}
          >
            Only this action
          </button>
          {e.target?.id && (
            <button
              type="button"
              class="btn btn-sm btn-ghost"
              onClick={() =>
                setAuditFilters(path, { targetType: e.target?.type ?? "", targetId: e.target?.id ?? "" })
              }
            >
              Only this target
            </button>
          )}
        </div>
      </div>
      <dl class="dl audit-meta">
        {meta.map(([term, value]) => (
          <div class="dl-row" key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
