// The itinerary as a timeline: a bar per step on one time axis, the
// current step highlighted.

import { layout } from "../lib/timeline";
import { duration } from "../lib/format";
import type { Step } from "../types";

export function Timeline({ steps, now }: { steps: Step[]; now: number }) {
  const l = layout(steps, now);
  return (
    <div className="ferry-timeline" role="table" aria-label="Timeline of the steps">
      <div role="rowgroup">
        {l.bars.map((b, i) => (
          <div
            role="row"
            key={b.name + i}
            className={"ferry-timeline__row" + (b.current ? " ferry-timeline__row--current" : "")}
            aria-current={b.current ? "step" : undefined}
          >
            <span role="rowheader">{b.name}</span>
            <span role="cell" className="ferry-timeline__track">
              {b.width > 0 && (
                <span
                  className={`ferry-timeline__bar ferry-timeline__bar--${b.phase}`}
                  style={{ left: `${b.left}%`, width: `${b.width}%` }}
                  title={`${b.name}: ${b.phase}, ${duration(b.seconds)}`}
                />
              )}
            </span>
            <span role="cell">{b.seconds === null ? b.phase : duration(b.seconds)}</span>
          </div>
        ))}
      </div>
      {l.ticks.length > 0 && (
        <div className="ferry-timeline__axis" aria-hidden="true">
          {l.ticks.map((t) => (
            <span key={t.label} className="ferry-timeline__tick" style={{ left: `${t.left}%` }}>
              {t.label}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}
