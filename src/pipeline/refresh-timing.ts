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

/**
 * The order to queue many objects in at once (the first list after a start): objects with the
 * same seed (store and first key) come close together, so one provider read serves them all
 * within the share window however long the whole start takes, while `width` different seeds
 * are interleaved, so the reads due together fill a batch.
 */
export function groupedOrder<T>(items: T[], seedOf: (item: T) => string, width: number): T[] {
  const bySeed = new Map<string, T[]>();
  for (const item of items) {
    const seed = seedOf(item);
    const group = bySeed.get(seed);
    if (group) group.push(item);
    else bySeed.set(seed, [item]);
  }
  const groups = [...bySeed.keys()].sort().map((seed) => bySeed.get(seed) as T[]);
  const out: T[] = [];
  for (let start = 0; start < groups.length; start += Math.max(1, width)) {
    const chunk = groups.slice(start, start + Math.max(1, width));
    const longest = Math.max(...chunk.map((g) => g.length));
    for (let i = 0; i < longest; i++) for (const g of chunk) if (i < g.length) out.push(g[i] as T);
  }
  return out;
}

/**
 * `items` with the first item of each seed moved to the front, both parts in their given order;
 * items `lead` rejects stay where they are. For refreshes overdue together (a restart): any read
 * made after they fell due serves them all, so the objects that read a key can go first and the
 * rest reuse their reads, however long the whole storm takes.
 */
export function readersFirst<T>(items: T[], seedOf: (item: T) => string, lead: (item: T) => boolean = () => true): T[] {
  const seen = new Set<string>();
  const first: T[] = [];
  const rest: T[] = [];
  for (const item of items) {
    const seed = seedOf(item);
    if (seen.has(seed) || !lead(item)) rest.push(item);
    else {
      seen.add(seed);
      first.push(item);
    }
  }
  return first.concat(rest);
}
