import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import type { AllowlistTraffic, Positions } from "../models/allowlist";
import { edgeKey, pairKey } from "../models/allowlist";
import { type AllowlistEdge, allowedPairs, directionPhrase } from "../wire";
import { circleLayout, clip, curve, initials, type Point } from "./graph-geometry";

export const CANVAS_W = 960;
const MIN_H = 540;
const RING_MAX = 10;
const GRID_COLS = 5;
const ROW_H = 96;
const NODE_W = 168;
const NODE_H = 48;
const HW = NODE_W / 2;
const HH = NODE_H / 2;

export interface GraphNode {
  id: string;
  name: string;
  subtitle?: string;
  /** Paused or stopped agents are drawn faded. */
  inactive?: boolean;
  /** Referenced by a link but not (or no longer) an agent of this tenant. */
  unknown?: boolean;
}

type Drag =
  | { kind: "move"; id: string; dx: number; dy: number; moved: boolean; pointerId: number }
  | { kind: "link"; from: string; at: Point; over: string | null; pointerId: number };

/** Where the line from a node's centre towards `toward` leaves its box (plus `pad`). */
function exitPoint(c: Point, toward: Point, pad = 0): Point {
  const dx = toward.x - c.x;
  const dy = toward.y - c.y;
  if (!dx && !dy) return c;
  const t = Math.min(
    dx ? (HW + pad) / Math.abs(dx) : Number.POSITIVE_INFINITY,
    dy ? (HH + pad) / Math.abs(dy) : Number.POSITIVE_INFINITY,
  );
  return { x: c.x + dx * t, y: c.y + dy * t };
}

/** Up to ten agents fit a circle; beyond that a grid, and the canvas grows taller. */
export function canvasHeight(count: number): number {
  return count <= RING_MAX ? MIN_H : Math.max(MIN_H, Math.ceil(count / GRID_COLS) * ROW_H + 40);
}

/** Where agents without a stored place go, in list order. */
export function defaultLayout(count: number): Point[] {
  const h = canvasHeight(count);
  if (count <= RING_MAX) return circleLayout(count, CANVAS_W / 2, h / 2, Math.min(CANVAS_W, h) / 2 - 60);
  const colW = CANVAS_W / GRID_COLS;
  return Array.from({ length: count }, (_, i) => ({
    x: colW * (i % GRID_COLS) + colW / 2,
    // Alternate rows are nudged sideways so links between neighbours do not hide behind boxes.
    y: 20 + ROW_H * Math.floor(i / GRID_COLS) + ROW_H / 2 + (i % 2 ? 12 : -12),
  }));
}

export function clampToCanvas(p: Point, height: number): Point {
  return {
    x: Math.round(Math.min(CANVAS_W - HW - 4, Math.max(HW + 4, p.x))),
    y: Math.round(Math.min(height - HH - 4, Math.max(HH + 4, p.y))),
  };
}

