// Paging of lists the server pages (namespaces) and the browser pages.

/** offsetOf is the offset of a page (from 1) of perPage items. */
export function offsetOf(page: number, perPage: number): number {
  return Math.max(0, (Math.max(1, Math.floor(page)) - 1) * perPage);
}

/** pageCount is the number of pages of total items, at least 1. */
export function pageCount(total: number, perPage: number): number {
  if (perPage <= 0) return 1;
  return Math.max(1, Math.ceil(Math.max(0, total) / perPage));
}

/** clampPage keeps a page within 1 and the page count. */
export function clampPage(page: number, total: number, perPage: number): number {
  return Math.min(Math.max(1, Math.floor(page) || 1), pageCount(total, perPage));
}

/** namespacesQuery is the query string of one page of a cluster's namespaces. */
export function namespacesQuery(search: string, page: number, perPage: number): string {
  const q = new URLSearchParams();
  if (search.trim()) q.set("search", search.trim());
  q.set("offset", String(offsetOf(page, perPage)));
  q.set("limit", String(Math.min(500, Math.max(1, perPage))));
  return q.toString();
}

/** Mapping is a namespace to migrate and its name on the destination. */
export interface Mapping {
  source: string;
  target: string;
}

/** parseMappings reads a plan's namespaces ("name" or "source:destination"). */
export function parseMappings(namespaces: string[]): Mapping[] {
  return namespaces.map((n) => {
    const i = n.indexOf(":");
    return i < 0 ? { source: n, target: n } : { source: n.slice(0, i), target: n.slice(i + 1) };
  });
}

/** formatMappings writes mappings as a plan's namespaces; an empty or equal target keeps the name. */
export function formatMappings(ms: Mapping[]): string[] {
  return ms.map((m) => (m.target && m.target !== m.source ? `${m.source}:${m.target}` : m.source));
}

const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** namespaceNameError says what is wrong with a namespace name, or "" when it is valid. */
export function namespaceNameError(name: string): string {
  if (!name) return "";
  if (name.length > 63) return "at most 63 characters";
  if (!dns1123.test(name)) return "lower-case letters, digits and '-', starting and ending with a letter or digit";
  return "";
}
