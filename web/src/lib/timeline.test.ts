import { describe, expect, it } from "vitest";
import { currentStep, layout, tickLabel, tickStep } from "./timeline";
import type { Step } from "../types";

const t0 = Date.parse("2026-12-02T10:00:00Z");
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

describe("layout", () => {
  it("places each step on the axis from the first start to the last end", () => {
    const steps: Step[] = [
      { name: "Prepare", phase: "Succeeded", started: at(0), completed: at(10) },
      { name: "CopyVolumes", phase: "Succeeded", started: at(10), completed: at(90) },
      { name: "Apply", phase: "Succeeded", started: at(90), completed: at(100) },
    ];
    const l = layout(steps, t0 + 500_000);
    expect(l.start).toBe(t0);
    expect(l.end).toBe(t0 + 100_000);
    expect(l.bars.map((b) => [b.left, b.width, b.seconds])).toEqual([
      [0, 10, 10],
      [10, 80, 80],
      [90, 10, 10],
    ]);
    expect(l.bars.some((b) => b.current)).toBe(false);
  });

  it("runs a running step up to now and marks it current", () => {
    const steps: Step[] = [
      { name: "Prepare", phase: "Succeeded", started: at(0), completed: at(20) },
      { name: "CopyVolumes", phase: "Running", started: at(20) },
      { name: "Apply", phase: "Pending" },
    ];
    const l = layout(steps, t0 + 40_000);
    expect(l.bars[1]).toMatchObject({ left: 50, width: 50, seconds: 20, current: true });
    expect(l.bars[2]).toMatchObject({ width: 0, seconds: null, current: false });
  });

  it("keeps a very short step visible", () => {
    const steps: Step[] = [
      { name: "A", phase: "Succeeded", started: at(0), completed: at(0) },
      { name: "B", phase: "Succeeded", started: at(0), completed: at(1000) },
    ];
    expect(layout(steps, t0).bars[0].width).toBe(0.5);
  });

  it("has no axis before any step started", () => {
    const l = layout([{ name: "A", phase: "Pending" }], t0);
    expect(l.start).toBeNull();
    expect(l.ticks).toEqual([]);
    expect(l.bars[0].current).toBe(true);
  });

  it("puts ticks at a round interval", () => {
    const l = layout([{ name: "A", phase: "Succeeded", started: at(0), completed: at(100) }], t0);
    expect(l.ticks.map((t) => t.label)).toEqual(["0s", "15s", "30s", "45s", "1m", "1m15s", "1m30s"]);
  });
});

describe("currentStep", () => {
  it.each([
    [[], -1],
    [[{ name: "a", phase: "Succeeded" }, { name: "b", phase: "Skipped" }], -1],
    [[{ name: "a", phase: "Succeeded" }, { name: "b", phase: "Failed" }, { name: "c", phase: "Pending" }], 1],
  ] as [Step[], number][])("%# finds the first unfinished step", (steps, want) => {
    expect(currentStep(steps)).toBe(want);
  });
});

describe("ticks", () => {
  it.each([
    [5, 1],
    [60, 10],
    [100, 15],
    [3600, 600],
    [200000, 43200],
  ])("span %is → every %is", (span, want) => expect(tickStep(span)).toBe(want));
  it.each([
    [0, "0s"],
    [90, "1m30s"],
    [120, "2m"],
    [3600, "1h"],
    [5400, "1h30m"],
  ])("%is is %s", (s, want) => expect(tickLabel(s)).toBe(want));
});
