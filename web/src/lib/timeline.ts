// Layout of a migration's itinerary as a timeline: a bar per step on a
// time axis, so that one sees where the time went.

import type { Step } from "../types";

/** Bar is one step's place on the axis, in percent of its width. */
export interface Bar {
  name: string;
  phase: Step["phase"];
  left: number;
  width: number;
  seconds: number | null;
  current: boolean;
}

/** Tick is a mark of the time axis. */
export interface Tick {
  left: number;
  label: string;
}

/** Layout is the timeline of an itinerary. */
export interface Layout {
  start: number | null;
  end: number | null;
  bars: Bar[];
  ticks: Tick[];
}

/** minWidth keeps a bar of a very short step visible, in percent. */
export const minWidth = 0.5;

const ms = (t?: string) => (t ? new Date(t).getTime() : NaN);

/** currentStep is the index of the first step neither Succeeded nor Skipped, -1 when all are. */
export function currentStep(steps: Step[]): number {
  return steps.findIndex((s) => s.phase !== "Succeeded" && s.phase !== "Skipped");
}

const tickSteps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** tickStep picks an interval in seconds giving at most maxTicks marks over span seconds. */
export function tickStep(spanSeconds: number, maxTicks = 8): number {
  for (const s of tickSteps) if (spanSeconds / s <= maxTicks) return s;
  return Math.ceil(spanSeconds / maxTicks / 86400) * 86400;
}

/** tickLabel writes an offset from the start, e.g. +90s as 1m30s. */
export function tickLabel(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return seconds % 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds / 60}m`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return m ? `${h}h${m}m` : `${h}h`;
}

/**
 * layout places the steps on an axis from the first start to the last
 * completion (now for a running step). Steps that never started have no
 * extent (width 0).
 */
export function layout(steps: Step[], now: number): Layout {
  const cur = currentStep(steps);
  let start = Infinity;
  let end = -Infinity;
  const spans = steps.map((s) => {
    const a = ms(s.started);
    if (isNaN(a)) return null;
    let b = ms(s.completed);
    if (isNaN(b)) b = s.phase === "Running" ? Math.max(now, a) : a;
    start = Math.min(start, a);
    end = Math.max(end, b);
    return [a, b] as const;
  });
  if (!isFinite(start)) {
    return { start: null, end: null, ticks: [], bars: steps.map((s, i) => ({ name: s.name, phase: s.phase, left: 0, width: 0, seconds: null, current: i === cur })) };
  }
  const span = Math.max(end - start, 1000);
  const bars = steps.map((s, i): Bar => {
    const sp = spans[i];
    if (!sp) return { name: s.name, phase: s.phase, left: 0, width: 0, seconds: null, current: i === cur };
    const left = ((sp[0] - start) / span) * 100;
    const width = Math.min(100 - left, Math.max(minWidth, ((sp[1] - sp[0]) / span) * 100));
    return { name: s.name, phase: s.phase, left, width, seconds: (sp[1] - sp[0]) / 1000, current: i === cur };
  });
  const step = tickStep(span / 1000);
  const ticks: Tick[] = [];
  for (let t = 0; t * 1000 <= span; t += step) ticks.push({ left: ((t * 1000) / span) * 100, label: tickLabel(t) });
  return { start, end: start + span, bars, ticks };
}
