// A throughput-over-time plot of one or more volume copies, in SVG.

import { bytes } from "../lib/format";
import type { Point } from "../lib/rate";

const colors = ["#0066cc", "#3e8635", "#f0ab00", "#8476d1", "#c9190b", "#009596"];

export function ThroughputPlot({ series }: { series: { name: string; points: Point[] }[] }) {
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) return <p>The plot starts once two progress updates have arrived.</p>;
  const w = 600;
  const h = 160;
  const padL = 70;
  const padB = 20;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t), t0 + 1000);
  const max = Math.max(...all.map((p) => p.rate), 1);
  const x = (t: number) => padL + ((t - t0) / (t1 - t0)) * (w - padL - 10);
  const y = (r: number) => 10 + (1 - r / max) * (h - padB - 10);
  const secs = Math.round((t1 - t0) / 1000);
  return (
    <figure style={{ margin: 0 }}>
      <svg className="ferry-plot" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`Throughput over the last ${secs} seconds, peak ${bytes(max)}/s`}>
        <line x1={padL} y1={10} x2={padL} y2={h - padB} stroke="#d2d2d2" />
        <line x1={padL} y1={h - padB} x2={w - 10} y2={h - padB} stroke="#d2d2d2" />
        <text x={padL - 4} y={14} textAnchor="end">{bytes(max)}/s</text>
        <text x={padL - 4} y={h - padB} textAnchor="end">0</text>
        <text x={padL} y={h - 4}>−{secs}s</text>
        <text x={w - 10} y={h - 4} textAnchor="end">now</text>
        {series.map((s, i) => (
          <polyline key={s.name} fill="none" stroke={colors[i % colors.length]} strokeWidth={2} points={s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.rate).toFixed(1)}`).join(" ")} />
        ))}
      </svg>
      {series.length > 1 && (
        <figcaption style={{ display: "flex", gap: 16, flexWrap: "wrap", fontSize: 13 }}>
          {series.map((s, i) => (
            <span key={s.name}>
              <span style={{ display: "inline-block", width: 12, height: 3, background: colors[i % colors.length], verticalAlign: "middle", marginRight: 4 }} />
              {s.name}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
