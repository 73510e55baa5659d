// A token bucket: `qps` tokens a second, up to `burst` saved. pauseUntil() blocks everyone until a
// time, which is how a provider's Retry-After is honoured. Waiters belong to a group (the
// namespace a read is for) and the groups are served in turn, each in arrival order: a
// ClusterSecretStore's budget is shared between namespaces, and one namespace's queue of reads
// cannot make another namespace's read wait behind all of it.

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private readonly waiting = new Map<string, Waiter[]>();
  /** Groups with waiters, in the order they are served. */
  private readonly ring: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  readonly qps: number;
  readonly burst: number;

  constructor(qps: number, burst: number) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`invalid rate limit: qps ${qps}, burst ${burst}`);
    this.qps = qps;
    this.burst = burst;
    this.tokens = burst;
    this.last = Date.now();
  }

  /** Resolves when the caller may make one request; callers of one `group` are served in order. */
  take(signal?: AbortSignal, group = ''): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const waiter: Waiter = { resolve, reject, signal };
      let list = this.waiting.get(group);
      if (!list) {
        list = [];
        this.waiting.set(group, list);
        this.ring.push(group);
      }
      list.push(waiter);
      if (signal) {
        waiter.onAbort = () => {
          const waiters = this.waiting.get(group);
          const at = waiters?.indexOf(waiter) ?? -1;
          if (waiters && at >= 0) waiters.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.pump();
    });
  }

  /** Takes a token if one is free right now and nobody is waiting, without queueing. */
  tryTake(): boolean {
    const now = Date.now();
    this.refill(now);
    if (now < this.pausedUntil || this.tokens < 1 || this.ring.length > 0) return false;
    this.tokens -= 1;
    return true;
  }

  pauseUntil(epochMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, epochMs);
  }

  get pausedForMs(): number {
    return Math.max(0, this.pausedUntil - Date.now());
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }

  /** Hands out the tokens there are to waiters, groups in turn; arms one timer for the next token. */
  private pump(): void {
    if (this.timer) return;
    for (;;) {
      const waiter = this.nextWaiter();
      if (!waiter) return;
      const now = Date.now();
      this.refill(now);
      const wait = Math.max(this.pausedUntil - now, this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.qps) * 1000);
      if (wait > 0) {
        // A wait longer than one timer can hold (a Retry-After of months) is taken in steps.
        this.timer = setTimeout(
          () => {
            this.timer = undefined;
            this.pump();
          },
          Math.min(wait, MAX_TIMER_MS),
        );
        return;
      }
      this.tokens -= 1;
      this.serve(waiter);
    }
  }

  /** The first waiter of the group whose turn it is (groups without waiters leave the ring). */
  private nextWaiter(): Waiter | undefined {
    while (this.ring.length > 0) {
      const group = this.ring[0] as string;
      const first = this.waiting.get(group)?.[0];
      if (first) return first;
      this.ring.shift();
      this.waiting.delete(group);
    }
    return undefined;
  }

  /** Resolves the waiter nextWaiter() returned and moves its group to the back of the ring. */
  private serve(waiter: Waiter): void {
    const group = this.ring.shift() as string;
    const list = this.waiting.get(group) as Waiter[];
    list.shift();
    if (list.length > 0) this.ring.push(group);
    else this.waiting.delete(group);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve();
  }
}

/**
 * setTimeout's longest delay. Node runs a longer one after 1 ms (with a warning): a refresh
 * interval, token TTL or Retry-After beyond 24.8 days must be waited for in steps.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** setTimeout as a promise that rejects when `signal` aborts; any length (see MAX_TIMER_MS). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const until = Date.now() + ms;
    let timer: NodeJS.Timeout;
    const arm = () => {
      const remaining = Math.max(until - Date.now(), 0);
      // Only a wait longer than one timer can hold is taken in steps.
      const stepped = remaining > MAX_TIMER_MS;
      timer = setTimeout(
        () => {
          if (stepped) return arm();
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        stepped ? MAX_TIMER_MS : remaining,
      );
    };
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    arm();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff with full jitter: a random delay in [base·2^n / 2, base·2^n], capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
