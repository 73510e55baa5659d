import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, MAX_TIMER_MS, sleep, TokenBucket } from './rate-limit.ts';

/** How many of `takes` have resolved after `ms` of fake time. */
async function resolvedAfter(takes: Promise<void>[], ms: number): Promise<number> {
  let done = 0;
  for (const t of takes) void t.then(() => done++);
  await vi.advanceTimersByTimeAsync(ms);
  return done;
}

describe('TokenBucket', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a burst through at once, then paces at qps', async () => {
    const bucket = new TokenBucket(10, 5);
    const takes = Array.from({ length: 8 }, () => bucket.take());
    expect(await resolvedAfter(takes, 0)).toBe(5);
    // 10 qps: one more token every 100 ms.
    expect(await resolvedAfter(takes, 100)).toBe(6);
    expect(await resolvedAfter(takes, 200)).toBe(8);
  });

  it('holds every caller until a pause (Retry-After) has passed', async () => {
    const bucket = new TokenBucket(1000, 10);
    bucket.pauseUntil(Date.now() + 2000);
    const takes = [bucket.take(), bucket.take()];
    expect(await resolvedAfter(takes, 1999)).toBe(0);
    expect(await resolvedAfter(takes, 1)).toBe(2);
  });

  it("serves the groups of waiters in turn: one namespace's queue does not hold another's read", async () => {
    const bucket = new TokenBucket(10, 1);
    await bucket.take();
    const order: string[] = [];
    const takes = [
      ...Array.from({ length: 5 }, (_, i) => bucket.take(undefined, 'flood').then(() => order.push(`flood-${i}`))),
      bucket.take(undefined, 'quiet').then(() => order.push('quiet')),
    ];
    await vi.advanceTimersByTimeAsync(600);
    await Promise.all(takes);
    expect(order).toEqual(['flood-0', 'quiet', 'flood-1', 'flood-2', 'flood-3', 'flood-4']);
  });

  it('forgets an aborted waiter: the next one gets its token', async () => {
    const bucket = new TokenBucket(10, 1);
    await bucket.take();
    const ac = new AbortController();
    const gone = bucket.take(ac.signal, 'a');
    const next = bucket.take(undefined, 'b');
    ac.abort(new Error('gone'));
    await expect(gone).rejects.toThrow('gone');
    expect(await resolvedAfter([next], 100)).toBe(1);
  });

  it('stops waiting when the signal aborts', async () => {
    const bucket = new TokenBucket(1, 1);
    await bucket.take();
    const ac = new AbortController();
    const waiting = bucket.take(ac.signal);
    ac.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow('shutdown');
  });
});

describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out a delay longer than setTimeout allows instead of returning after 1 ms', async () => {
    const real = new AbortController();
    let done = false;
    const long = sleep(MAX_TIMER_MS + 60_000, real.signal).then(
      () => {
        done = true;
      },
      () => {},
    );
    await sleep(50);
    expect(done).toBe(false);
    real.abort();
    await long;
    expect(done).toBe(false);
    vi.useFakeTimers();
    const ac = new AbortController();
    const faked = sleep(3 * MAX_TIMER_MS, ac.signal);
    let fakedDone = false;
    void faked.then(() => {
      fakedDone = true;
    });
    await vi.advanceTimersByTimeAsync(3 * MAX_TIMER_MS - 1);
    expect(fakedDone).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(fakedDone).toBe(true);
  });

  it('a Retry-After of months holds the bucket without spinning', async () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket(1000, 10);
    bucket.pauseUntil(Date.now() + 2 * MAX_TIMER_MS);
    const take = bucket.take();
    expect(await resolvedAfter([take], MAX_TIMER_MS)).toBe(0);
    // One timer at a time, never a 1 ms loop.
    expect(vi.getTimerCount()).toBe(1);
    expect(await resolvedAfter([take], MAX_TIMER_MS)).toBe(1);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, stays within [ceiling/2, ceiling] and respects the cap', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(60_000, 1000 * 2 ** attempt);
      const d = backoffDelay(attempt, 1000, 60_000);
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });
});
