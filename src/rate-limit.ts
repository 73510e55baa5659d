// A token bucket with FIFO waiters: `qps` tokens a second, up to `burst` saved. pauseUntil()
// blocks everyone until a time, which is how a provider's Retry-After is honoured.
export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private tail: Promise<void> = Promise.resolve();
  readonly qps: number;
  readonly burst: number;

  constructor(qps: number, burst: number) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`invalid rate limit: qps ${qps}, burst ${burst}`);
    this.qps = qps;
    this.burst = burst;
    this.tokens = burst;
    this.last = Date.now();
  }

  /** Resolves when the caller may make one request. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(() => this.acquire(signal));
    this.tail = turn.catch(() => {});
    return turn;
  }

  /** Takes a token if one is free right now, without waiting or queueing. */
  tryTake(): boolean {
    const now = Date.now();
    this.refill(now);
    if (now < this.pausedUntil || this.tokens < 1) return false;
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

  private async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = Date.now();
      this.refill(now);
      const wait = Math.max(this.pausedUntil - now, this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.qps) * 1000);
      if (wait <= 0) {
        this.tokens -= 1;
        return;
      }
      await sleep(wait, signal);
    }
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
