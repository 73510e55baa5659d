import { describe, expect, it } from 'vitest';
import { groupedOrder, nextRefreshAt, phaseMs, readersFirst, readNotBefore } from './schedule.ts';

const HOUR = 3_600_000;

describe('refresh schedule', () => {
  it('keeps refreshes exactly one interval apart once on the grid', () => {
    const first = nextRefreshAt(Date.UTC(2026, 0, 1), HOUR, 'store/db');
    expect(nextRefreshAt(first, HOUR, 'store/db') - first).toBe(HOUR);
  });

  it('joins the grid between half and one and a half intervals after a sync', () => {
    for (let i = 0; i < 200; i++) {
      const last = Date.UTC(2026, 0, 1) + i * 7919;
      const next = nextRefreshAt(last, HOUR, `seed-${i}`);
      expect(next - last).toBeGreaterThanOrEqual(HOUR / 2);
      expect(next - last).toBeLessThan(1.5 * HOUR);
    }
  });

  it('gives objects that share a key the same refresh instants', () => {
    const a = nextRefreshAt(Date.UTC(2026, 0, 1, 0, 10), HOUR, 'aws/prod-db');
    const b = nextRefreshAt(Date.UTC(2026, 0, 1, 0, 20), HOUR, 'aws/prod-db');
    expect(a).toBe(b);
  });

  it('spreads different keys evenly over the interval (no herd after a restart)', () => {
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor((phaseMs(`ns/es-${i}`, HOUR) / HOUR) * 10)]++;
    // Uniform would be 1,000 per tenth of the hour.
    expect(Math.max(...buckets)).toBeLessThan(1150);
    expect(Math.min(...buckets)).toBeGreaterThan(850);
  });
});

describe('groupedOrder', () => {
  const items = Array.from({ length: 60 }, (_, i) => ({ id: i, seed: `k${String(i % 6).padStart(2, '0')}` }));

  it('keeps every item once, each seed within one chunk of `width` seeds, seeds interleaved', () => {
    const order = groupedOrder(items, (x) => x.seed, 3);
    expect(order.map((x) => x.id).sort((a, b) => a - b)).toEqual(items.map((x) => x.id));
    // Seeds k00–k02 first (interleaved), then k03–k05: a seed's items never straddle chunks.
    expect(order.slice(0, 30).every((x) => ['k00', 'k01', 'k02'].includes(x.seed))).toBe(true);
    expect(order.slice(0, 3).map((x) => x.seed)).toEqual(['k00', 'k01', 'k02']);
    expect(order.slice(30).every((x) => ['k03', 'k04', 'k05'].includes(x.seed))).toBe(true);
  });

  it('handles uneven groups and a width larger than the number of seeds', () => {
    const uneven = [...items, { id: 60, seed: 'k00' }];
    const order = groupedOrder(uneven, (x) => x.seed, 100);
    expect(order).toHaveLength(61);
    expect(order.at(-1)?.id).toBe(60);
  });
});

describe('read freshness', () => {
  const MIN = 60_000;
  const seed = 'aws/shared-key';
  const last = Date.UTC(2026, 0, 1, 0, 3, 17);

  it('counts a late scheduled refresh from its due instant, so the read made then serves it', () => {
    // S3's shape: a 15 s interval, so a 7.5 s window, and the copy processed 10 s after its due
    // instant, behind the other copies' writes.
    const d = nextRefreshAt(last, 15_000, seed);
    const started = d + 10_000;
    expect(readNotBefore(started, 7_500, 15_000, last, seed)).toBeLessThanOrEqual(d);
    // Counted from its start, the same late sync would need a newer read than the one made at d.
    expect(readNotBefore(started, 7_500, 0, last, seed)).toBeGreaterThan(d);
  });

  it('counts a sync that is not a due refresh (a spec change) from its start', () => {
    const started = last + 60_000;
    expect(readNotBefore(started, 7.5 * MIN, 15 * MIN, last, seed)).toBe(started - 7.5 * MIN);
    expect(readNotBefore(started, 7.5 * MIN, 15 * MIN, 0, seed)).toBe(started - 7.5 * MIN);
  });

  it('never reaches back to the read of the previous sync, however late the refresh runs', () => {
    for (let i = 0; i < 500; i++) {
      const interval = (1 + (i % 7)) * MIN;
      const window = interval / 2;
      const lastSync = last + i * 7_919;
      const s = `seed-${i}`;
      const d = nextRefreshAt(lastSync, interval, s);
      for (const started of [d, d + 10_000, d + interval * 3.7]) {
        const bound = readNotBefore(started, window, interval, lastSync, s);
        // The previous sync's read started before that sync ended.
        expect(bound).toBeGreaterThan(lastSync - 1);
        // And never older than one interval plus the window.
        expect(bound).toBeGreaterThanOrEqual(started - interval - window);
      }
    }
  });
});

describe('readersFirst', () => {
  it('puts the first item of each seed ahead of the rest, keeping both in order', () => {
    const items = ['a1', 'a2', 'b1', 'a3', 'c1', 'b2', 'c2'].map((id) => ({ id, seed: id[0] ?? '' }));
    expect(readersFirst(items, (x) => x.seed).map((x) => x.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'a3', 'b2', 'c2']);
    expect(readersFirst([], (x: { seed: string }) => x.seed)).toEqual([]);
  });

  it('after groupedOrder: every seed read before any item that reuses a read', () => {
    const items = Array.from({ length: 600 }, (_, i) => ({ id: i, seed: `k${i % 60}` }));
    const order = readersFirst(
      groupedOrder(items, (x) => x.seed, 20),
      (x) => x.seed,
    );
    expect(new Set(order.slice(0, 60).map((x) => x.seed)).size).toBe(60);
    expect(order.map((x) => x.id).sort((a, b) => a - b)).toEqual(items.map((x) => x.id));
  });
});
