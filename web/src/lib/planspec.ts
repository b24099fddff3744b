// The plan wizard's input and the PlanSpec it makes: kept apart so that
// going back and forth, and editing a plan later, never loses anything.

import type { DataPath, PlanHook, PlanSpec, PlanType, PVCOverride } from "../types";
import { formatMappings, namespaceNameError, parseMappings, type Mapping } from "./paging";

/** Draft is everything the wizard asks for. */
export interface Draft {
  name: string;
  type: PlanType;
  source: string;
  destination: string;
  dataPath: DataPath;
  repository: string;
  namespaces: Mapping[];
  /** overrides of single claims by "namespace/name" */
  overrides: Record<string, PVCOverride>;
  autoResize: boolean;
  hooks: PlanHook[];
  /** the rest of an edited plan's spec, kept as it was */
  rest: Partial<PlanSpec>;
}

/** emptyDraft is the input of a new plan. */
export function emptyDraft(): Draft {
  return { name: "", type: "Full", source: "", destination: "", dataPath: "", repository: "", namespaces: [], overrides: {}, autoResize: false, hooks: [], rest: {} };
}

/** claimKey names a claim by namespace and name. */
export const claimKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** draftOf reads a plan's name and spec into a draft. */
export function draftOf(name: string, spec: PlanSpec): Draft {
  const {
    type, sourceCluster, destinationCluster, namespaces, persistentVolumeClaims, autoResize, hooks, repository, dataPath, ...rest
  } = spec;
  const overrides: Record<string, PVCOverride> = {};
  for (const o of persistentVolumeClaims ?? []) overrides[claimKey(o.namespace, o.name)] = o;
  return {
    name,
    type: type || "Full",
    source: sourceCluster,
    destination: destinationCluster,
    dataPath: dataPath || "",
    repository: repository || "",
    namespaces: parseMappings(namespaces ?? []),
    overrides,
    autoResize: !!autoResize,
    hooks: hooks ?? [],
    rest,
  };
}

/** isEmptyOverride reports whether an override changes nothing. */
export function isEmptyOverride(o: PVCOverride): boolean {
  return !o.action && !o.targetName && !o.targetStorageClass && !o.targetCapacity && !(o.targetAccessModes?.length) && !o.targetExists && !o.dataPath && !o.sourceVolume;
}

/** specOf makes the PlanSpec of a draft; empty fields are left out. */
export function specOf(d: Draft): PlanSpec {
  const spec: PlanSpec = {
    ...d.rest,
    type: d.type,
    sourceCluster: d.source,
    destinationCluster: d.type === "StorageConversion" ? d.source : d.destination,
    namespaces: formatMappings(d.type === "StorageConversion" ? d.namespaces.map((m) => ({ source: m.source, target: m.source })) : d.namespaces),
  };
  const pvcs = Object.values(d.overrides)
    .filter((o) => !isEmptyOverride(o))
    .sort((a, b) => claimKey(a.namespace, a.name).localeCompare(claimKey(b.namespace, b.name)));
  if (pvcs.length) spec.persistentVolumeClaims = pvcs;
  if (d.autoResize) spec.autoResize = true;
  if (d.hooks.length) spec.hooks = d.hooks;
  if (d.repository) spec.repository = d.repository;
  if (d.dataPath) spec.dataPath = d.dataPath;
  return spec;
}

/** setOverride changes one field of a claim's override; an empty value removes the field. */
export function setOverride<K extends keyof PVCOverride>(d: Draft, namespace: string, name: string, field: K, value: PVCOverride[K] | undefined): Draft {
  const k = claimKey(namespace, name);
  const o: PVCOverride = { ...(d.overrides[k] ?? { namespace, name }) };
  const empty = value === undefined || value === "" || value === false || (Array.isArray(value) && value.length === 0);
  if (empty) delete o[field];
  else o[field] = value as PVCOverride[K];
  const overrides = { ...d.overrides };
  if (isEmptyOverride(o)) delete overrides[k];
  else overrides[k] = o;
  return { ...d, overrides };
}

/** generalErrors says what is wrong with the General step. */
export function generalErrors(d: Draft): Record<string, string> {
  const e: Record<string, string> = {};
  if (!d.name) e.name = "Give the plan a name.";
  else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(d.name) || d.name.length > 63) e.name = "Lower-case letters, digits and '-', at most 63 characters.";
  if (!d.source) e.source = "Choose the cluster to migrate from.";
  if (d.type !== "StorageConversion" && !d.destination) e.destination = "Choose the cluster to migrate to.";
  if (d.dataPath === "repository" && !d.repository) e.repository = "Choose the repository the data goes through.";
  return e;
}

/** namespaceErrors says what is wrong with the Namespaces step, by source namespace ("" for the step). */
export function namespaceErrors(d: Draft): Record<string, string> {
  const e: Record<string, string> = {};
  if (d.namespaces.length === 0) e[""] = "Choose at least one namespace.";
  const seen = new Map<string, string>();
  for (const m of d.namespaces) {
    const target = m.target || m.source;
    const bad = namespaceNameError(target);
    if (bad) e[m.source] = `Destination name: ${bad}.`;
    else if (seen.has(target)) e[m.source] = `${seen.get(target)} is migrated to ${target} already.`;
    seen.set(target, m.source);
  }
  if (d.type !== "StorageConversion" && d.source && d.source === d.destination) {
    for (const m of d.namespaces) if ((m.target || m.source) === m.source) e[m.source] = "Within one cluster the namespace needs a new name.";
  }
  return e;
}