const HUES = [239, 200, 160, 28, 330, 270, 12, 188];
function hue(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return HUES[h % HUES.length] ?? 239;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The allowlist as a graph: agents are boxes you can drag; drag from a box's handle (●) onto another
 * box to link them; click a link to select it. Every action here is also available in the list
 * under the canvas, which is what keyboard and screen-reader users work with.
 */
export function AllowlistGraph({
  nodes,
  edges,
  removed,
  unsaved,
  invalid,
  traffic,
  positions,
  selected,
  readOnly,
  onSelect,
  onLink,
  onMove,
  onMoveEnd,
  onRemove,
}: {
  nodes: readonly GraphNode[];
  edges: readonly AllowlistEdge[];
  /** Links removed in the draft, drawn faint until saved. */
  removed: readonly AllowlistEdge[];
  /** Pair keys of added or changed links. */
  unsaved: ReadonlySet<string>;
  invalid: ReadonlyMap<string, string[]>;
  traffic: readonly AllowlistTraffic[];
  positions: Positions;
  selected: string | null;
  readOnly: boolean;
  onSelect: (key: string | null) => void;
  onLink: (from: string, to: string) => void;
  onMove: (id: string, p: Point) => void;
  onMoveEnd: () => void;
  onRemove: (key: string) => void;
}) {
  const svgRef = useRef<SVGSVGElement>(null);
  const drag = useSignal<Drag | null>(null);
  const hoverNode = useSignal<string | null>(null);

  const names = new Map(nodes.map((n) => [n.id, n.name]));
  const height = canvasHeight(nodes.length);
  const at = (id: string): Point => positions[id] ?? { x: CANVAS_W / 2, y: height / 2 };
  const keys = new Set(edges.map(edgeKey));
  const linkedPairs = new Set(edges.map((e) => pairKey(e.from, e.to)));
  const allowed = allowedPairs(edges);
  const flows = new Map(traffic.map((t) => [`${t.from}>${t.to}`, t]));
  const d = drag.value;

  function toSvg(e: PointerEvent): Point {
    const svg = svgRef.current;
    const m = svg?.getScreenCTM();
    if (!svg || !m) return { x: 0, y: 0 };
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return { x: p.x, y: p.y };
  }

  function nodeAt(p: Point, except: string): string | null {
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      if (!n || n.id === except) continue;
      const c = at(n.id);
      if (Math.abs(p.x - c.x) <= HW + 6 && Math.abs(p.y - c.y) <= HH + 6) return n.id;
    }
    return null;
  }

  function capture(e: PointerEvent) {
    svgRef.current?.setPointerCapture(e.pointerId);
  }

  function end(e: PointerEvent, commit: boolean) {
    const cur = drag.value;
    if (!cur || cur.pointerId !== e.pointerId) return;
    drag.value = null;
    if (svgRef.current?.hasPointerCapture(e.pointerId)) svgRef.current.releasePointerCapture(e.pointerId);
    if (!commit) return;
    if (cur.kind === "link" && cur.over) onLink(cur.from, cur.over);
    if (cur.kind === "move" && cur.moved) onMoveEnd();
  }

  const linkFrom = d?.kind === "link" ? d.from : null;
  const dropTarget = d?.kind === "link" ? d.over : null;
  const dropInvalid = linkFrom && dropTarget ? linkedPairs.has(pairKey(linkFrom, dropTarget)) : false;

  return (
    <svg
      ref={svgRef}
      class={`graph${d?.kind === "move" ? " graph-moving" : ""}${d?.kind === "link" ? " graph-linking" : ""}`}
      viewBox={`0 0 ${CANVAS_W} ${height}`}
      data-testid="allowlist-graph"
      onPointerMove={(e) => {
        const cur = drag.value;
        if (!cur || cur.pointerId !== e.pointerId) return;
        const p = toSvg(e);
        if (cur.kind === "move") {
          onMove(cur.id, clampToCanvas({ x: p.x - cur.dx, y: p.y - cur.dy }, height));
          if (!cur.moved) drag.value = { ...cur, moved: true };
        } else {
          drag.value = { ...cur, at: p, over: nodeAt(p, cur.from) };
        }
      }}
      onPointerUp={(e) => end(e, true)}
      onPointerCancel={(e) => end(e, false)}
      onLostPointerCapture={(e) => end(e, false)}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          if (drag.value) drag.value = null;
          else onSelect(null);
        }
      }}
    >
      <title>Allowlist graph. The list of links below the canvas offers the same controls.</title>
      <defs>
        <pattern id="graph-dots" width="24" height="24" patternUnits="userSpaceOnUse">
          <circle cx="1" cy="1" r="1" class="graph-dot" />
        </pattern>
        {(["base", "sel", "draft", "bad", "ghost", "gone"] as const).map((k) => (
          <marker
            key={k}
            id={`al-arrow-${k}`}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="10"
            markerHeight="10"
            markerUnits="userSpaceOnUse"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" class={`al-arrowhead al-arrowhead-${k}`} />
          </marker>
        ))}
      </defs>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: clicking empty canvas only clears the selection (Escape does too) */}
      <rect
        width={CANVAS_W}
        height={height}
        class="graph-bg"
        fill="url(#graph-dots)"
        onClick={() => onSelect(null)}
      />

      <g class="graph-edges">
        {removed.map((e) => {
          const a = at(e.from);
          const b = at(e.to);
          const s = exitPoint(a, b, 2);
          const t = exitPoint(b, a, 2);
          return (
            <g key={`gone-${edgeKey(e)}`} class="al-edge al-edge-gone">
              <title>{`Removed (not saved yet): ${directionPhrase(e.direction, names.get(e.from) ?? e.from, names.get(e.to) ?? e.to)}`}</title>
              <line x1={r1(s.x)} y1={r1(s.y)} x2={r1(t.x)} y2={r1(t.y)} class="al-line" />
            </g>
          );
        })}

        {/* Traffic the current links would not allow: dashed red, bent aside. */}
        {traffic
          .filter((t) => t.count > 0 && !allowed.has(`${t.from}>${t.to}`) && t.from !== t.to)
          .map((t) => {
            const a = positions[t.from];
            const b = positions[t.to];
            if (!a || !b) return null;
            const c = curve(a, b, 40, HH + 4, HH + 8);
            const lx = c.mid.x + c.normal.x * 12;
            const ly = c.mid.y + c.normal.y * 12 + 4;
            return (
              <g
                key={`ghost-${t.from}>${t.to}`}
                class="al-ghost"
                data-testid={`graph-blocked-${t.from}-${t.to}`}
              >
                <title>{`${names.get(t.from) ?? t.from} → ${names.get(t.to) ?? t.to}: ${t.count} ${t.count === 1 ? "message" : "messages"} in the last 24 h that these links do not allow`}</title>
                <path d={c.d} class="al-line" marker-end="url(#al-arrow-ghost)" />
                <text x={r1(lx)} y={r1(ly)} text-anchor="middle" class="al-ghost-text">
                  {t.count} blocked
                </text>
              </g>
            );
          })}

        {edges.map((e) => {
          const key = edgeKey(e);
          const a = at(e.from);
          const b = at(e.to);
          // Two links drawn between the same pair from either end: shift them apart.
          const twin = keys.has(`${e.to}>${e.from}`);
          const off = twin ? 7 : 0;
          const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
          const nx = (-(b.y - a.y) / len) * off;
          const ny = ((b.x - a.x) / len) * off;
          const s0 = exitPoint(a, b, 3);
          const t0 = exitPoint(b, a, 3);
          const s = { x: s0.x + nx, y: s0.y + ny };
          const t = { x: t0.x + nx, y: t0.y + ny };
          const mid = { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 };
          // Only traffic this link carries counts here; the other direction is drawn as blocked.
          const fwd = e.direction !== "receive_only" ? flows.get(`${e.from}>${e.to}`) : undefined;
          const back = e.direction !== "send_only" ? flows.get(`${e.to}>${e.from}`) : undefined;
          const sent = (fwd?.count ?? 0) + (back?.count ?? 0);
          const isSel = selected === key;
          const bad = invalid.has(key);
          const draft = unsaved.has(pairKey(e.from, e.to));
          const tone = bad ? "bad" : isSel ? "sel" : draft ? "draft" : "base";
          const startMarker = e.direction !== "send_only" ? `url(#al-arrow-${tone})` : undefined;
          const endMarker = e.direction !== "receive_only" ? `url(#al-arrow-${tone})` : undefined;
          const label = directionPhrase(e.direction, names.get(e.from) ?? e.from, names.get(e.to) ?? e.to);
          const path = `M${r1(s.x)},${r1(s.y)} L${r1(t.x)},${r1(t.y)}`;
          return (
            // biome-ignore lint/a11y/useSemanticElements: an SVG link cannot be a <button>; it behaves as one
            <g
              key={key}
              class={`al-edge al-edge-${tone}${sent ? " al-edge-live" : ""}`}
              data-testid={`graph-edge-${e.from}-${e.to}`}
              data-direction={e.direction}
              data-selected={isSel ? "true" : undefined}
              role="button"
              tabIndex={0}
              aria-pressed={isSel}
              aria-label={`Link ${label}${sent ? `, ${sent} messages in the last 24 hours` : ""}${draft ? ", not saved" : ""}`}
              onClick={(ev) => {
                ev.stopPropagation();
                onSelect(isSel ? null : key);
              }}
              onKeyDown={(ev) => {
                if (ev.key === "Enter" || ev.key === " ") {
                  ev.preventDefault();
                  onSelect(isSel ? null : key);
                } else if ((ev.key === "Delete" || ev.key === "Backspace") && !readOnly) {
                  ev.preventDefault();
                  onRemove(key);
                }
              }}
            >
              <title>{bad ? `${label}: ${invalid.get(key)?.join(" ")}` : label}</title>
              <path d={path} class="al-hit" />
              {/* A grab target in the middle; it also gives straight vertical links a width. */}
              <circle cx={r1(mid.x)} cy={r1(mid.y)} r="9" class="al-hit-dot" />
              <path d={path} class="al-line" marker-start={startMarker} marker-end={endMarker} />
              {sent > 0 && (
                <path d={fwd ? path : `M${r1(t.x)},${r1(t.y)} L${r1(s.x)},${r1(s.y)}`} class="al-flow" />
              )}
              {sent > 0 && (
                <g class="al-count" transform={`translate(${r1(mid.x)},${r1(mid.y)})`}>
                  <rect
                    x={-16 - String(sent).length * 3}
                    y="-10"
                    width={32 + String(sent).length * 6}
                    height="20"
                    rx="10"
                  />
                  <text text-anchor="middle" dy="4">
                    {sent}
                  </text>
                </g>
              )}
            </g>
          );
        })}

        {d?.kind === "link" &&
          (() => {
            const from = at(d.from);
            const target = d.over ? at(d.over) : d.at;
            const s = exitPoint(from, target, 2);
            const t = d.over ? exitPoint(target, from, 4) : target;
            return (
              <line
                x1={r1(s.x)}
                y1={r1(s.y)}
                x2={r1(t.x)}
                y2={r1(t.y)}
                class={`al-rubber${dropInvalid ? " al-rubber-bad" : ""}`}
                marker-end={`url(#al-arrow-${dropInvalid ? "bad" : "sel"})`}
              />
            );
          })()}
      </g>

      <g class="graph-nodes">
        {nodes.map((n) => {
          const c = at(n.id);
          const x = c.x - HW;
          const y = c.y - HH;
          const isDrop = dropTarget === n.id;
          const isSource = linkFrom === n.id;
          const h = hue(n.id);
          return (
            <g
              key={n.id}
              class={`al-node${n.inactive ? " al-node-inactive" : ""}${n.unknown ? " al-node-unknown" : ""}${isDrop ? (dropInvalid ? " al-node-drop-bad" : " al-node-drop") : ""}${isSource ? " al-node-source" : ""}${hoverNode.value === n.id ? " al-node-hover" : ""}`}
              data-testid={`graph-node-${n.id}`}
              transform={`translate(${x},${y})`}
              onPointerEnter={() => {
                hoverNode.value = n.id;
              }}
              onPointerLeave={() => {
                if (hoverNode.value === n.id) hoverNode.value = null;
              }}
              onPointerDown={(e) => {
                if (e.button !== 0) return;
                e.preventDefault();
                const p = toSvg(e);
                capture(e);
                drag.value = {
                  kind: "move",
                  id: n.id,
                  dx: p.x - c.x,
                  dy: p.y - c.y,
                  moved: false,
                  pointerId: e.pointerId,
                };
              }}
            >
              <title>{n.unknown ? `${n.id} (not an agent of this workspace)` : n.name}</title>
              <rect width={NODE_W} height={NODE_H} rx="10" class="al-node-box" />
              <circle
                cx="24"
                cy={HH}
                r="14"
                class="al-node-avatar"
                style={{ fill: `hsl(${h} 80% 94%)`, stroke: `hsl(${h} 60% 80%)` }}
              />
              <text
                x="24"
                y={HH + 4}
                text-anchor="middle"
                class="al-node-initials"
                style={{ fill: `hsl(${h} 55% 32%)` }}
              >
                {initials(n.name)}
              </text>
              <text x="46" y={n.subtitle ? HH - 3 : HH + 4} class="al-node-name">
                {clip(n.name, 15)}
              </text>
              {n.subtitle && (
                <text x="46" y={HH + 13} class="al-node-sub">
                  {clip(n.subtitle, 18)}
                </text>
              )}
              {!readOnly && (
                <g
                  class="al-handle"
                  transform={`translate(${NODE_W},${HH})`}
                  data-testid={`graph-handle-${n.id}`}
                  onPointerDown={(e) => {
                    if (e.button !== 0) return;
                    e.preventDefault();
                    e.stopPropagation();
                    capture(e);
                    drag.value = {
                      kind: "link",
                      from: n.id,
                      at: toSvg(e),
                      over: null,
                      pointerId: e.pointerId,
                    };
                  }}
                >
                  <title>{`Drag to another agent to link ${n.name}`}</title>
                  <circle r="12" class="al-handle-hit" />
                  <circle r="5.5" class="al-handle-dot" />
                </g>
              )}
            </g>
          );
        })}
      </g>
    </svg>
  );
}
