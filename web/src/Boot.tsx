// Start-up: find the session, exchange a local-mode key from the URL, or
// show the login page for a token.

import { useCallback, useEffect, useState } from "react";
import { getSession, post, setCsrf, setOnUnauthorized } from "./api";
import { Login } from "./screens/Login";
import { splitKey } from "./lib/key";
import { Loading } from "./components/common";
import type { Session } from "./types";

// The frame loads while the session is found, not after. It is rendered
// once loaded, not through lazy() and Suspense: React holds back content
// that replaces a Suspense fallback for up to 300 ms, which was a third of
// the first load.
const loadApp = import("./App");
type AppModule = Awaited<typeof loadApp>;

/** takeKey removes ?key= from the address bar and returns it, so that it stays out of the history. */
function takeKey(): string | null {
  const { key, rest } = splitKey(location.href);
  if (key !== null) history.replaceState(null, "", rest);
  return key;
}

export function Boot() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [app, setApp] = useState<AppModule | null>(null);
  const [appError, setAppError] = useState<string | null>(null);

  const start = useCallback((s: Session | null) => {
    if (s) setCsrf(s.csrf);
    setSession(s);
  }, []);

  useEffect(() => {
    loadApp.then(setApp).catch((e: Error) => setAppError(`The console's code did not load: ${e.message}. Reload the page.`));
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
  if (!app) return appError ? <Login error={appError} onSession={start} /> : <Loading what="the console" />;
  return <app.default session={session} onLogout={() => start(null)} />;
}
