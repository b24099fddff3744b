import { describe, expect, it } from "vitest";
import { splitKey } from "./key";

describe("splitKey", () => {
  it.each([
    ["http://127.0.0.1:8090/?key=abc", "abc", "/"],
    ["http://127.0.0.1:8090/plans?key=a%2Bb&x=1#top", "a+b", "/plans?x=1#top"],
    ["http://127.0.0.1:8090/plans?x=1", null, "/plans?x=1"],
    ["http://127.0.0.1:8090/?key=", "", "/"],
  ])("%s", (href, key, rest) => expect(splitKey(href)).toEqual({ key, rest }));
});
