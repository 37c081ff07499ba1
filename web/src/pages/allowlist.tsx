import { type Signal, useComputed, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import {
  AllowlistGraph,
  canvasHeight,
  clampToCanvas,
  defaultLayout,
  type GraphNode,
} from "../components/allowlist-graph";
import { ConfirmDialog } from "../components/dialog";
import { IconPlus, IconRefresh } from "../components/icons";
import { AgentName, actorLabel, ensureTeam, FeedIndicator, sentenceActor, When } from "../components/live";
import {
  Badge,
  Banner,
  BusyButton,
  Card,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
  Refreshing,
  TableMessage,
} from "../components/ui";
import { count, relative } from "../format";
import { agentDirectory, agentName, loadAgentDirectory } from "../models/agents";
import {
  addEdge,
  allowlist,
  applyAllowlistEvent,
  baseEdges,
  changes,
  conflict,
  dirty,
  discardChanges,
  edgeKey,
  invalidEdges,
  loadAllowlist,
  type Positions,
  pairKey,
  readPositions,
  reapplyOnLatest,
  remoteChange,
  removeEdge,
  saveAllowlist,
  saveDetails,
  saveError,
  saveWarning,
  saving,
  setDirection,
  undoChange,
  workingEdges,
  writePositions,
} from "../models/allowlist";
import { useFeed } from "../models/feed";
import { canWrite, currentTenant, user } from "../models/session";
import { Link, useLeaveGuard } from "../router";
import { type AllowlistEdge, DIRECTIONS, type Direction, directionPhrase, isDirection } from "../wire";

export function AllowlistPage() {
  useEffect(() => {
    void loadAgentDirectory();
    void loadAllowlist();
    ensureTeam();
  }, []);
  useFeed(applyAllowlistEvent);

  // Leaving the tab with unsaved links asks first.
  useLeaveGuard(dirty);

  const data = allowlist.data.value;
  const selected = useSignal<string | null>(null);
  const writable = canWrite.value;

  return (
    <>
      <PageHeader
        title="Allowlist"
        subtitle="Which agents may message which. A message between agents that are not linked is rejected."
        actions={<FeedIndicator />}
      />
      {!data && allowlist.loading.value && <Loading label="Loading the allowlist…" />}
      {!data && <ErrorBanner error={allowlist.error.value} onRetry={() => void loadAllowlist()} />}
      {data && (
        <>
          <SaveBar />
          <Notices />
          <GraphCard selected={selected} writable={writable} />
          <LinksCard selected={selected} writable={writable} />
        </>
      )}
    </>
  );
}

function SaveBar() {
  const data = allowlist.data.value;
  const confirmDiscard = useSignal(false);
  if (!data) return null;
  const n = changes.value.length;
  const writable = canWrite.value;
  return (
    <div class="savebar" data-dirty={n > 0 ? "true" : undefined}>
      <div class="savebar-info">
        <Badge tone="brand" data-testid="allowlist-version">
          Version {data.version}
        </Badge>
        <span class="muted small">
          {data.updatedBy ? `Saved by ${actorLabel(data.updatedBy)}` : "Saved"} <When iso={data.updatedAt} />
        </span>
        {allowlist.loading.value && <Refreshing />}
      </div>
      {writable && (
        <div class="savebar-actions">
          {n > 0 && (
            <span class="unsaved" data-testid="allowlist-unsaved" role="status">
              <span class="unsaved-dot" aria-hidden="true" />
              {n} unsaved {n === 1 ? "change" : "changes"}
            </span>
          )}
          <button
            type="button"
            class="btn"
            disabled={n === 0 || saving.value}
            onClick={() => {
              confirmDiscard.value = true;
            }}
            data-testid="allowlist-discard"
          >
            Discard changes
          </button>
          <BusyButton
            busy={saving}
            busyLabel="Saving…"
            disabled={n === 0}
            onClick={() => void saveAllowlist()}
            data-testid="allowlist-save"
          >
            Save
          </BusyButton>
        </div>
      )}
      <ConfirmDialog
        open={confirmDiscard.value}
        title={`Discard ${n} unsaved ${n === 1 ? "change" : "changes"}?`}
        confirmLabel="Discard changes"
        danger
        busy={false}
        onConfirm={() => {
          discardChanges();
          confirmDiscard.value = false;
        }}
        onCancel={() => {
          confirmDiscard.value = false;
        }}
      >
        <p>The links go back to version {data.version} as saved.</p>
      </ConfirmDialog>
    </div>
  );
}

function Notices() {
  const c = conflict.value;
  const remote = remoteChange.value;
  const busy = useSignal(false);
  const n = changes.value.length;
  const bad = invalidEdges.value;
  const names = (e: { from: string; to: string }) => `${agentName(e.from)} – ${agentName(e.to)}`;
  const unmatched = Object.entries(saveDetails.value).filter(([k]) => !/edges/.test(k));

  async function run(fn: () => Promise<void>) {
    busy.value = true;
    try {
      await fn();
    } finally {
      busy.value = false;
    }
  }

  return (
    <>
      {c && (
        <div class="banner banner-warning" role="alert" data-testid="allowlist-conflict">
          <div class="banner-body">
            <strong>Someone else saved the allowlist while you were editing.</strong>
            <span>
              {c.updatedBy ? sentenceActor(c.updatedBy) : "Another admin"} saved version{" "}
              {c.version ?? "a newer version"}
              {c.updatedAt ? ` ${relative(c.updatedAt)}` : ""}. Your {n}{" "}
              {n === 1 ? "change was" : "changes were"} not saved.
            </span>
          </div>
          <div class="banner-actions">
            <BusyButton
              class="btn btn-sm"
              busy={busy}
              onClick={() => void run(reapplyOnLatest)}
              data-testid="allowlist-reapply"
            >
              Re-apply my changes to the latest
            </BusyButton>
            <BusyButton
              class="btn btn-sm btn-primary"
              busy={busy}
              onClick={() => void run(() => loadAllowlist({ discard: true }))}
              data-testid="allowlist-reload"
            >
              Reload latest
            </BusyButton>
          </div>
        </div>
      )}
      {!c && remote && (
        <div class="banner banner-info" role="status" data-testid="allowlist-remote-change">
          <IconRefresh class="banner-icon" />
          <div class="banner-body">
            <span>
              Changed by {remote.updatedBy ? actorLabel(remote.updatedBy) : "another admin"} — version{" "}
              {remote.version}, {relative(remote.at)}.
              {dirty.value ? " Reloading discards your unsaved changes." : ""}
            </span>
          </div>
          <BusyButton
            class="btn btn-sm"
            busy={busy}
            onClick={() => void run(() => loadAllowlist({ discard: true }))}
          >
            Reload
          </BusyButton>
        </div>
      )}
      {saveWarning.value && (
        <Banner tone="warning" data-testid="allowlist-warning">
          <strong>Saved, but not every mailbox confirmed the new version yet.</strong>
          <span>{saveWarning.value}</span>
        </Banner>
      )}
      {saveError.value && (
        <div class="banner banner-danger" role="alert" data-testid="allowlist-error">
          <div class="banner-body">
            <strong>{saveError.value}</strong>
            {bad.size > 0 && (
              <ul class="error-list">
                {workingEdges.value
                  .filter((e) => bad.has(edgeKey(e)))
                  .map((e) => (
                    <li key={edgeKey(e)}>
                      Link {names(e)}: {bad.get(edgeKey(e))?.join(" ")}
                    </li>
                  ))}
              </ul>
            )}
            {unmatched.length > 0 && (
              <ul class="error-list">
                {unmatched.map(([k, v]) => (
                  <li key={k}>
                    <code>{k}</code>: {v.join(" ")}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
      )}
    </>
  );
}

function useLayout(nodes: readonly GraphNode[]) {
  const tenantId = currentTenant.value?.id ?? user.value?.tenantId ?? "default";
  const stored = useSignal<Positions>(readPositions(tenantId));
  const ids = nodes.map((n) => n.id);
  const missing = ids.filter((id) => !stored.value[id]);
  const height = canvasHeight(ids.length);
  // A place stored when there were more agents (a taller canvas) is pulled back inside.
  const positions: Positions = Object.fromEntries(
    Object.entries(stored.value).map(([id, p]) => [id, clampToCanvas(p, height)]),
  );
  if (missing.length) {
    // Agents without a stored place go on a circle, in list order.
    const ring = defaultLayout(ids.length);
    ids.forEach((id, i) => {
      const p = ring[i];
      if (!positions[id] && p) positions[id] = clampToCanvas(p, height);
    });
  }
  return {
    positions,
    customised: Object.keys(stored.value).length > 0,
    move(id: string, p: { x: number; y: number }) {
      stored.value = { ...positions, [id]: p };
    },
    persist() {
      writePositions(tenantId, stored.value);
    },
    reset() {
      stored.value = {};
      writePositions(tenantId, null);
    },
  };
}

function GraphCard({ selected, writable }: { selected: Signal<string | null>; writable: boolean }) {
  const agents = agentDirectory.data.value;
  const data = allowlist.data.value;
  const linkError = useSignal<string | null>(null);
  const edges = workingEdges.value;
  const removed = useComputed(() => {
    const live = new Set(workingEdges.value.map((e) => pairKey(e.from, e.to)));
    return baseEdges.value.filter((e) => !live.has(pairKey(e.from, e.to)));
  });
  const unsaved = useComputed(
    () =>
      new Set(changes.value.filter((c) => c.kind !== "removed").map((c) => pairKey(c.edge.from, c.edge.to))),
  );

  const nodes: GraphNode[] = (agents ?? []).map((a) => ({
    id: a.id,
    name: a.name,
    ...(a.status !== "active" ? { subtitle: a.status, inactive: true } : a.role ? { subtitle: a.role } : {}),
  }));
  for (const e of [...edges, ...removed.value])
    for (const id of [e.from, e.to])
      if (agents && !nodes.some((n) => n.id === id))
        nodes.push({ id, name: id, subtitle: "unknown agent", unknown: true });

  const layout = useLayout(nodes);
  const sel = edges.find((e) => edgeKey(e) === selected.value) ?? null;

  useEffect(() => {
    if (selected.value && !sel) selected.value = null;
  }, [selected.value, sel]);

  if (!agents && agentDirectory.loading.value) return <Loading label="Loading agents…" />;
  if (agents && agents.length === 0 && edges.length === 0) {
    return (
      <Card>
        <EmptyState
          title="No agents to connect yet"
          action={
            writable ? (
              <Link href="/agents/new" class="btn btn-primary">
                New agent
              </Link>
            ) : undefined
          }
        >
          Once you have two or more agents, link them here to let them message each other.
        </EmptyState>
      </Card>
    );
  }

  return (
    <Card class="card-flush graph-card">
      <div class="graph-layout">
        <div class="graph-canvas">
          <AllowlistGraph
            nodes={nodes}
            edges={edges}
            removed={removed.value}
            unsaved={unsaved.value}
            invalid={invalidEdges.value}
            traffic={data?.traffic ?? []}
            positions={layout.positions}
            selected={selected.value}
            readOnly={!writable}
            onSelect={(k) => {
              selected.value = k;
              linkError.value = null;
            }}
            onLink={(from, to) => {
              const err = addEdge(from, to, "both");
              linkError.value = err;
              if (!err) selected.value = `${from}>${to}`;
            }}
            onMove={layout.move}
            onMoveEnd={layout.persist}
            onRemove={(k) => {
              removeEdge(k);
              selected.value = null;
            }}
          />
          <div class="graph-overlay">
            {linkError.value && (
              <span class="graph-toast" role="alert">
                {linkError.value}
              </span>
            )}
            {layout.customised && (
              <button type="button" class="btn btn-sm" onClick={layout.reset}>
                Reset layout
              </button>
            )}
          </div>
        </div>
        <aside class="graph-panel" aria-label="Selected link">
          {sel ? (
            <EdgePanel edge={sel} writable={writable} onClose={() => (selected.value = null)} />
          ) : (
            <GraphHelp writable={writable} agents={nodes.length} links={edges.length} />
          )}
        </aside>
      </div>
    </Card>
  );
}

function GraphHelp({ writable, agents, links }: { writable: boolean; agents: number; links: number }) {
  return (
    <div class="graph-help">
      <h2 class="card-title">
        {count(links)} {links === 1 ? "link" : "links"} · {count(agents)} {agents === 1 ? "agent" : "agents"}
      </h2>
      {writable ? (
        <ul class="help-list">
          <li>
            Drag from an agent's <span class="handle-sample" aria-hidden="true" /> handle onto another agent
            to link them.
          </li>
          <li>Click a link to change its direction or remove it.</li>
          <li>Drag agents to arrange the picture; the layout is kept in this browser.</li>
          <li>Nothing applies until you save.</li>
        </ul>
      ) : (
        <p class="muted">You have read-only access: an admin of your team can change these links.</p>
      )}
      <div class="legend">
        <span>
          <span class="legend-line legend-line-allowed" /> allowed
        </span>
        <span>
          <span class="legend-line legend-line-live" /> messages in the last 24 h
        </span>
        <span>
          <span class="legend-line legend-line-draft" /> not saved yet
        </span>
        <span>
          <span class="legend-line legend-line-blocked" /> traffic these links block
        </span>
      </div>
    </div>
  );
}

/** The last 24 hours between the two ends of a link: what it allows, and what it would block. */
function trafficFor(e: AllowlistEdge) {
  const t = allowlist.data.value?.traffic ?? [];
  const fwd = t.find((x) => x.from === e.from && x.to === e.to);
  const back = t.find((x) => x.from === e.to && x.to === e.from);
  const fwdOk = e.direction !== "receive_only";
  const backOk = e.direction !== "send_only";
  return {
    fwd: fwd?.count ?? 0,
    back: back?.count ?? 0,
    allowed: (fwdOk ? (fwd?.count ?? 0) : 0) + (backOk ? (back?.count ?? 0) : 0),
    blocked: (fwdOk ? 0 : (fwd?.count ?? 0)) + (backOk ? 0 : (back?.count ?? 0)),
    lastAt: [fwd?.lastAt, back?.lastAt].filter(Boolean).sort().pop(),
  };
}

function DirectionOptions({
  edge,
  name,
  disabled,
}: {
  edge: AllowlistEdge;
  name: string;
  disabled: boolean;
}) {
  const a = agentName(edge.from);
  const b = agentName(edge.to);
  const words: Record<Direction, string> = {
    both: "Both ways",
    send_only: `Only ${a} sends`,
    receive_only: `Only ${b} sends`,
  };
  return (
    <fieldset class="fieldset">
      <legend class="field-label">Direction</legend>
      {DIRECTIONS.map((d) => (
        <label key={d} class={`direction-option${edge.direction === d ? " direction-option-on" : ""}`}>
          <input
            type="radio"
            name={name}
            value={d}
            checked={edge.direction === d}
            disabled={disabled}
            onChange={() => setDirection(edgeKey(edge), d)}
          />
          <span class="direction-text">
            <span class="direction-phrase">{directionPhrase(d, a, b)}</span>
            <span class="muted small">{words[d]}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

function EdgePanel({
  edge,
  writable,
  onClose,
}: {
  edge: AllowlistEdge;
  writable: boolean;
  onClose: () => void;
}) {
  const t = trafficFor(edge);
  const key = edgeKey(edge);
  const pending = changes.value.find((c) => pairKey(c.edge.from, c.edge.to) === pairKey(edge.from, edge.to));
  return (
    <div class="edge-panel" data-testid="edge-panel">
      <div class="edge-panel-head">
        <h2 class="card-title">Link</h2>
        <button type="button" class="btn btn-sm btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
      <p class="edge-panel-phrase">
        {directionPhrase(edge.direction, agentName(edge.from), agentName(edge.to))}
      </p>
      {pending && (
        <Badge tone="brand">{pending.kind === "added" ? "New — not saved" : "Changed — not saved"}</Badge>
      )}
      {invalidEdges.value.get(key) && <p class="field-error">{invalidEdges.value.get(key)?.join(" ")}</p>}
      <DirectionOptions edge={edge} name="panel-direction" disabled={!writable} />
      <div class="edge-traffic">
        <span class="field-label">Last 24 hours</span>
        {t.fwd + t.back === 0 ? (
          <span class="muted">No messages</span>
        ) : (
          <span>
            {agentName(edge.from)} → {agentName(edge.to)}: {count(t.fwd)}
            <br />
            {agentName(edge.to)} → {agentName(edge.from)}: {count(t.back)}
            <br />
            <span class="muted small">Last {relative(t.lastAt ?? null)}</span>
          </span>
        )}
      </div>
      {writable && (
        <button
          type="button"
          class="btn btn-danger-outline"
          onClick={() => {
            removeEdge(key);
            onClose();
          }}
        >
          Remove link
        </button>
      )}
    </div>
  );
}

function LinksCard({ selected, writable }: { selected: Signal<string | null>; writable: boolean }) {
  const edges = workingEdges.value;
  const removed = baseEdges.value.filter(
    (b) => !edges.some((e) => pairKey(e.from, e.to) === pairKey(b.from, b.to)),
  );
  const pending = new Map(changes.value.map((c) => [pairKey(c.edge.from, c.edge.to), c.kind]));
  const bad = invalidEdges.value;
  const cols = writable ? 5 : 4;
  const sorted = [...edges].sort(
    (a, b) =>
      agentName(a.from).localeCompare(agentName(b.from)) || agentName(a.to).localeCompare(agentName(b.to)),
  );

  return (
    <Card
      title="Links"
      class="card-flush"
      actions={<span class="muted small">{count(edges.length)} allowed</span>}
    >
      <div class="table-wrap">
        <table class="table" data-testid="allowlist-links">
          <thead>
            <tr>
              <th scope="col">Agent A</th>
              <th scope="col">Agent B</th>
              <th scope="col">Direction</th>
              <th scope="col">Last 24 h</th>
              {writable && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {edges.length === 0 && removed.length === 0 && (
              <TableMessage cols={cols}>
                <EmptyState title="No links yet">
                  {writable
                    ? "Every message between agents is rejected until you link them. Add a link below or draw one on the canvas."
                    : "Every message between agents is rejected until an admin links them."}
                </EmptyState>
              </TableMessage>
            )}
            {sorted.map((e) => {
              const key = edgeKey(e);
              const pk = pairKey(e.from, e.to);
              const state = pending.get(pk);
              const t = trafficFor(e);
              const a = agentName(e.from);
              const b = agentName(e.to);
              return (
                <tr
                  key={key}
                  data-testid={`link-row-${e.from}-${e.to}`}
                  data-direction={e.direction}
                  class={`${selected.value === key ? "row-selected" : ""}${bad.has(key) ? " row-invalid" : ""}`}
                >
                  <td>
                    <AgentName id={e.from} />
                  </td>
                  <td>
                    <AgentName id={e.to} />
                  </td>
                  <td>
                    {writable ? (
                      <>
                        <label for={`dir-${key}`} class="visually-hidden">
                          Direction between {a} and {b}
                        </label>
                        <select
                          id={`dir-${key}`}
                          class="input input-sm input-auto"
                          value={e.direction}
                          onChange={(ev) => {
                            const v = ev.currentTarget.value;
                            if (isDirection(v)) setDirection(key, v);
                          }}
                        >
                          {DIRECTIONS.map((d) => (
                            <option key={d} value={d}>
                              {directionPhrase(d, a, b)}
                            </option>
                          ))}
                        </select>
                      </>
                    ) : (
                      directionPhrase(e.direction, a, b)
                    )}
                    {state && (
                      <Badge tone="brand" style={{ marginLeft: "8px" }}>
                        {state === "added" ? "New" : "Changed"}
                      </Badge>
                    )}
                    {bad.has(key) && <p class="field-error">{bad.get(key)?.join(" ")}</p>}
                  </td>
                  <td class="muted" title={`${a} → ${b}: ${t.fwd}, ${b} → ${a}: ${t.back}`}>
                    {t.allowed > 0 && <span class="traffic-count">{count(t.allowed)} msgs</span>}
                    {t.allowed > 0 && t.blocked > 0 && " · "}
                    {t.blocked > 0 && <span class="text-danger">{count(t.blocked)} blocked</span>}
                    {t.allowed + t.blocked === 0 && "—"}
                  </td>
                  {writable && (
                    <td class="cell-actions">
                      <button
                        type="button"
                        class="btn btn-sm"
                        onClick={() => {
                          selected.value = key;
                        }}
                        aria-label={`Show link between ${a} and ${b} on the graph`}
                      >
                        Show
                      </button>{" "}
                      {state && (
                        <button
                          type="button"
                          class="btn btn-sm"
                          onClick={() => undoChange(pk)}
                          aria-label={`Undo change to link between ${a} and ${b}`}
                        >
                          Undo
                        </button>
                      )}{" "}
                      <button
                        type="button"
                        class="btn btn-sm btn-danger-outline"
                        onClick={() => {
                          removeEdge(key);
                          if (selected.value === key) selected.value = null;
                        }}
                        aria-label={`Remove link between ${a} and ${b}`}
                      >
                        Remove
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
            {removed.map((e) => (
              <tr
                key={`removed-${edgeKey(e)}`}
                class="row-removed"
                data-testid={`link-removed-${e.from}-${e.to}`}
              >
                <td>
                  <AgentName id={e.from} />
                </td>
                <td>
                  <AgentName id={e.to} />
                </td>
                <td>
                  <s>{directionPhrase(e.direction, agentName(e.from), agentName(e.to))}</s>{" "}
                  <Badge tone="danger">Removed</Badge>
                </td>
                <td class="muted">—</td>
                {writable && (
                  <td class="cell-actions">
                    <button
                      type="button"
                      class="btn btn-sm"
                      onClick={() => undoChange(pairKey(e.from, e.to))}
                      aria-label={`Undo removing the link between ${agentName(e.from)} and ${agentName(e.to)}`}
                    >
                      Undo
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {writable && <AddLinkForm onAdded={(k) => (selected.value = k)} />}
    </Card>
  );
}

/** One end of a new link: any agent but the one chosen for the other end. */
function AgentSelect({
  id,
  label,
  value,
  other,
  agents,
  error,
}: {
  id: string;
  label: string;
  value: Signal<string>;
  other: string;
  agents: ReadonlyArray<{ id: string; name: string }>;
  error: Signal<string | null>;
}) {
  return (
    <div class="field">
      <label for={id} class="field-label">
        {label}
      </label>
      <select
        id={id}
        class="input"
        value={value.value}
        onChange={(e) => {
          value.value = e.currentTarget.value;
          error.value = null;
        }}
      >
        <option value="">Choose an agent</option>
        {agents.map((x) => (
          <option key={x.id} value={x.id} disabled={x.id === other}>
            {x.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function AddLinkForm({ onAdded }: { onAdded: (key: string) => void }) {
  const agents = agentDirectory.data.value ?? [];
  const from = useSignal("");
  const to = useSignal("");
  const direction = useSignal<Direction>("both");
  const error = useSignal<string | null>(null);
  const a = agents.find((x) => x.id === from.value)?.name ?? "A";
  const b = agents.find((x) => x.id === to.value)?.name ?? "B";

  return (
    <form
      class="add-link"
      data-testid="add-link-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const err = addEdge(from.value, to.value, direction.value);
        error.value = err;
        if (!err) {
          onAdded(`${from.value}>${to.value}`);
          from.value = "";
          to.value = "";
          direction.value = "both";
        }
      }}
    >
      <h3 class="add-link-title">Add a link</h3>
      <div class="add-link-row">
        <AgentSelect
          id="link-from"
          label="From"
          value={from}
          other={to.value}
          agents={agents}
          error={error}
        />
        <AgentSelect id="link-to" label="To" value={to} other={from.value} agents={agents} error={error} />
        <div class="field">
          <label for="link-direction" class="field-label">
            Direction
          </label>
          <select
            id="link-direction"
            class="input"
            value={direction.value}
            onChange={(e) => {
              const v = e.currentTarget.value;
              if (isDirection(v)) direction.value = v;
            }}
          >
            {DIRECTIONS.map((d) => (
              <option key={d} value={d}>
                {directionPhrase(d, a, b)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="btn add-link-submit">
          <IconPlus />
          Add link
        </button>
      </div>
      {error.value && (
        <p class="field-error" role="alert" data-testid="add-link-error">
          {error.value}
        </p>
      )}
    </form>
  );
}
