// The console's live object store: every list is loaded once, then kept
// current by /api/events (no polling). A reconnect of the stream loads the
// lists again, since events may have been missed meanwhile.

import { createContext, useContext, useEffect, useReducer, useState, type ReactNode } from "react";
import { get, getSession, onUnauthorized } from "./api";
import { emptyStore, eventKinds, list, parseEvent, reduce, type Store } from "./lib/events";
import { sampleVolumes, type VolumeSamples } from "./lib/rate";
import type { Cluster, EventKind, Hook, KubeObject, Migration, Plan, Repository } from "./types";

const paths: Record<EventKind, string> = {
  Cluster: "/api/clusters",
  Plan: "/api/plans",
  Migration: "/api/migrations",
  Repository: "/api/repositories",
  Hook: "/api/hooks",
};

interface State {
  store: Store;
  samples: VolumeSamples;
}

type Action =
  | Parameters<typeof reduce>[1]
  | { kind: "samples"; migration: Migration; at: number };

function reducer(s: State, a: Action): State {
  if (a.kind === "samples") {
    return { ...s, samples: sampleVolumes(s.samples, a.migration.metadata.name, a.migration.status?.volumes, a.at) };
  }
  const store = reduce(s.store, a);
  return store === s.store ? s : { ...s, store };
}

/** Live is what the screens read: the objects, load errors, the stream's state and the volume samples. */
export interface Live {
  store: Store;
  samples: VolumeSamples;
  errors: Partial<Record<EventKind, string>>;
  connected: boolean;
}

const Ctx = createContext<Live>({ store: emptyStore(), samples: {}, errors: {}, connected: false });

/** LiveProvider loads the lists and follows the event stream while it is mounted. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const [state, dispatch] = useReducer(reducer, { store: emptyStore(), samples: {} });
  const [errors, setErrors] = useState<Partial<Record<EventKind, string>>>({});
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    let stopped = false;
    const load = () => {
      for (const k of eventKinds) {
        get<{ items: KubeObject[] }>(paths[k])
          .then((r) => {
            if (stopped) return;
            dispatch({ kind: "load", of: k, items: r.items ?? [] });
            setErrors((e) => ({ ...e, [k]: undefined }));
          })
          .catch((err: Error) => !stopped && setErrors((e) => ({ ...e, [k]: err.message })));
      }
    };
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let dropped = false;
    const connect = () => {
      es = new EventSource("/api/events", { withCredentials: true });
      es.onopen = () => {
        setConnected(true);
        if (dropped) load();
        dropped = false;
      };
      es.onerror = () => {
        setConnected(false);
        dropped = true;
        // The browser reconnects by itself after a network error, but not
        // after an error answer (a 401 when the session ended): find out which.
        if (es?.readyState === EventSource.CLOSED) {
          getSession()
            .then((s) => {
              if (stopped) return;
              if (!s) onUnauthorized();
              else retry = setTimeout(connect, 2000);
            })
            .catch(() => !stopped && (retry = setTimeout(connect, 5000)));
        }
      };
      for (const k of eventKinds) {
        es.addEventListener(k, (m: MessageEvent<string>) => {
          const ev = parseEvent(m.data);
          if (!ev) return;
          dispatch({ kind: "event", of: k, event: ev });
          if (k === "Migration" && ev.type !== "DELETED") dispatch({ kind: "samples", migration: ev.object as Migration, at: Date.now() });
        });
      }
    };
    connect();
    load();
    return () => {
      stopped = true;
      clearTimeout(retry);
      es?.close();
    };
  }, []);

  return <Ctx.Provider value={{ ...state, errors, connected }}>{children}</Ctx.Provider>;
}

/** useLive reads the live store. */
export const useLive = () => useContext(Ctx);

/** useClusters and the others list one kind, sorted by name. */
export const useClusters = () => list<Cluster>(useLive().store, "Cluster");
export const usePlans = () => list<Plan>(useLive().store, "Plan");
export const useMigrations = () => list<Migration>(useLive().store, "Migration");
export const useRepositories = () => list<Repository>(useLive().store, "Repository");
export const useHooks = () => list<Hook>(useLive().store, "Hook");

/** latestMigration is a plan's newest migration by creation time. */
export function latestMigration(ms: Migration[], plan: string): Migration | undefined {
  let best: Migration | undefined;
  for (const m of ms) {
    if (m.spec.plan !== plan) continue;
    if (!best || (m.metadata.creationTimestamp ?? "") > (best.metadata.creationTimestamp ?? "")) best = m;
  }
  return best;
}
