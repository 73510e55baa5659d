// The order to queue many ExternalSecrets in at once (the first list after a start, a restart's
// overdue refreshes), so that their provider reads are shared and batched.

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
