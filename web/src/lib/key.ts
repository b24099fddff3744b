// The one-time key of a local console's URL (http://127.0.0.1:PORT/?key=…).

/** splitKey returns the key of a URL, if any, and the URL's path, query and fragment without it. */
export function splitKey(href: string): { key: string | null; rest: string } {
  const url = new URL(href);
  const key = url.searchParams.get("key");
  url.searchParams.delete("key");
  return { key, rest: url.pathname + url.search + url.hash };
}
