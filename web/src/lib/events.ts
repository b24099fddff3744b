// The console's object store: lists loaded once and kept current by the
// server-sent events of /api/events (docs/console.md, "Live updates").

import type { EventKind, KubeObject } from "../types";

/** WatchEvent is one event of the stream. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
}

/** Store holds the objects of each kind by name, and whether each list was loaded. */
export interface Store {
  objects: Record<EventKind, Record<string, KubeObject>>;
  loaded: Record<EventKind, boolean>;
}

/** Action changes the store: a list answer, or one event. */
export type Action =
  | { kind: "load"; of: EventKind; items: KubeObject[] }
  | { kind: "event"; of: EventKind; event: WatchEvent };

export const eventKinds: EventKind[] = ["Cluster", "Plan", "Migration", "Repository", "Hook"];

/** emptyStore has no objects and no list loaded. */
export function emptyStore(): Store {
  const objects = {} as Store["objects"];
  const loaded = {} as Store["loaded"];
  for (const k of eventKinds) {
    objects[k] = {};
    loaded[k] = false;
  }
  return { objects, loaded };
}

/**
 * newer reports whether a is a later version than b by resourceVersion.
 * Versions are compared as numbers when both are (etcd's revisions); an
 * unknown order counts as newer, so that the latest write wins.
 */
export function newer(a: KubeObject, b: KubeObject | undefined): boolean {
  if (!b) return true;
  const va = a.metadata.resourceVersion;
  const vb = b.metadata.resourceVersion;
  if (!va || !vb || !/^\d+$/.test(va) || !/^\d+$/.test(vb)) return true;
  return BigInt(va) >= BigInt(vb);
}

/** reduce applies an action to the store and returns the new store; the old one is not changed. */
export function reduce(s: Store, a: Action): Store {
  const current = s.objects[a.of];
  let next: Record<string, KubeObject>;
  if (a.kind === "load") {
    next = {};
    for (const o of a.items) {
      const have = current[o.metadata.name];
      // An event that arrived while the list was on its way may be newer.
      next[o.metadata.name] = have && !newer(o, have) ? have : o;
    }
    return { objects: { ...s.objects, [a.of]: next }, loaded: { ...s.loaded, [a.of]: true } };
  }
  const o = a.event.object;
  const name = o?.metadata?.name;
  if (!name) return s;
  if (a.event.type === "DELETED") {
    if (!(name in current)) return s;
    next = { ...current };
    delete next[name];
  } else {
    if (!newer(o, current[name])) return s;
    next = { ...current, [name]: o };
  }
  return { ...s, objects: { ...s.objects, [a.of]: next } };
}

/** list returns a kind's objects sorted by name. */
export function list<T extends KubeObject>(s: Store, kind: EventKind): T[] {
  return Object.values(s.objects[kind])
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)) as T[];
}

/** parseEvent reads the data of one server-sent event; null when it is not a watch event. */
export function parseEvent(data: string): WatchEvent | null {
  try {
    const e = JSON.parse(data);
    if (e && (e.type === "ADDED" || e.type === "MODIFIED" || e.type === "DELETED") && e.object?.metadata?.name) {
      return e as WatchEvent;
    }
  } catch {
    // fall through
  }
  return null;
}
