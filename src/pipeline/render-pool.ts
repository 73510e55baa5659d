// Renders off the main thread: a few worker threads run the render step of ExternalSecrets whose
// templates could cost more than a bounded little (inline-render.ts), each render under a
// wall-clock limit, so a costly template cannot stall health checks, lease renewal or other
// namespaces. A render past its limit is stopped (its worker terminated and replaced) and fails
// as a Render error naming the template that ran.
// Renders waiting for a worker are served by tenant (namespace) in turn: the tenant served longest
// ago (or never, or with nothing waiting or running since) goes first, so one namespace's queue of
// slow templates delays another's new render by at most one render per busy worker.
// Written here rather than taken from piscina or tinypool: Ferry needs terminate-on-timeout per
// task, the running template's name at that moment, and per-tenant turns; the rest is ~150 lines.
import { Worker } from 'node:worker_threads';
import { FerryError } from '../errors.ts';
import { ByteLimitReached, bcryptSaltKey } from '../template/index.ts';
import { INLINE_MAX_BYTES, rendersInline } from './inline-render.ts';
import { RenderError } from './render-error.ts';
import { packJob, type RenderJob, runRenderJob, unpackTarget } from './render-job.ts';
import { progressBuffer, readProgress } from './render-progress.ts';
import type { RenderAnswer } from './render-worker.ts';
import type { RenderedTarget } from './target-template.ts';

export interface RenderPoolOptions {
  /** Worker threads; 0 renders every job on the calling thread, with no wall-clock limit. */
  workers: number;
  /** How long one render may run in a worker before it is stopped. */
  timeoutMs: number;
  /** The V8 heap (old generation) of each worker, MiB: a render past it is stopped. */
  heapMiB?: number;
}

/** What the controller and the CSI plugin run with unless told otherwise (--render-workers, --render-timeout). */
export const DEFAULT_RENDERS: RenderPoolOptions = { workers: 1, timeoutMs: 10_000 };

interface Pending {
  job: RenderJob;
  tenant: string;
  resolve(target: RenderedTarget): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  progress: SharedArrayBuffer;
  /** Set once the worker has loaded its modules: a render's time counts from its start, not the worker's. */
  ready: boolean;
  running?: { id: number; pending: Pending; timer: NodeJS.Timeout };
}

