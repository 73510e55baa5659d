// Refresh timing. Each object refreshes on a grid `phase + k·interval`, where the phase is a
// hash of its store and first remote key: refreshes are spread evenly over the interval (no
// thundering herd, also not after a restart), and objects that read the same key refresh at the
// same instants, so one provider read serves them all.
import { createHash } from 'node:crypto';

export function phaseMs(seed: string, intervalMs: number): number {
  const n = createHash('sha256').update(seed).digest().readUInt32BE(0);
  return n % Math.max(1, Math.floor(intervalMs));
}

/**
 * The first grid point at least half an interval after `lastSyncAt`: the gap between syncs is
 * exactly one interval once on the grid, and between 0.5 and 1.5 intervals when joining it.
 */
export function nextRefreshAt(lastSyncAt: number, intervalMs: number, seed: string): number {
  const phase = phaseMs(seed, intervalMs);
  const earliest = lastSyncAt + intervalMs / 2;
  return phase + Math.ceil((earliest - phase) / intervalMs) * intervalMs;
}

/**
 * The oldest start a shared provider read may have and still serve a sync that started at
 * `startedAt`: normally `startedAt - windowMs`. A scheduled refresh that is processed late — the
 * 1,000 copies of a ClusterExternalSecret due at one grid instant take seconds to write — counts
 * from the instant it was due instead, so the read made at that instant serves the whole queue
 * rather than a second read serving its tail; never from more than one interval back. The read
 * the previous sync used stays too old for a refresh run at or after its due instant: that instant
 * is at least half an interval after the previous sync, and `windowMs` at most half an interval.
 */
export function readNotBefore(
  startedAt: number,
  windowMs: number,
  intervalMs: number,
  lastSyncAt: number,
  seed: string,
): number {
  if (intervalMs <= 0 || lastSyncAt <= 0) return startedAt - windowMs;
  const due = nextRefreshAt(lastSyncAt, intervalMs, seed);
  return Math.max(Math.min(startedAt, due), startedAt - intervalMs) - windowMs;
}
