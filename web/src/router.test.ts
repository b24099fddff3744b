import { describe, expect, it } from "vitest";
import { match } from "./router";

describe("match", () => {
  it.each([
    ["/", "/", {}],
    ["/", "/plans", null],
    ["/plans", "/plans/", {}],
    ["/plans/:name/edit", "/plans/shop/edit", { name: "shop" }],
    ["/plans/:name/edit", "/plans//edit", null],
    ["/migrations/:name", "/migrations/a%2Fb", { name: "a/b" }],
    ["/migrations/:name", "/migrations/m/debug", null],
  ])("%s against %s", (pattern, path, want) => expect(match(pattern, path)).toEqual(want));
});
