// Start-up: find the session, exchange a local-mode key from the URL, or
// show the login page for a token.

import { useCallback, useEffect, useState, lazy, Suspense } from "react";
import { getSession, post, setCsrf, setOnUnauthorized } from "./api";
import { Login } from "./screens/Login";
import { splitKey } from "./lib/key";
import { Loading } from "./components/common";
import type { Session } from "./types";

// The frame loads while the session is found, not after.
const loadApp = import("./App");
const App = lazy(() => loadApp);

/** takeKey removes ?key= from the address bar and returns it, so that it stays out of the history. */
function takeKey(): string | null {
  const { key, rest } = splitKey(location.href);
  if (key !== null) history.replaceState(null, "", rest);
  return key;
}

export function Boot() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  const start = useCallback((s: Session | null) => {
    if (s) setCsrf(s.csrf);
    setSession(s);
  }, []);

  useEffect(() => {
    setOnUnauthorized(() => setSession(null));
    const key = takeKey();
    const begin = key
      ? post<Session>("/api/session", { key }).catch((e: Error) => {
          setError(`The key in the address was not accepted: ${e.message}. Open the URL that ferry console printed again, or restart ferry console for a new one.`);
          return getSession();
        })
      : getSession();
    begin.then(start).catch((e: Error) => {
      setError(e.message);
      setSession(null);
    });
  }, [start]);

  if (session === undefined) return <Loading what="the console" />;
  if (session === null) return <Login error={error} onSession={start} />;
  return (
    <Suspense fallback={<Loading what="the console" />}>
      <App session={session} onLogout={() => start(null)} />
    </Suspense>
  );
}