/** The worker's entry beside this module: .ts when run from source, .js when built. */
const WORKER_URL = new URL(`./render-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class RenderPool {
  private readonly opts: Required<RenderPoolOptions>;
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  /** Renders waiting for a worker, by tenant. */
  private readonly waiting = new Map<string, Pending[]>();
  /** The turn each tenant with renders waiting or running was last served in, and how many run. */
  private readonly turns = new Map<string, { last: number; running: number }>();
  private turn = 0;
  private nextId = 0;
  private closed = false;

  constructor(opts: RenderPoolOptions) {
    this.opts = { heapMiB: 128, ...opts };
  }

  /**
   * The rendered target of `job`. Templates run in a worker, in `tenant`'s turn, unless the render
   * is one whose work is bounded and small (rendersInline): that one renders on the calling thread
   * while its function calls handle at most INLINE_MAX_BYTES, and past that in a worker.
   * Throws FerryError (Render for a render stopped for time or memory).
   */
  render(job: RenderJob, tenant: string): Promise<RenderedTarget> {
    if (this.opts.workers === 0) return Promise.resolve().then(() => runRenderJob(job));
    if (rendersInline(job)) {
      try {
        return Promise.resolve(runRenderJob(job, undefined, INLINE_MAX_BYTES));
      } catch (err) {
        // Past the inline byte limit the render starts over in a worker, under the time limit.
        if (!(err instanceof ByteLimitReached)) return Promise.reject(err);
      }
    }
    if (this.closed) return Promise.reject(new RenderError('the controller is stopping; the render was not started'));
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(tenant);
      if (queue) queue.push({ job, tenant, resolve, reject });
      else this.waiting.set(tenant, [{ job, tenant, resolve, reject }]);
      this.dispatch();
    });
  }

  /** Stops every worker; renders not finished fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.failWaiting(new RenderError('the controller is stopping; the render was not started'));
    await Promise.all([...this.slots].map((slot) => this.retire(slot, new RenderError('the render was stopped'))));
  }

  private failWaiting(err: RenderError): void {
    for (const queue of this.waiting.values()) for (const p of queue) p.reject(err);
    this.waiting.clear();
  }

  private dispatch(): void {
    while (this.waiting.size > 0) {
      if (this.slots.size < this.opts.workers && this.idle.length === 0) this.spawn();
      const slot = this.idle.pop();
      if (!slot) return;
      let tenant = '';
      let oldest = Number.POSITIVE_INFINITY;
      for (const t of this.waiting.keys()) {
        const last = this.turns.get(t)?.last ?? -1;
        if (last < oldest) [tenant, oldest] = [t, last];
      }
      const queue = this.waiting.get(tenant) as Pending[];
      const pending = queue.shift() as Pending;
      if (queue.length === 0) this.waiting.delete(tenant);
      const turns = this.turns.get(tenant) ?? { last: 0, running: 0 };
      turns.last = ++this.turn;
      turns.running++;
      this.turns.set(tenant, turns);
      this.start(slot, pending);
    }
  }

  /** A render of `tenant` ended: a tenant with nothing waiting or running is forgotten. */
  private ended(tenant: string): void {
    const turns = this.turns.get(tenant);
    if (turns && --turns.running <= 0 && !this.waiting.has(tenant)) this.turns.delete(tenant);
  }

  private start(slot: Slot, pending: Pending): void {
    const id = this.nextId++;
    let packed: ReturnType<typeof packJob>;
    try {
      packed = packJob(pending.job);
    } catch (err) {
      this.idle.push(slot);
      this.ended(pending.tenant);
      pending.reject(err as Error);
      return;
    }
    const timer = setTimeout(() => {
      const where = readProgress(slot.progress);
      const limit = `${this.opts.timeoutMs / 1000}s`;
      void this.retire(
        slot,
        new RenderError(
          `${where || 'the render'}: stopped after ${limit}, the longest one render may run (--render-timeout)`,
        ),
      );
      this.dispatch();
    }, this.opts.timeoutMs);
    slot.running = { id, pending, timer };
    slot.worker.postMessage({ id, job: packed.message }, packed.transfer);
  }

  private spawn(): void {
    const progress = progressBuffer();
    const worker = new Worker(WORKER_URL, {
      workerData: { progress, bcryptKey: bcryptSaltKey() },
      resourceLimits: { maxOldGenerationSizeMb: this.opts.heapMiB, maxYoungGenerationSizeMb: 16 },
    });
    // An idle pool does not keep a process alive; a running render's timer does.
    worker.unref();
    const slot: Slot = { worker, progress, ready: false };
    worker.on('message', (answer: RenderAnswer | 'ready') => {
      if (answer !== 'ready') this.answered(slot, answer);
      else if (this.slots.has(slot)) {
        slot.ready = true;
        this.idle.push(slot);
        this.dispatch();
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const why =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `used more than its ${this.opts.heapMiB} MiB of memory and was stopped`
          : `failed unexpectedly (${err.name})`;
      void this.retire(slot, new RenderError(`${readProgress(progress) || 'the render'}: the render ${why}`));
      // A worker that cannot even load would fail every replacement the same way.
      if (slot.ready) this.dispatch();
      else this.failWaiting(new RenderError(`the render worker could not start (${err.name})`));
    });
    worker.on('exit', () => {
      if (!this.slots.has(slot)) return;
      void this.retire(slot, new RenderError('the render worker exited unexpectedly'));
      this.dispatch();
    });
    this.slots.add(slot);
  }

  private answered(slot: Slot, answer: RenderAnswer): void {
    const running = slot.running;
    if (!running || running.id !== answer.id) return;
    clearTimeout(running.timer);
    slot.running = undefined;
    this.idle.push(slot);
    this.ended(running.pending.tenant);
    if ('target' in answer) running.pending.resolve(unpackTarget(answer.target));
    else {
      const { code, message } = answer.error;
      running.pending.reject(code === 'Render' ? new RenderError(message) : new FerryError(code, message));
    }
    this.dispatch();
  }

  /** Takes `slot` out of the pool for good, failing its render with `err`. */
  private async retire(slot: Slot, err: Error): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const idle = this.idle.indexOf(slot);
    if (idle >= 0) this.idle.splice(idle, 1);
    if (slot.running) {
      clearTimeout(slot.running.timer);
      this.ended(slot.running.pending.tenant);
      slot.running.pending.reject(err);
      slot.running = undefined;
    }
    await slot.worker.terminate();
  }
}
