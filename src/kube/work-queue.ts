// A work queue in the style of client-go's: an item is queued at most once, reconciled by one
// worker at a time, and re-queued if it changed meanwhile. Two lanes: `urgent` (new, changed,
// forced, drifted) is always served before `periodic` (refreshes, retries), so new objects never
// wait behind a refresh backlog (ESO #2878).
import type { Metrics } from '../observability/metrics.ts';
import { backoffDelay } from '../rate-limit.ts';

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
}

interface Timer {
  at: number;
  lane: Lane;
  handle: NodeJS.Timeout;
}

export class WorkQueue {
  private readonly opts: Required<Omit<WorkQueueOptions, 'metrics' | 'onError'>> & WorkQueueOptions;
  private readonly queued = new Map<string, Lane>();
  private readonly counts: Record<Lane, number> = { urgent: 0, periodic: 0 };
  private readonly lanes: Record<Lane, string[]> = { urgent: [], periodic: [] };
  private readonly processing = new Set<string>();
  private readonly dirty = new Map<string, Lane>();
  private readonly timers = new Map<string, Timer>();
  private readonly failures = new Map<string, number>();
  private wake: (() => void) | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.opts = { backoffBaseMs: 1000, backoffMaxMs: 5 * 60_000, ...opts };
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
    if (current) this.counts[current]--;
    this.queued.set(key, lane);
    this.counts[lane]++;
    this.lanes[lane].push(key);
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
    if (existing && existing.at <= at) return;
    this.clearTimer(key);
    const handle = setTimeout(() => {
      this.timers.delete(key);
      this.add(key, lane);
    }, delayMs);
    handle.unref();
    this.timers.set(key, { at, lane, handle });
  }

  /** Drops everything known about `key` (its object is gone). */
  forget(key: string): void {
    this.clearTimer(key);
    this.failures.delete(key);
    this.dirty.delete(key);
    const lane = this.queued.get(key);
    if (lane) {
      this.queued.delete(key);
      this.counts[lane]--;
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
    const out: string[] = [];
    for (const lane of lanes) {
      for (const key of this.lanes[lane]) {
        if (out.length >= limit) return out;
        if (this.queued.get(key) === lane) out.push(key);
      }
    }
    return out;
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
      for (const key of [...this.timers.keys()]) this.clearTimer(key);
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
    for (const lane of ['urgent', 'periodic'] as const) {
      const list = this.lanes[lane];
      while (list.length > 0) {
        const key = list.shift() as string;
        // Entries left behind when an item moved lanes or was forgotten are skipped.
        if (this.queued.get(key) === lane) {
          this.queued.delete(key);
          this.counts[lane]--;
          this.updateDepth();
          return key;
        }
      }
    }
    return undefined;
  }

  private async process(key: string): Promise<void> {
    this.processing.add(key);
    let result: ReconcileResult | undefined;
    try {
      result = await this.opts.handler(key);
    } catch (err) {
      this.opts.onError?.(key, err);
      result = { failed: true };
    }
    this.processing.delete(key);
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
    const t = this.timers.get(key);
    if (t) {
      clearTimeout(t.handle);
      this.timers.delete(key);
    }
  }

  private updateDepth(): void {
    const metrics = this.opts.metrics;
    if (!metrics) return;
    metrics.queueDepth.set({ queue: this.opts.name, lane: 'urgent' }, this.counts.urgent);
    metrics.queueDepth.set({ queue: this.opts.name, lane: 'periodic' }, this.counts.periodic);
  }
}
