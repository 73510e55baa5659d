import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS } from '../rate-limit.ts';
import { URGENT_BURST, WorkQueue } from './work-queue.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A one-worker queue whose first item, "blocker", holds the worker until drain(). */
async function blockedQueue() {
  const order: string[] = [];
  const gate = deferred();
  const q = new WorkQueue({
    name: 't',
    concurrency: 1,
    handler: async (key) => {
      if (key === 'blocker') await gate.promise;
      order.push(key);
      return undefined;
    },
  });
  const ac = new AbortController();
  const running = q.run(ac.signal);
  q.add('blocker');
  await new Promise((r) => setTimeout(r, 5));
  return {
    q,
    order,
    async drain() {
      gate.resolve();
      await q.idle();
      ac.abort();
      await running;
    },
  };
}

describe('WorkQueue', () => {
  it('serves urgent items before periodic ones, whatever the order they arrived in', async () => {
    const { q, order, drain } = await blockedQueue();
    for (let i = 0; i < 5; i++) q.add(`refresh-${i}`, 'periodic');
    q.add('new-1', 'urgent');
    q.add('new-2', 'urgent');
    await drain();
    expect(order.slice(0, 3)).toEqual(['blocker', 'new-1', 'new-2']);
    expect(order.slice(3)).toEqual(['refresh-0', 'refresh-1', 'refresh-2', 'refresh-3', 'refresh-4']);
  });

  it('peeks at queued keys in the order workers take them, leaving them queued', async () => {
    const { q, order, drain } = await blockedQueue();
    q.add('refresh-0', 'periodic');
    q.add('refresh-1', 'periodic');
    q.add('new-1', 'urgent');
    q.add('refresh-1', 'urgent'); // moved to the urgent lane: listed once, there
    q.add('gone', 'urgent');
    q.forget('gone');
    expect(q.peek(10)).toEqual(['new-1', 'refresh-1', 'refresh-0']);
    expect(q.peek(2)).toEqual(['new-1', 'refresh-1']);
    expect(q.peek(10, ['periodic'])).toEqual(['refresh-0']);
    expect(q.depth).toBe(3);
    await drain();
    expect(order).toEqual(['blocker', 'new-1', 'refresh-1', 'refresh-0']);
    expect(q.peek(10)).toEqual([]);
  });

  it('peeks at a key forgotten and queued again once, in the place workers take it', async () => {
    const { q, order, drain } = await blockedQueue();
    q.add('a', 'urgent');
    q.add('b', 'urgent');
    q.forget('a');
    q.add('a', 'urgent'); // its first place is still in the lane
    expect(q.peek(10)).toEqual(['a', 'b']);
    expect(q.peek(2)).toEqual(['a', 'b']);
    await drain();
    expect(order).toEqual(['blocker', 'a', 'b']);
  });

  it('queues a key once, never runs it twice at the same time, and re-runs it if it changed meanwhile', async () => {
    let running = 0;
    let maxRunning = 0;
    const runs: string[] = [];
    const gate = deferred();
    const q = new WorkQueue({
      name: 't',
      concurrency: 4,
      handler: async (key) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs.push(key);
        if (runs.length === 1) await gate.promise;
        running--;
        return undefined;
      },
    });
    const ac = new AbortController();
    const done = q.run(ac.signal);
    q.add('a');
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 10; i++) q.add('a'); // while a is processing: marks it dirty once
    gate.resolve();
    await q.idle();
    ac.abort();
    await done;
    expect(runs).toEqual(['a', 'a']);
    expect(maxRunning).toBe(1);
  });

  it('serves the namespaces of a lane in turn, one item each', async () => {
    const { q, order, drain } = await blockedQueue();
    for (let i = 0; i < 4; i++) q.add(`flood/es-${i}`, 'urgent');
    q.add('quiet/new', 'urgent');
    q.add('third/new', 'urgent');
    expect(q.peek(3)).toEqual(['flood/es-0', 'quiet/new', 'third/new']);
    await drain();
    expect(order).toEqual([
      'blocker',
      'flood/es-0',
      'quiet/new',
      'third/new',
      'flood/es-1',
      'flood/es-2',
      'flood/es-3',
    ]);
  });

  // Whatever the keys, groups and lanes, a drain takes each lane's groups in turn (in the order
  // they first had a key queued there), each group's keys in arrival order, and every key once.
  it('drains as a round-robin of groups, every queued key once', async () => {
    const key = fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 0, max: 5 }));
    await fc.assert(
      fc.asyncProperty(fc.array(key, { maxLength: 40 }), async (keys) => {
        const { q, order, drain } = await blockedQueue();
        const model = new Map<string, string[]>();
        for (const [group, n] of keys) {
          const k = `${group}/${n}`;
          q.add(k, 'urgent');
          const list = model.get(group) ?? [];
          if (!list.includes(k)) list.push(k);
          model.set(group, list);
        }
        const expected: string[] = [];
        const lists = [...model.values()];
        while (lists.some((l) => l.length > 0))
          for (const l of lists) if (l.length > 0) expected.push(l.shift() as string);
        expect(q.peek(100)).toEqual(expected);
        await drain();
        expect(order).toEqual(['blocker', ...expected]);
      }),
      { numRuns: 100 },
    );
  });

  it('serves one periodic item after a burst of urgent ones, so a flood of urgent work cannot stop refreshes', async () => {
    const { q, order, drain } = await blockedQueue();
    q.add('other/refresh', 'periodic');
    for (let i = 0; i < URGENT_BURST + 3; i++) q.add(`flood/es-${i}`, 'urgent');
    await drain();
    expect(order.indexOf('other/refresh')).toBe(1 + URGENT_BURST);
  });

  it('lets one namespace hold at most maxPerGroup workers, so another namespace still runs', async () => {
    const gate = deferred();
    const started: string[] = [];
    const q = new WorkQueue({
      name: 't',
      concurrency: 3,
      maxPerGroup: 2,
      handler: async (key) => {
        started.push(key);
        if (key.startsWith('blackhole/')) await gate.promise;
        return undefined;
      },
    });
    const ac = new AbortController();
    const running = q.run(ac.signal);
    for (let i = 0; i < 5; i++) q.add(`blackhole/es-${i}`);
    await new Promise((r) => setTimeout(r, 10));
    // Two of the black hole's items hold two workers; the third worker is left for others.
    expect(started).toEqual(['blackhole/es-0', 'blackhole/es-1']);
    q.add('other/new');
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['blackhole/es-0', 'blackhole/es-1', 'other/new']);
    gate.resolve();
    await q.idle();
    ac.abort();
    await running;
    expect(started.filter((k) => k.startsWith('blackhole/'))).toHaveLength(5);
  });

  it('moves a periodic item to the urgent lane when it changes', async () => {
    const { q, order, drain } = await blockedQueue();
    q.add('x', 'periodic');
    q.add('y', 'periodic');
    q.add('y', 'urgent');
    await drain();
    expect(order).toEqual(['blocker', 'y', 'x']);
  });

  it('retries a failed item with growing backoff and forgets failures after a success', async () => {
    const attempts: number[] = [];
    let calls = 0;
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      backoffBaseMs: 20,
      backoffMaxMs: 1000,
      handler: async () => {
        attempts.push(Date.now());
        calls++;
        return calls < 4 ? { failed: true } : undefined;
      },
    });
    const ac = new AbortController();
    const done = q.run(ac.signal);
    q.add('flaky');
    while (calls < 4) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await done;
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] ?? t));
    // Backoff ceilings 20, 40, 80 ms with jitter in [ceiling/2, ceiling].
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
    expect(q.scheduledAt('flaky')).toBeUndefined();
  });

  it('honours a requested retry-after over a shorter backoff', () => {
    const q = new WorkQueue({ name: 't', concurrency: 1, handler: async () => undefined });
    q.addAfter('k', 30_000);
    q.addAfter('k', 60_000); // a later add does not push an earlier one back
    const at = q.scheduledAt('k') ?? 0;
    expect(at - Date.now()).toBeLessThanOrEqual(30_000);
    expect(at - Date.now()).toBeGreaterThan(29_000);
    q.forget('k');
    expect(q.scheduledAt('k')).toBeUndefined();
  });
});

