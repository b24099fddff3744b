// A small history router: the server answers index.html for every path
// that is not /api, so the console's pages have real URLs.

import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from "react";

const changed = "ferry:navigate";

/** navigate goes to a path of the console without reloading it. */
export function navigate(to: string, replace = false) {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event(changed));
  window.scrollTo?.(0, 0);
}

/** usePath is the current path, updated on navigation and on the browser's back and forward. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener("popstate", update);
    window.addEventListener(changed, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(changed, update);
    };
  }, []);
  return path;
}

/** match reads the parameters of a pattern such as /plans/:name/edit from a path; null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const norm = (x: string) => x.replace(/\/+$/, "").split("/");
  const p = norm(pattern);
  const s = norm(path);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) {
      if (!s[i]) return null;
      out[p[i].slice(1)] = decodeURIComponent(s[i]);
    } else if (p[i] !== s[i]) return null;
  }
  return out;
}

/** Link is an anchor that navigates within the console. */
export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const go = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={go} {...rest} />;
}
