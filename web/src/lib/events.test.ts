import { describe, expect, it } from "vitest";
import { emptyStore, list, newer, parseEvent, reduce } from "./events";
import type { KubeObject } from "../types";

const obj = (name: string, rv: string, extra: Record<string, unknown> = {}): KubeObject =>
  ({ metadata: { name, resourceVersion: rv }, ...extra }) as KubeObject;

describe("reduce", () => {
  it("loads a list and marks it loaded", () => {
    const s = reduce(emptyStore(), { kind: "load", of: "Plan", items: [obj("b", "2"), obj("a", "1")] });
    expect(s.loaded.Plan).toBe(true);
    expect(s.loaded.Cluster).toBe(false);
    expect(list(s, "Plan").map((o) => o.metadata.name)).toEqual(["a", "b"]);
  });

  it("applies added, modified and deleted events", () => {
    let s = reduce(emptyStore(), { kind: "load", of: "Cluster", items: [obj("src", "5")] });
    s = reduce(s, { kind: "event", of: "Cluster", event: { type: "ADDED", object: obj("dst", "6") } });
    s = reduce(s, { kind: "event", of: "Cluster", event: { type: "MODIFIED", object: obj("src", "7", { spec: { url: "x" } }) } });
    expect((s.objects.Cluster.src as unknown as { spec: { url: string } }).spec.url).toBe("x");
    s = reduce(s, { kind: "event", of: "Cluster", event: { type: "DELETED", object: obj("dst", "8") } });
    expect(Object.keys(s.objects.Cluster)).toEqual(["src"]);
  });

  it("ignores an event older than what it has", () => {
    const s = reduce(emptyStore(), { kind: "event", of: "Plan", event: { type: "MODIFIED", object: obj("p", "10") } });
    const t = reduce(s, { kind: "event", of: "Plan", event: { type: "MODIFIED", object: obj("p", "9") } });
    expect(t).toBe(s);
  });

  it("keeps an event newer than the list that arrived after it", () => {
    let s = reduce(emptyStore(), { kind: "event", of: "Migration", event: { type: "MODIFIED", object: obj("m", "20") } });
    s = reduce(s, { kind: "load", of: "Migration", items: [obj("m", "19"), obj("n", "3")] });
    expect(s.objects.Migration.m.metadata.resourceVersion).toBe("20");
    expect(s.objects.Migration.n).toBeDefined();
  });

  it("does not change the store it was given", () => {
    const s = emptyStore();
    reduce(s, { kind: "event", of: "Hook", event: { type: "ADDED", object: obj("h", "1") } });
    expect(s.objects.Hook).toEqual({});
  });
});

describe("newer", () => {
  it.each([
    ["10", "9", true],
    ["9", "10", false],
    ["10", "10", true],
    ["abc", "10", true],
    ["100000000000000000001", "100000000000000000000", true],
  ])("%s after %s: %s", (a, b, want) => expect(newer(obj("x", a), obj("x", b))).toBe(want));
});

describe("parseEvent", () => {
  it.each([
    ['{"type":"ADDED","object":{"metadata":{"name":"a"}}}', "a"],
    ['{"type":"BOOKMARK","object":{"metadata":{"name":"a"}}}', null],
    ['{"type":"ADDED","object":{}}', null],
    ["not json", null],
  ])("%s", (data, want) => {
    const e = parseEvent(data);
    expect(e ? e.object.metadata.name : null).toBe(want);
  });
});
