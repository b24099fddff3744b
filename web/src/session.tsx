// The session, for the screens that depend on the mode (local or token).

import { createContext, useContext, useState } from "react";
import { FormGroup, TextInput } from "@patternfly/react-core";
import { Hint } from "./components/common";
import { useClusters } from "./store";
import type { Session } from "./types";

export const SessionContext = createContext<Session | null>(null);

/** useSession is the current session. */
export const useSession = () => useContext(SessionContext);

/**
 * remoteClusters are the clusters among names for which a token-mode
 * session needs the user's own token (Ferry is granted the plan's
 * namespaces there with it); none in local mode or for the host.
 */
export function useRemoteClusters(names: string[]): string[] {
  const session = useSession();
  const clusters = useClusters();
  if (session?.mode !== "token") return [];
  return [...new Set(names.filter(Boolean))].filter((n) => !clusters.find((c) => c.metadata.name === n)?.spec.isHost);
}

/** Credentials holds the user's tokens for clusters by name; never stored beyond the page. */
export type Credentials = Record<string, string>;

/** withCredentials adds the non-empty tokens to a request body. */
export function withCredentials<T extends object>(body: T, creds: Credentials): T & { credentials?: Credentials } {
  const c = Object.fromEntries(Object.entries(creds).filter(([, v]) => v.trim()));
  return Object.keys(c).length ? { ...body, credentials: c } : body;
}

/** CredentialFields asks for the user's token on each remote cluster. */
export function CredentialFields({ clusters, value, onChange }: { clusters: string[]; value: Credentials; onChange: (c: Credentials) => void }) {
  if (clusters.length === 0) return null;
  return (
    <>
      {clusters.map((n) => (
        <FormGroup key={n} label={`Your token for cluster ${n}`} fieldId={`cred-${n}`}>
          <TextInput id={`cred-${n}`} type="password" autoComplete="off" value={value[n] ?? ""} onChange={(_, v) => onChange({ ...value, [n]: v })} />
          <Hint text={`Ferry is granted the plan's namespaces on ${n} with your own rights there; the token goes to ${n} only and is not stored.`} />
        </FormGroup>
      ))}
    </>
  );
}

/** useCredentials keeps tokens in memory for one screen. */
export const useCredentials = () => useState<Credentials>({});
