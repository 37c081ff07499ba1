import { useSignal } from "@preact/signals";
import { count } from "../format";
import type { FlowEdge } from "../models/messages";
import { circleLayout, clip, curve, initials } from "./graph-geometry";

const NODE_R = 22;

/**
 * Who messaged whom: agents on a circle, an arrow per sender → recipient, its width growing with
 * the number of messages, red when any of them were rejected. Hovering (or focusing) an agent
 * brings its own traffic forward.
 */
export function FlowDiagram({
  agents,
  edges,
}: {
  agents: ReadonlyArray<{ id: string; name: string }>;
  edges: readonly FlowEdge[];
}) {
  const focus = useSignal<string | null>(null);

  const nodes = [...agents];
  for (const e of edges)
    for (const id of [e.from, e.to]) if (!nodes.some((n) => n.id === id)) nodes.push({ id, name: id });

  // The circle grows with the number of agents so names keep apart.
  const H = Math.max(540, nodes.length * 34);
  const W = Math.round(H * 1.4);
  const radius = H / 2 - 70;
  const points = circleLayout(nodes.length, W / 2, H / 2, radius);
  const pos = new Map(nodes.map((n, i) => [n.id, points[i] ?? { x: W / 2, y: H / 2 }]));
  const max = Math.max(1, ...edges.map((e) => e.count));
  const pairs = new Set(edges.map((e) => `${e.from}>${e.to}`));
  const f = focus.value;

  return (
    <svg
      class="flow"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Message flow between ${nodes.length} agents: ${edges.length} sender to recipient pairs`}
      data-testid="flow-diagram"
    >
      <g class="flow-edges">
        {edges.map((e) => {
          const a = pos.get(e.from);
          const b = pos.get(e.to);
          if (!a || !b || e.from === e.to) return null;
          const twoWay = pairs.has(`${e.to}>${e.from}`);
          const width = 1.5 + 6.5 * Math.sqrt(e.count / max);
          // The arrowhead grows with the line so a thick edge still shows its direction.
          const head = 7 + width * 1.1;
          const { d, mid, end, control } = curve(a, b, twoWay ? 26 : 0, NODE_R + 3, NODE_R + 4 + head);
          const tip = towards(b, control, NODE_R + 4);
          const arrow = arrowHead(tip, end, 3.5 + width * 0.75);
          const dim = f !== null && e.from !== f && e.to !== f;
          const bad = e.rejected > 0;
          return (
            <g
              key={`${e.from}>${e.to}`}
              class={`flow-edge${bad ? " flow-edge-bad" : ""}${dim ? " flow-edge-dim" : ""}`}
              data-testid={`flow-edge-${e.from}-${e.to}`}
              data-count={e.count}
              data-rejected={e.rejected}
            >
              <title>
                {`${nameOf(nodes, e.from)} → ${nameOf(nodes, e.to)}: ${count(e.count)} ${e.count === 1 ? "message" : "messages"}${bad ? `, ${count(e.rejected)} rejected` : ""}`}
              </title>
              <path d={d} class="flow-line" stroke-width={width} />
              <path d={arrow} class="flow-arrowhead" />
              <g class="flow-label" transform={`translate(${mid.x.toFixed(1)},${mid.y.toFixed(1)})`}>
                <rect
                  x={bad ? -30 : -14}
                  y="-10"
                  width={bad ? 60 : 28}
                  height="20"
                  rx="10"
                  class="flow-label-bg"
                />
                <text text-anchor="middle" dy="4" class="flow-label-text">
                  {compact(e.count)}
                  {bad && <tspan class="flow-label-bad">{` · ${compact(e.rejected)}✕`}</tspan>}
                </text>
              </g>
            </g>
          );
        })}
      </g>
      <g class="flow-nodes">
        {nodes.map((n) => {
          const p = pos.get(n.id) ?? { x: W / 2, y: H / 2 };
          // Names sit outside the circle, away from the centre.
          const dx = p.x - W / 2;
          const dy = p.y - H / 2;
          const l = Math.hypot(dx, dy) || 1;
          const lx = nodes.length === 1 ? p.x : p.x + (dx / l) * (NODE_R + 14);
          const ly = nodes.length === 1 ? p.y + NODE_R + 18 : p.y + (dy / l) * (NODE_R + 14) + 4;
          const anchor = nodes.length === 1 || Math.abs(dx) < 30 ? "middle" : dx > 0 ? "start" : "end";
          const active = f === n.id;
          return (
            <g
              key={n.id}
              class={`flow-node${active ? " flow-node-active" : ""}`}
              onPointerEnter={() => {
                focus.value = n.id;
              }}
              onPointerLeave={() => {
                if (focus.value === n.id) focus.value = null;
              }}
            >
              <title>{n.name}</title>
              <circle cx={p.x} cy={p.y} r={NODE_R} class="flow-node-circle" />
              <text x={p.x} y={p.y + 4} text-anchor="middle" class="flow-node-initials">
                {initials(n.name)}
              </text>
              <text x={lx} y={ly} text-anchor={anchor} class="flow-node-name">
                {clip(n.name, 18)}
              </text>
            </g>
          );
        })}
      </g>
    </svg>
  );
}

function towards(p: { x: number; y: number }, q: { x: number; y: number }, d: number) {
  const l = Math.hypot(q.x - p.x, q.y - p.y) || 1;
  return { x: p.x + ((q.x - p.x) / l) * d, y: p.y + ((q.y - p.y) / l) * d };
}

/** A triangle from `base` (centre of its back edge, `half` wide each side) to `tip`. */
function arrowHead(tip: { x: number; y: number }, base: { x: number; y: number }, half: number): string {
  const dx = tip.x - base.x;
  const dy = tip.y - base.y;
  const l = Math.hypot(dx, dy) || 1;
  const nx = (-dy / l) * half;
  const ny = (dx / l) * half;
  const r = (n: number) => n.toFixed(1);
  return `M${r(tip.x)},${r(tip.y)} L${r(base.x + nx)},${r(base.y + ny)} L${r(base.x - nx)},${r(base.y - ny)} Z`;
}

function nameOf(nodes: ReadonlyArray<{ id: string; name: string }>, id: string): string {
  return nodes.find((n) => n.id === id)?.name ?? id;
}

const compactFmt = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
function compact(n: number): string {
  return compactFmt.format(n);
}
