import { describe, expect, it } from 'vitest';
import { groupedOrder, readersFirst } from './queue-order.ts';

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
