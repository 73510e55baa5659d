import { describe, expect, it } from 'vitest';
import { ProviderError } from './provider.ts';
import { StoreBreaker } from './store-breaker.ts';

const down = new ProviderError('Transient', 'aws read failed: connection reset');

describe('StoreBreaker', () => {
  it('lets calls through while the store answers, including NotFound and Denied', () => {
    const b = new StoreBreaker();
    expect(b.admit('s')).toBeUndefined();
    b.record('s', new ProviderError('NotFound', 'gone'));
    b.record('s', new ProviderError('Denied', 'no'));
    expect(b.admit('s')).toBeUndefined();
  });

  it('after a Transient failure admits one probe per backoff step and fails the rest at once', () => {
    let now = 0;
    const b = new StoreBreaker({ baseMs: 1000, maxMs: 8000, now: () => now });
    b.record('s', down);
    const refused = b.admit('s');
    expect(refused?.kind).toBe('Transient');
    expect(refused?.message).toMatch(
      /connection reset \(the store is backing off after 1 failed attempt; next attempt in 1s\)/,
    );
    expect(refused?.retryAfterMs).toBeGreaterThan(0);
    let probes = 0;
    // 60 s of callers every 100 ms against a store that stays down: one probe per step.
    for (now = 0; now < 60_000; now += 100) {
      for (let caller = 0; caller < 10; caller++) {
        if (b.admit('s') === undefined) {
          probes++;
          b.record('s', down);
        }
      }
    }
    // Steps grow 0.5–1 s, 1–2 s, 2–4 s, then 4–8 s: at least 7 and at most 18 probes in 60 s,
    // against 6,000 calls without the breaker.
    expect(probes).toBeGreaterThanOrEqual(7);
    expect(probes).toBeLessThanOrEqual(18);
    expect(b.admit('other')).toBeUndefined();
  });

  it('a successful probe closes the breaker and says so once', () => {
    let now = 0;
    const recovered: string[] = [];
    const b = new StoreBreaker({ now: () => now, onRecovered: (k) => recovered.push(k) });
    b.record('s', down);
    now = 5000;
    expect(b.admit('s')).toBeUndefined();
    // While the probe is out, others still wait.
    expect(b.admit('s')?.kind).toBe('Transient');
    b.record('s', undefined);
    b.record('s', undefined);
    expect(recovered).toEqual(['s']);
    expect(b.admit('s')).toBeUndefined();
    expect(b.openCount).toBe(0);
  });
});
