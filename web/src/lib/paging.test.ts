import { describe, expect, it } from "vitest";
import { clampPage, formatMappings, namespaceNameError, namespacesQuery, offsetOf, pageCount, parseMappings } from "./paging";

describe("paging", () => {
  it.each([
    [1, 50, 0],
    [3, 50, 100],
    [0, 50, 0],
    [-2, 20, 0],
  ])("page %i of %i per page starts at %i", (page, per, want) => expect(offsetOf(page, per)).toBe(want));
  it.each([
    [0, 50, 1],
    [50, 50, 1],
    [51, 50, 2],
    [10000, 20, 500],
  ])("%i items at %i per page is %i pages", (total, per, want) => expect(pageCount(total, per)).toBe(want));
  it.each([
    [5, 100, 50, 2],
    [0, 100, 50, 1],
    [NaN, 100, 50, 1],
    [2, 0, 50, 1],
  ])("page %d of %i items clamps to %i", (page, total, per, want) => expect(clampPage(page, total, per)).toBe(want));
  it("builds the namespaces query", () => {
    expect(namespacesQuery(" app ", 3, 20)).toBe("search=app&offset=40&limit=20");
    expect(namespacesQuery("", 1, 1000)).toBe("offset=0&limit=500");
  });
});

describe("namespace mappings", () => {
  it("reads and writes renames", () => {
    const ms = parseMappings(["a", "b:c"]);
    expect(ms).toEqual([{ source: "a", target: "a" }, { source: "b", target: "c" }]);
    expect(formatMappings([...ms, { source: "d", target: "" }, { source: "e", target: "e" }])).toEqual(["a", "b:c", "d", "e"]);
  });
  it.each([
    ["", ""],
    ["shop-2", ""],
    ["Shop", "lower-case"],
    ["-a", "lower-case"],
    ["a".repeat(64), "at most 63"],
  ])("%s", (name, want) => {
    const got = namespaceNameError(name);
    if (want) expect(got).toContain(want);
    else expect(got).toBe("");
  });
});
