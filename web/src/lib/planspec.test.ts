import { describe, expect, it } from "vitest";
import { draftOf, emptyDraft, generalErrors, namespaceErrors, setOverride, specOf } from "./planspec";
import type { PlanSpec } from "../types";

describe("draft and spec", () => {
  it("round-trips an edited plan's spec, keeping the fields the wizard does not show", () => {
    const spec: PlanSpec = {
      type: "Full",
      sourceCluster: "src",
      destinationCluster: "dst",
      namespaces: ["shop:shop-new", "db"],
      persistentVolumeClaims: [{ namespace: "db", name: "data", action: "copy", targetStorageClass: "fast" }],
      hooks: [{ hook: "flush", phase: "PreBackup" }],
      autoResize: true,
      storageClassMapping: { standard: "fast" },
      includedKinds: ["Deployment.apps"],
    };
    expect(specOf(draftOf("p", spec))).toEqual(spec);
  });

  it("drops empty overrides and fields", () => {
    let d = { ...emptyDraft(), name: "p", source: "a", destination: "b", namespaces: [{ source: "x", target: "" }] };
    d = setOverride(d, "x", "c", "targetName", "c2");
    d = setOverride(d, "x", "c", "targetCapacity", "5Gi");
    d = setOverride(d, "x", "c", "targetName", "");
    expect(specOf(d)).toEqual({
      type: "Full",
      sourceCluster: "a",
      destinationCluster: "b",
      namespaces: ["x"],
      persistentVolumeClaims: [{ namespace: "x", name: "c", targetCapacity: "5Gi" }],
    });
    d = setOverride(d, "x", "c", "targetCapacity", undefined);
    expect(specOf(d).persistentVolumeClaims).toBeUndefined();
  });

  it("keeps a storage conversion within one cluster and namespace", () => {
    const d = { ...emptyDraft(), name: "p", type: "StorageConversion" as const, source: "a", destination: "b", namespaces: [{ source: "x", target: "y" }] };
    expect(specOf(d)).toMatchObject({ sourceCluster: "a", destinationCluster: "a", namespaces: ["x"] });
  });
});

describe("validation", () => {
  it.each([
    [{}, ["name", "source", "destination"]],
    [{ name: "Bad_Name", source: "a", destination: "b" }, ["name"]],
    [{ name: "ok", source: "a", type: "StorageConversion" }, []],
    [{ name: "ok", source: "a", destination: "b", dataPath: "repository" }, ["repository"]],
  ] as [Record<string, string>, string[]][])("general %#", (fields, want) => {
    expect(Object.keys(generalErrors({ ...emptyDraft(), ...fields })).sort()).toEqual(want.sort());
  });

  it.each([
    ["none chosen", "a", "b", [], [""]],
    ["a bad rename", "a", "b", [{ source: "x", target: "X" }], ["x"]],
    ["two into one", "a", "b", [{ source: "x", target: "z" }, { source: "y", target: "z" }], ["y"]],
    ["same cluster without a rename", "a", "a", [{ source: "x", target: "x" }], ["x"]],
    ["same cluster with a rename", "a", "a", [{ source: "x", target: "x2" }], []],
  ])("namespaces: %s", (_, source, destination, namespaces, want) => {
    expect(Object.keys(namespaceErrors({ ...emptyDraft(), source, destination, namespaces }))).toEqual(want);
  });
});