describe('WorkQueue schedules', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not run a schedule longer than setTimeout allows early (refreshInterval: 720h)', async () => {
    const ran: string[] = [];
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      handler: async (key) => {
        ran.push(key);
        return undefined;
      },
    });
    const ac = new AbortController();
    const running = q.run(ac.signal);
    q.addAfter('monthly', 720 * 3_600_000);
    q.addAfter('soon', 20);
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toEqual(['soon']);
    expect((q.scheduledAt('monthly') ?? 0) - Date.now()).toBeGreaterThan(719 * 3_600_000);
    ac.abort();
    await running;
  });

  // Against a model: whatever the adds, forgets and delays (up to eight times setTimeout's
  // limit), every key is queued exactly when its earliest pending schedule falls due, and
  // scheduledAt tells the model's time. No workers run, so queued keys stay visible to peek().
  it('queues each key when its earliest schedule falls due, as a model does', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const delay = fc.oneof(fc.integer({ min: -5, max: 5_000 }), fc.integer({ min: 1, max: 8 * MAX_TIMER_MS }));
    const op = fc.oneof(
      fc.record({ kind: fc.constant('addAfter' as const), key: fc.constantFrom(...keys), ms: delay }),
      fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom(...keys) }),
      fc.record({ kind: fc.constant('forget' as const), key: fc.constantFrom(...keys) }),
      fc.record({ kind: fc.constant('advance' as const), ms: delay.map((ms) => Math.max(0, ms)) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        vi.useFakeTimers({ now: 1_000_000 });
        try {
          const q = new WorkQueue({ name: 't', concurrency: 1, handler: async () => undefined });
          const schedule = new Map<string, number>();
          const queued = new Set<string>();
          for (const o of ops) {
            const now = Date.now();
            if (o.kind === 'addAfter') {
              q.addAfter(o.key, o.ms);
              if (o.ms <= 0) {
                schedule.delete(o.key);
                queued.add(o.key);
              } else if (!(schedule.has(o.key) && (schedule.get(o.key) as number) <= now + o.ms)) {
                schedule.set(o.key, now + o.ms);
              }
            } else if (o.kind === 'add') {
              q.add(o.key);
              schedule.delete(o.key);
              queued.add(o.key);
            } else if (o.kind === 'forget') {
              q.forget(o.key);
              schedule.delete(o.key);
              queued.delete(o.key);
            } else {
              vi.advanceTimersByTime(o.ms);
              for (const [key, at] of schedule) {
                if (at <= now + o.ms) {
                  schedule.delete(key);
                  queued.add(key);
                }
              }
            }
            expect(new Set(q.peek(keys.length))).toEqual(queued);
            for (const key of keys) expect(q.scheduledAt(key)).toBe(schedule.get(key));
          }
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 300 },
    );
  });
});
