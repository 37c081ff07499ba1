import { useId } from "preact/hooks";
import { count, dayLabel, money, monthLabel, tokens } from "../format";
import { daysOfMonth } from "../models/billing";
import type { DailyUsage } from "../types";

type SeriesKey = "inputTokens" | "outputTokens" | "thinkingTokens" | "cacheReadTokens";

export const USAGE_SERIES: ReadonlyArray<{ key: SeriesKey; label: string }> = [
  { key: "inputTokens", label: "Input" },
  { key: "outputTokens", label: "Output" },
  { key: "thinkingTokens", label: "Thinking" },
  { key: "cacheReadTokens", label: "Cache reads" },
];

const W = 760;
const H = 260;
const M = { top: 14, right: 12, bottom: 44, left: 60 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

/** 1, 2, 2.5 or 5 × a power of ten, at least `raw`: axis steps a reader can add up. */
function niceStep(raw: number): number {
  if (raw <= 0) return 1;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * pow;
}

function stackOf(d: DailyUsage | undefined): number {
  return d ? USAGE_SERIES.reduce((sum, s) => sum + d[s.key], 0) : 0;
}

/** True when no day of the month has a token or a call. */
export function isUsageEmpty(daily: readonly DailyUsage[]): boolean {
  return daily.every((d) => stackOf(d) === 0 && d.calls === 0);
}

function dayTitle(day: string, d: DailyUsage | undefined): string {
  if (!d || (stackOf(d) === 0 && d.calls === 0)) return `${dayLabel(day)}: no usage`;
  const kinds = USAGE_SERIES.map((s) => `${s.label} ${tokens(d[s.key])}`).join(", ");
  return `${dayLabel(day)}: ${kinds} · ${count(d.calls)} calls · est. ${money(d.estimatedCostUsd)}`;
}

/**
 * Tokens per day of one month, stacked by kind, drawn as plain SVG. Each day's bar has its numbers as
 * a tooltip; the same numbers are available as a table underneath for keyboard and screen readers.
 */
export function UsageChart({ month, daily }: { month: string; daily: readonly DailyUsage[] }) {
  const titleId = useId();
  const descId = useId();
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const days = daysOfMonth(month);
  const max = Math.max(0, ...days.map((d) => stackOf(byDay.get(d))));
  const step = Math.max(1, niceStep(max / 4));
  const yMax = Math.max(step, Math.ceil(max / step) * step);
  const ticks = Array.from({ length: Math.round(yMax / step) + 1 }, (_, i) => i * step);
  const slot = PW / Math.max(1, days.length);
  const barW = Math.max(2, slot * 0.68);
  const y = (v: number) => M.top + PH - (v / yMax) * PH;
  const withUsage = days.filter((d) => {
    const u = byDay.get(d);
    return u && (stackOf(u) > 0 || u.calls > 0);
  });

  return (
    <div class="usage-chart">
      <ul class="chart-legend" aria-label="Token kinds">
        {USAGE_SERIES.map((s) => (
          <li key={s.key}>
            <span class={`chart-swatch series-${s.key}`} aria-hidden="true" />
            {s.label}
          </li>
        ))}
      </ul>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={titleId}
        aria-describedby={descId}
        data-testid="usage-chart"
      >
        <title id={titleId}>Tokens per day, {monthLabel(month)}</title>
        <desc id={descId}>
          Stacked bars of input, output, thinking and cache-read tokens for each day of the month (UTC). The
          busiest day used {tokens(max)} tokens.
        </desc>
        {ticks.map((t) => (
          <g key={t}>
            <line class="chart-grid" x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} />
            <text class="chart-tick" x={M.left - 8} y={y(t)} text-anchor="end" dominant-baseline="middle">
              {tokens(t)}
            </text>
          </g>
        ))}
        {days.map((day, i) => {
          const u = byDay.get(day);
          const x = M.left + i * slot + (slot - barW) / 2;
          let acc = 0;
          return (
            <g key={day} class="chart-day">
              {u &&
                USAGE_SERIES.map((s) => {
                  const v = u[s.key];
                  if (v <= 0) return null;
                  const top = y(acc + v);
                  const h = y(acc) - top;
                  acc += v;
                  return (
                    <rect
                      key={s.key}
                      class={`series-${s.key}`}
                      x={x}
                      y={top}
                      width={barW}
                      height={Math.max(0.5, h)}
                    />
                  );
                })}
              <rect class="chart-hit" x={M.left + i * slot} y={M.top} width={slot} height={PH}>
                <title>{dayTitle(day, u)}</title>
              </rect>
            </g>
          );
        })}
        <line class="chart-axis" x1={M.left} x2={W - M.right} y1={M.top + PH} y2={M.top + PH} />
        <line class="chart-axis" x1={M.left} x2={M.left} y1={M.top} y2={M.top + PH} />
        {days.map((day, i) => {
          const n = i + 1;
          if (n !== 1 && n % 5 !== 0) return null;
          return (
            <text
              key={day}
              class="chart-tick"
              x={M.left + i * slot + slot / 2}
              y={M.top + PH + 16}
              text-anchor="middle"
            >
              {n}
            </text>
          );
        })}
        <text class="chart-axis-title" x={M.left + PW / 2} y={H - 6} text-anchor="middle">
          Day of {monthLabel(month)} (UTC)
        </text>
        <text
          class="chart-axis-title"
          x={14}
          y={M.top + PH / 2}
          text-anchor="middle"
          transform={`rotate(-90 14 ${M.top + PH / 2})`}
        >
          Tokens
        </text>
      </svg>
      <details class="chart-table">
        <summary>Show as a table</summary>
        <div class="table-wrap">
          <table class="table table-dense">
            <thead>
              <tr>
                <th scope="col">Day</th>
                {USAGE_SERIES.map((s) => (
                  <th scope="col" class="num" key={s.key}>
                    {s.label}
                  </th>
                ))}
                <th scope="col" class="num">
                  Calls
                </th>
                <th scope="col" class="num">
                  Toward quota
                </th>
                <th scope="col" class="num">
                  Est. cost
                </th>
              </tr>
            </thead>
            <tbody>
              {withUsage.map((day) => {
                const u = byDay.get(day);
                if (!u) return null;
                return (
                  <tr key={day}>
                    <th scope="row">{dayLabel(day)}</th>
                    {USAGE_SERIES.map((s) => (
                      <td class="num" key={s.key}>
                        {count(u[s.key])}
                      </td>
                    ))}
                    <td class="num">{count(u.calls)}</td>
                    <td class="num">{count(u.quotaTokens)}</td>
                    <td class="num">{money(u.estimatedCostUsd)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
