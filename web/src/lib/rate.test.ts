import { describe, expect, it } from "vitest";
import { addSample, eta, maxSamples, rate, sampleVolumes, throughput, type Sample } from "./rate";

describe("rate", () => {
  it.each([
    ["no samples", [], 20000, null],
    ["one sample", [{ t: 0, bytes: 0 }], 20000, null],
    ["steady 1 MiB/s", [{ t: 0, bytes: 0 }, { t: 1000, bytes: 1 << 20 }, { t: 2000, bytes: 2 << 20 }], 20000, 1 << 20],
    ["only the window counts", [{ t: 0, bytes: 0 }, { t: 30000, bytes: 3000 }, { t: 40000, bytes: 13000 }], 15000, 1000],
    ["the last pair when the window is shorter", [{ t: 0, bytes: 0 }, { t: 60000, bytes: 6000 }], 1000, 100],
  ] as [string, Sample[], number, number | null][])("%s", (_, samples, win, want) => {
    expect(rate(samples, win)).toBe(want);
  });
});

describe("eta", () => {
  it.each([
    [0, 0, 100, null],
    [100, 100, null, 0],
    [50, 100, null, null],
    [50, 100, 0, null],
    [50, 100, 10, 5],
  ] as [number, number, number | null, number | null][])("done %d of %d at %s B/s", (done, total, r, want) => {
    expect(eta(done, total, r)).toBe(want);
  });
});

describe("addSample", () => {
  it("starts over when the bytes go down (a new attempt)", () => {
    expect(addSample([{ t: 0, bytes: 10 }, { t: 1, bytes: 20 }], { t: 2, bytes: 5 })).toEqual([{ t: 2, bytes: 5 }]);
  });
  it("replaces a sample at the same time", () => {
    expect(addSample([{ t: 5, bytes: 10 }], { t: 5, bytes: 12 })).toEqual([{ t: 5, bytes: 12 }]);
  });
  it("keeps only the ends of a flat run", () => {
    let s: Sample[] = [];
    for (let t = 0; t < 5; t++) s = addSample(s, { t, bytes: 7 });
    expect(s).toEqual([{ t: 0, bytes: 7 }, { t: 4, bytes: 7 }]);
  });
  it("caps the series", () => {
    let s: Sample[] = [];
    for (let t = 0; t < maxSamples + 10; t++) s = addSample(s, { t, bytes: t });
    expect(s.length).toBe(maxSamples);
    expect(s[0].t).toBe(10);
  });
});

describe("throughput", () => {
  it("is the rate between successive samples", () => {
    expect(throughput([{ t: 0, bytes: 0 }, { t: 2000, bytes: 200 }, { t: 3000, bytes: 200 }])).toEqual([
      { t: 2000, rate: 100 },
      { t: 3000, rate: 0 },
    ]);
  });
});

describe("sampleVolumes", () => {
  it("adds a sample per volume of the migration only", () => {
    let s = sampleVolumes({}, "m1", [{ namespace: "a", claim: "data", bytesDone: 10 }], 1000);
    s = sampleVolumes(s, "m1", [{ namespace: "a", claim: "data", bytesDone: 30 }, { namespace: "a", claim: "logs" }], 2000);
    s = sampleVolumes(s, "m2", undefined, 3000);
    expect(s).toEqual({
      m1: { "a/data": [{ t: 1000, bytes: 10 }, { t: 2000, bytes: 30 }], "a/logs": [{ t: 2000, bytes: 0 }] },
    });
  });
});
