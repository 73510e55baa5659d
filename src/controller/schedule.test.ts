import { describe, expect, it } from 'vitest';
import { groupedOrder, nextRefreshAt, phaseMs } from './schedule.ts';

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
