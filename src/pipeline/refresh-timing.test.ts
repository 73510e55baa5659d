import { describe, expect, it } from 'vitest';
import { nextRefreshAt, phaseMs, readNotBefore } from './refresh-timing.ts';

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
