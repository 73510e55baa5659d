// A work queue in the style of client-go's: an item is queued at most once, reconciled by one
// worker at a time, and re-queued if it changed meanwhile. Two lanes: `urgent` (new, changed,
// forced, drifted) is served before `periodic` (refreshes, retries), so new objects do not wait
// behind a refresh backlog (ESO #2878); one periodic item is still served after every
// URGENT_BURST urgent ones, so a flood of urgent work cannot stop every refresh.
//
// Fair between tenants: items belong to a group (the namespace), and each lane serves its groups
// in turn, one item each, so a namespace with 5,000 forced objects delays another namespace's new
// object by one item per busy namespace, not by 5,000. A group may hold at most `maxPerGroup`
// workers at once, so a namespace whose store never answers cannot occupy them all.
//
// Delayed adds (refreshes, retries) wait in one min-heap ordered by due time, behind a single
// Node timer armed for the earliest.
import type { Metrics } from '../observability/metrics.ts';
import { backoffDelay, MAX_TIMER_MS } from '../rate-limit.ts';

export type Lane = 'urgent' | 'periodic';

export interface ReconcileResult {
  /** Reconcile again after this long (the next refresh). */
  requeueAfterMs?: number;
  /** The reconcile failed: retry with backoff, but not sooner than retryAfterMs. */
  failed?: boolean;
  retryAfterMs?: number;
}

export interface WorkQueueOptions {
  name: string;
  concurrency: number;
  handler: (key: string) => Promise<ReconcileResult | undefined>;
  onError?: (key: string, err: unknown) => void;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  metrics?: Metrics;
  /** The group (tenant) of a key, served in turn with the others. Default: the text before the first '/'. */
  groupOf?: (key: string) => string;
  /** Workers one group may hold at once. Default: all of them. */
  maxPerGroup?: number;
}

/** Urgent items served in a row, while periodic ones wait, before one periodic item is served. */
export const URGENT_BURST = 8;

/**
 * Workers one group may hold out of `concurrency`: all but a tenth (at least one left for the
 * others), so a namespace whose stores never answer cannot hold every worker.
 */
export function groupWorkerLimit(concurrency: number): number {
  return concurrency > 1 ? concurrency - Math.max(1, Math.floor(concurrency / 10)) : concurrency;
}

interface Group {
  name: string;
  /** Keys in arrival order; entries whose key left the lane are skipped when met. */
  queues: Record<Lane, string[]>;
  /** Keys of the group queued in each lane. */
  live: Record<Lane, number>;
  inRing: Record<Lane, boolean>;
  /** Keys of the group being processed. */
  active: number;
}

const firstSegment = (key: string) => {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
};

interface Scheduled {
  key: string;
  at: number;
  lane: Lane;
  /** Position in `WorkQueue.due`, kept current so a schedule can be removed in O(log n). */
  index: number;
}

export class WorkQueue {
  private readonly opts: Required<Omit<WorkQueueOptions, 'metrics' | 'onError'>> & WorkQueueOptions;
  private readonly queued = new Map<string, Lane>();
  private readonly counts: Record<Lane, number> = { urgent: 0, periodic: 0 };
  private readonly groups = new Map<string, Group>();
  /** Per lane, the groups with keys queued there, in the order they are served. */
  private readonly rings: Record<Lane, string[]> = { urgent: [], periodic: [] };
  private urgentStreak = 0;
  private readonly processing = new Map<string, Group>();
  private readonly dirty = new Map<string, Lane>();
  private readonly timers = new Map<string, Scheduled>();
  /**
   * Binary min-heap of `timers` by `at`. One timer per item (a Timeout, a TimersList per distinct
   * delay, a closure) cost ~0.35 KiB per ExternalSecret; the heap costs one array slot. Written
   * here, not taken from a library, because every add() of a scheduled key removes its schedule,
   * and the heap libraries on npm (heap-js, @datastructures-js/priority-queue) remove in O(n).
   */
  private readonly due: Scheduled[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly failures = new Map<string, number>();
  private wake: (() => void) | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.opts = {
      backoffBaseMs: 1000,
      backoffMaxMs: 5 * 60_000,
      groupOf: firstSegment,
      maxPerGroup: Number.POSITIVE_INFINITY,
      ...opts,
    };
  }

