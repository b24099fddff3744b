// The console's JSON API (docs/console.md): the session cookie goes with
// every request; mutating requests carry the session's CSRF token.

import type { Session } from "./types";

/** ApiError is a failed request: its status and the server's message. */
export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

let csrf = "";

/** setCsrf keeps the session's CSRF token for mutating requests. */
export function setCsrf(token: string) {
  csrf = token;
}

/** onUnauthorized is called when a request answers 401 (the session ended). */
export let onUnauthorized: () => void = () => {};
export function setOnUnauthorized(f: () => void) {
  onUnauthorized = f;
}

/** request sends one API request and decodes the JSON answer. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-Ferry-CSRF"] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    let message = `${method} ${path}: ${res.status} ${res.statusText}`;
    try {
      const e = await res.json();
      if (e && typeof e.error === "string") message = e.error;
    } catch {
      // not JSON: keep the status line
    }
    if (res.status === 401 && path !== "/api/session") onUnauthorized();
    throw new ApiError(res.status, message);
  }
  if (res.status === 204 || res.headers.get("Content-Length") === "0") return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string) => request<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {});
export const put = <T>(path: string, body: unknown) => request<T>("PUT", path, body);
export const del = <T>(path: string) => request<T>("DELETE", path);

/** getSession answers the current session, or null without one. */
export async function getSession(): Promise<Session | null> {
  try {
    return await get<Session>("/api/session");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

/** enc escapes one path segment. */
export const enc = encodeURIComponent;
