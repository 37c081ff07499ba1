/** Small 2-D helpers shared by the flow diagram and the allowlist editor. */

export interface Point {
  x: number;
  y: number;
}

/** n points evenly on a circle, the first at twelve o'clock. */
export function circleLayout(n: number, cx: number, cy: number, r: number): Point[] {
  if (n === 1) return [{ x: cx, y: cy }];
  return Array.from({ length: n }, (_, i) => {
    const a = (i / n) * Math.PI * 2 - Math.PI / 2;
    return { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) };
  });
}

/**
 * A gently curved path from a to b that stops `padA`/`padB` short of each end (the node's edge),
 * bent sideways by `bend` (0 = straight) so a→b and b→a do not sit on each other.
 * Returns the path, the point halfway along it (for a label) and the end points.
 */
export function curve(a: Point, b: Point, bend: number, padA: number, padB: number) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  // The normal to the left of a→b.
  const nx = -uy;
  const ny = ux;
  const c = { x: (a.x + b.x) / 2 + nx * bend, y: (a.y + b.y) / 2 + ny * bend };
  const toward = (p: Point, q: Point, d: number): Point => {
    const l = Math.hypot(q.x - p.x, q.y - p.y) || 1;
    return { x: p.x + ((q.x - p.x) / l) * d, y: p.y + ((q.y - p.y) / l) * d };
  };
  const start = toward(a, c, padA);
  const end = toward(b, c, padB);
  const mid = {
    x: 0.25 * start.x + 0.5 * c.x + 0.25 * end.x,
    y: 0.25 * start.y + 0.5 * c.y + 0.25 * end.y,
  };
  const r = (n: number) => Math.round(n * 10) / 10;
  const d = `M${r(start.x)},${r(start.y)} Q${r(c.x)},${r(c.y)} ${r(end.x)},${r(end.y)}`;
  return { d, mid, start, end, control: c, normal: { x: nx, y: ny } };
}

export function initials(name: string): string {
  const parts = name
    .replace(/[-_.]+/g, " ")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const first = parts[0] ?? "?";
  if (parts.length > 1) return `${first[0] ?? ""}${parts[parts.length - 1]?.[0] ?? ""}`.toUpperCase();
  return first.slice(0, 2).toUpperCase();
}

/** Cuts a label to fit under a node. */
export function clip(s: string, max = 16): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