  add(key: string, lane: Lane = 'urgent'): void {
    if (this.stopped) return;
    this.clearTimer(key);
    if (this.processing.has(key)) {
      if (this.dirty.get(key) !== 'urgent') this.dirty.set(key, lane);
      return;
    }
    const current = this.queued.get(key);
    if (current === 'urgent' || current === lane) return;
    const group = this.group(key);
    if (current) this.unqueue(key, current, group);
    this.queued.set(key, lane);
    this.counts[lane]++;
    group.live[lane]++;
    group.queues[lane].push(key);
    if (!group.inRing[lane]) {
      group.inRing[lane] = true;
      this.rings[lane].push(group.name);
    }
    this.updateDepth();
    this.wake?.();
  }

  /** Adds `key` after `delayMs`, unless an earlier add is already scheduled. */
  addAfter(key: string, delayMs: number, lane: Lane = 'periodic'): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key, lane);
      return;
    }
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing) {
      if (existing.at <= at) return;
      existing.at = at;
      existing.lane = lane;
      this.siftUp(existing.index);
    } else {
      const entry: Scheduled = { key, at, lane, index: this.due.length };
      this.timers.set(key, entry);
      this.due.push(entry);
      this.siftUp(entry.index);
    }
    this.arm();
  }

  /** Drops everything known about `key` (its object is gone). */
  forget(key: string): void {
    this.clearTimer(key);
    this.failures.delete(key);
    this.dirty.delete(key);
    const lane = this.queued.get(key);
    if (lane) {
      this.unqueue(key, lane, this.group(key));
      this.updateDepth();
    }
  }

  /** When `key` is next due, if it is scheduled. */
  scheduledAt(key: string): number | undefined {
    return this.timers.get(key)?.at;
  }

  get depth(): number {
    return this.queued.size;
  }

  /** Up to `limit` queued keys (of `lanes`) in the order workers will take them, without taking them. */
  peek(limit: number, lanes: readonly Lane[] = ['urgent', 'periodic']): string[] {
    // A lane may hold a key twice (forgotten, then queued again); it is queued once. The groups
    // of a lane are taken in turn, one key each, as next() does (urgent bursts and group limits,
    // which depend on what is running, are left out).
    const out = new Set<string>();
    for (const lane of lanes) {
      const cursors = this.rings[lane].map((name) => ({ queue: this.groups.get(name)?.queues[lane] ?? [], at: 0 }));
      while (cursors.length > 0 && out.size < limit) {
        for (let c = 0; c < cursors.length && out.size < limit; ) {
          const cursor = cursors[c] as (typeof cursors)[number];
          let found = false;
          while (!found && cursor.at < cursor.queue.length) {
            const key = cursor.queue[cursor.at++] as string;
            if (this.queued.get(key) === lane && !out.has(key)) {
              out.add(key);
              found = true;
            }
          }
          if (found) c++;
          else cursors.splice(c, 1);
        }
      }
    }
    return [...out];
  }

  /** Resolves when nothing is queued or being processed (timers may still be pending). */
  idle(): Promise<void> {
    if (this.queued.size === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs the workers until `signal` aborts, then lets in-flight reconciles finish. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = () => {
      this.stopped = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timers.clear();
      this.due.length = 0;
      this.wake?.();
    };
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    await Promise.all(Array.from({ length: this.opts.concurrency }, () => this.worker()));
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const key = this.next();
      if (key === undefined) {
        await new Promise<void>((resolve) => {
          const previous = this.wake;
          this.wake = () => {
            this.wake = undefined;
            previous?.();
            resolve();
          };
        });
        continue;
      }
      await this.process(key);
    }
  }

  private next(): string | undefined {
    const periodicTurn = this.counts.periodic > 0 && (this.counts.urgent === 0 || this.urgentStreak >= URGENT_BURST);
    for (const lane of periodicTurn ? (['periodic', 'urgent'] as const) : (['urgent', 'periodic'] as const)) {
      const key = this.take(lane);
      if (key !== undefined) {
        // A streak counts only while periodic items wait behind it.
        this.urgentStreak = lane === 'urgent' && this.counts.periodic > 0 ? this.urgentStreak + 1 : 0;
        return key;
      }
    }
    return undefined;
  }

  /** The first key of the next group in `lane`'s turn that may have one more worker. */
  private take(lane: Lane): string | undefined {
    const ring = this.rings[lane];
    for (let turns = ring.length; turns > 0; turns--) {
      const group = this.groups.get(ring.shift() as string) as Group;
      if (group.live[lane] === 0) {
        group.inRing[lane] = false;
        group.queues[lane].length = 0;
        this.dropIfEmpty(group);
        continue;
      }
      ring.push(group.name);
      if (group.active >= this.opts.maxPerGroup) continue;
      const queue = group.queues[lane];
      for (;;) {
        const key = queue.shift() as string;
        // Entries left behind when an item moved lanes or was forgotten are skipped.
        if (this.queued.get(key) !== lane) continue;
        this.unqueue(key, lane, group);
        this.updateDepth();
        return key;
      }
    }
    return undefined;
  }

  private group(key: string): Group {
    const name = this.opts.groupOf(key);
    let group = this.groups.get(name);
    if (!group) {
      group = {
        name,
        queues: { urgent: [], periodic: [] },
        live: { urgent: 0, periodic: 0 },
        inRing: { urgent: false, periodic: false },
        active: 0,
      };
      this.groups.set(name, group);
    }
    return group;
  }

  private unqueue(key: string, lane: Lane, group: Group): void {
    this.queued.delete(key);
    this.counts[lane]--;
    group.live[lane]--;
  }

  /** Forgets a group with nothing queued, in a ring or running (namespaces come and go). */
  private dropIfEmpty(group: Group): void {
    if (group.active === 0 && !group.inRing.urgent && !group.inRing.periodic) this.groups.delete(group.name);
  }

  private async process(key: string): Promise<void> {
    const group = this.group(key);
    group.active++;
    this.processing.set(key, group);
    let result: ReconcileResult | undefined;
    try {
      result = await this.opts.handler(key);
    } catch (err) {
      this.opts.onError?.(key, err);
      result = { failed: true };
    }
    this.processing.delete(key);
    group.active--;
    this.dropIfEmpty(group);
    // A worker may be waiting only because this group had all it may hold.
    if (group.live.urgent + group.live.periodic > 0) this.wake?.();
    if (result?.failed) {
      const attempt = this.failures.get(key) ?? 0;
      this.failures.set(key, attempt + 1);
      const delay = Math.max(
        backoffDelay(attempt, this.opts.backoffBaseMs, this.opts.backoffMaxMs),
        result.retryAfterMs ?? 0,
      );
      this.addAfter(key, delay, 'periodic');
    } else {
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs, 'periodic');
    }
    const dirtyLane = this.dirty.get(key);
    if (dirtyLane) {
      this.dirty.delete(key);
      this.add(key, dirtyLane);
    }
    if (this.queued.size === 0 && this.processing.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private clearTimer(key: string): void {
    const entry = this.timers.get(key);
    if (!entry) return;
    this.timers.delete(key);
    const last = this.due.pop() as Scheduled;
    if (last !== entry) {
      this.due[entry.index] = last;
      last.index = entry.index;
      this.siftDown(this.siftUp(entry.index));
    }
    // The timer stays armed: if it was for this entry, it fires early, finds nothing due, re-arms.
  }

  /** Arms the one timer for the earliest schedule, unless it is already armed no later than that. */
  private arm(): void {
    const head = this.due[0];
    if (!head || this.stopped) return;
    if (this.timer && this.timerAt <= head.at) return;
    clearTimeout(this.timer);
    // A schedule further out than setTimeout reaches (refreshInterval: 720h) is re-armed on firing.
    const delay = Math.min(Math.max(head.at - Date.now(), 1), MAX_TIMER_MS);
    this.timerAt = Date.now() + delay;
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (let head = this.due[0]; head && head.at <= now; head = this.due[0]) {
      this.clearTimer(head.key);
      this.add(head.key, head.lane);
    }
    this.arm();
  }

  private at(i: number): Scheduled {
    return this.due[i] as Scheduled;
  }

  /** Moves the entry at `i` towards the root until its parent is due no later; returns where it stopped. */
  private siftUp(i: number): number {
    const entry = this.at(i);
    while (i > 0) {
      const parent = this.at((i - 1) >> 1);
      if (parent.at <= entry.at) break;
      this.place(parent, i);
      i = (i - 1) >> 1;
    }
    this.place(entry, i);
    return i;
  }

  private siftDown(i: number): void {
    const entry = this.at(i);
    const n = this.due.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.at(c + 1).at < this.at(c).at) c++;
      const child = this.at(c);
      if (entry.at <= child.at) break;
      this.place(child, i);
      i = c;
    }
    this.place(entry, i);
  }

  private place(entry: Scheduled, i: number): void {
    this.due[i] = entry;
    entry.index = i;
  }

  private updateDepth(): void {
    const metrics = this.opts.metrics;
    if (!metrics) return;
    metrics.queueDepth.set({ queue: this.opts.name, lane: 'urgent' }, this.counts.urgent);
    metrics.queueDepth.set({ queue: this.opts.name, lane: 'periodic' }, this.counts.periodic);
  }
}
