import { describe, expect, it } from "vitest";
import { bytes, duration, parseQuantity, percent } from "./format";

describe("format", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.50 KiB"],
    [5 * 2 ** 30, "5.00 GiB"],
    [150 * 2 ** 20, "150 MiB"],
  ])("%d bytes is %s", (n, want) => expect(bytes(n)).toBe(want));
  it.each([
    [1.25, "1.3s"],
    [42, "42s"],
    [125, "2m 5s"],
    [3700, "1h 1m"],
    [-1, "–"],
  ])("%d seconds is %s", (s, want) => expect(duration(s)).toBe(want));
  it.each([
    ["10Gi", 10 * 2 ** 30],
    ["500M", 5e8],
    ["1.5Ki", 1536],
    ["12", 12],
    ["ten", NaN],
  ])("%s", (q, want) => expect(parseQuantity(q)).toBe(want));
  it("percent", () => {
    expect(percent(5, 10)).toBe(50);
    expect(percent(5, 0)).toBe(0);
    expect(percent(20, 10)).toBe(100);
  });
});
