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
