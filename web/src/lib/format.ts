// Formatting of sizes, durations and times for the screens.

const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** bytes formats a byte count in binary units, e.g. 1.5 GiB. */
export function bytes(n: number | undefined | null): string {
  if (n === undefined || n === null || !isFinite(n)) return "–";
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
  return `${n < 0 ? "-" : ""}${s} ${units[i]}`;
}

/** duration formats seconds as 1h 2m, 3m 4s or 5.6s. */
export function duration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${r}s`;
  return `${r}s`;
}

/** time formats an RFC 3339 time in the browser's locale. */
export function time(t: string | undefined): string {
  if (!t) return "–";
  const d = new Date(t);
  return isNaN(d.getTime()) ? t : d.toLocaleString();
}

/** since formats how long ago t was, e.g. 5m ago. */
export function since(t: string | undefined, now = Date.now()): string {
  if (!t) return "–";
  const ms = now - new Date(t).getTime();
  return isNaN(ms) ? "–" : `${duration(Math.max(0, ms / 1000))} ago`;
}

/** percent of done in total, 0 to 100, 0 when the total is unknown. */
export function percent(done: number | undefined, total: number | undefined): number {
  if (!total || total <= 0 || !done) return 0;
  return Math.min(100, Math.max(0, (done / total) * 100));
}

const quantitySuffixes: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

/** parseQuantity reads a Kubernetes quantity such as 10Gi or 500M as bytes; NaN when it is not one. */
export function parseQuantity(q: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?\s*$/.exec(q);
  if (!m) return NaN;
  return parseFloat(m[1]) * (m[2] ? quantitySuffixes[m[2]] : 1);
}
