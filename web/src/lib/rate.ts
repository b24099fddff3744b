// Transfer rates, ETAs and the throughput series of a volume copy, from
// the samples the live events bring (each Migration event is one sample).

/** Sample is the bytes done at a time (milliseconds since the epoch). */
export interface Sample {
  t: number;
  bytes: number;
}

/** maxSamples caps a volume's samples, the oldest dropped first. */
export const maxSamples = 900;

/**
 * addSample appends a sample; a sample with fewer bytes than the last
 * (a copy started over) starts a new series, and one at the same time
 * replaces the last.
 */
export function addSample(samples: Sample[], s: Sample): Sample[] {
  const last = samples[samples.length - 1];
  if (last && s.bytes < last.bytes) return [s];
  if (last && s.t <= last.t) return [...samples.slice(0, -1), { t: last.t, bytes: s.bytes }];
  if (last && s.bytes === last.bytes && samples.length >= 2 && samples[samples.length - 2].bytes === last.bytes) {
    // A flat run keeps only its two ends.
    return [...samples.slice(0, -1), s];
  }
  const next = [...samples, s];
  return next.length > maxSamples ? next.slice(next.length - maxSamples) : next;
}

/**
 * rate is the bytes per second over the last windowMs of samples, ending
 * at the last one; null with fewer than two samples in the window.
 */
export function rate(samples: Sample[], windowMs = 20000): number | null {
  if (samples.length < 2) return null;
  const last = samples[samples.length - 1];
  let first = samples[samples.length - 2];
  for (let i = samples.length - 2; i >= 0; i--) {
    if (last.t - samples[i].t > windowMs) break;
    first = samples[i];
  }
  const dt = (last.t - first.t) / 1000;
  if (dt <= 0) return null;
  return Math.max(0, (last.bytes - first.bytes) / dt);
}

/** eta is the seconds left at a rate; null when the rate or the total is unknown. */
export function eta(done: number, total: number, bytesPerSecond: number | null): number | null {
  if (!total || total <= 0) return null;
  if (done >= total) return 0;
  if (!bytesPerSecond || bytesPerSecond <= 0) return null;
  return (total - done) / bytesPerSecond;
}

/** Point is a rate at a time, for the throughput plot. */
export interface Point {
  t: number;
  rate: number;
}

/** throughput turns samples into the rate between each pair of successive samples. */
export function throughput(samples: Sample[]): Point[] {
  const out: Point[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i].t - samples[i - 1].t) / 1000;
    if (dt <= 0) continue;
    out.push({ t: samples[i].t, rate: Math.max(0, (samples[i].bytes - samples[i - 1].bytes) / dt) });
  }
  return out;
}

/** VolumeSamples are the samples of each volume copy of each migration, by migration name and volume key. */
export type VolumeSamples = Record<string, Record<string, Sample[]>>;

/** volumeKey names a volume copy by its source claim. */
export const volumeKey = (v: { namespace: string; claim: string }) => `${v.namespace}/${v.claim}`;

/**
 * sampleVolumes adds one sample per volume of a migration's status, taken
 * at the time the event arrived.
 */
export function sampleVolumes(
  all: VolumeSamples,
  migration: string,
  volumes: { namespace: string; claim: string; bytesDone?: number }[] | undefined,
  at: number,
): VolumeSamples {
  if (!volumes?.length) return all;
  const mine = { ...(all[migration] ?? {}) };
  for (const v of volumes) {
    const k = volumeKey(v);
    mine[k] = addSample(mine[k] ?? [], { t: at, bytes: v.bytesDone ?? 0 });
  }
  return { ...all, [migration]: mine };
}
