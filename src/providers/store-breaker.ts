// A store whose provider is unreachable (5xx, reset, timeout) is probed, not hammered: after a
// Transient failure, calls through that store fail at once with the last error until the next
// backoff step, then exactly one call goes through as a probe. An answer of any kind (a value,
// NotFound, Denied) means the provider is reachable again and closes the breaker. No library
// here: the breaker is keyed by store identity and must hand the waiting time to the caller's
// own retry (retryAfterMs), which the usual circuit-breaker packages neither key nor expose.
import { backoffDelay } from '../rate-limit.ts';
import { ProviderError } from './provider.ts';

interface Open {
  failures: number;
  retryAt: number;
  probing: boolean;
  error: ProviderError;
}

export interface StoreBreakerOptions {
  baseMs?: number;
  maxMs?: number;
  /** Called when a store that was failing answers again. */
  onRecovered?: (storeKey: string) => void;
  now?: () => number;
}

export class StoreBreaker {
  private readonly open = new Map<string, Open>();
  private readonly opts: Required<Omit<StoreBreakerOptions, 'onRecovered'>> & Pick<StoreBreakerOptions, 'onRecovered'>;

  constructor(opts: StoreBreakerOptions = {}) {
    this.opts = { ...opts, baseMs: opts.baseMs ?? 1000, maxMs: opts.maxMs ?? 30_000, now: opts.now ?? Date.now };
  }

  /** Undefined when a call may go out (it becomes the probe of an open store); else the error to fail with. */
  admit(storeKey: string): ProviderError | undefined {
    const o = this.open.get(storeKey);
    if (!o) return undefined;
    const now = this.opts.now();
    if (o.probing || now < o.retryAt) {
      const waitMs = Math.max(0, o.retryAt - now);
      return new ProviderError(
        'Transient',
        `${o.error.message} (the store is backing off after ${o.failures} failed attempt${o.failures === 1 ? '' : 's'}; next attempt in ${Math.ceil(waitMs / 1000)}s)`,
        { retryAfterMs: waitMs },
      );
    }
    o.probing = true;
    return undefined;
  }

  /** Records the outcome of an admitted call. */
  record(storeKey: string, error: ProviderError | undefined): void {
    if (error?.kind === 'Transient') {
      const o = this.open.get(storeKey);
      const failures = (o?.failures ?? 0) + 1;
      const retryAt = this.opts.now() + backoffDelay(failures - 1, this.opts.baseMs, this.opts.maxMs);
      this.open.set(storeKey, { failures, retryAt, probing: false, error });
      return;
    }
    if (this.open.delete(storeKey)) this.opts.onRecovered?.(storeKey);
  }

  /** Stores currently backing off (for the metric). */
  get openCount(): number {
    return this.open.size;
  }

  forget(storeKey: string): void {
    this.open.delete(storeKey);
  }
}
