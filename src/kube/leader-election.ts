// Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection
// algorithm: a candidate takes the Lease when it is free or its holder has not renewed it for a
// whole lease duration (measured on this process's clock, from when it last saw the record
// change, so clocks need not agree); the leader renews every retry period and gives up when it
// could not renew within the renew deadline. isLeader() turns false the moment that deadline
// passes, even if the renew loop is stuck, so a write gate built on it stops writes at once.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.ts';
import { isConflict, isNotFound } from './client.ts';

export interface LeaderElectionConfig {
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** Unique per process: two candidates with one identity would both lead. */
  identity: string;
  /** How long followers wait after the last renewal they saw before taking over. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it steps down. */
  renewDeadlineMs: number;
  /** Interval between attempts to acquire or renew. */
  retryPeriodMs: number;
}

export interface LeadershipCallbacks {
  onStartedLeading?(): void;
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
}

/** How run() ended: the signal aborted (lease released if held), or leadership was lost. */
export type ElectionEnd = 'stopped' | 'lost';

/** client-go's default identity: the host name (a pod's name) and a random suffix. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(6).toString('hex')}`;
}

/** The timing rules client-go enforces; returns a message naming the flags, or undefined. */
export function leaderElectionTimingError(
  c: Pick<LeaderElectionConfig, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>,
): string | undefined {
  if (c.leaseDurationMs <= c.renewDeadlineMs) return 'the lease duration must be longer than the renew deadline';
  if (c.renewDeadlineMs <= 1.2 * c.retryPeriodMs)
    return 'the renew deadline must be longer than 1.2 × the retry period';
  if (c.retryPeriodMs < 100) return 'the retry period must be at least 100ms';
  return undefined;
}

const JITTER = 1.2;

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly config: LeaderElectionConfig;
  private readonly logger: Logger;
  /** resourceVersion of the Lease as last seen, and when (local clock). */
  private observedVersion = '';
  private observedAt = 0;
  private observedHolder = '';
  private leading = false;
  private lastRenewAt = 0;

  constructor(kc: KubeConfig, config: LeaderElectionConfig, logger: Logger) {
    const problem = leaderElectionTimingError(config);
    if (problem) throw new Error(`leader election: ${problem}`);
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.config = config;
    this.logger = logger.child({ lease: `${config.namespace}/${config.name}`, identity: config.identity });
  }

  get identity(): string {
    return this.config.identity;
  }

  /** The holder this process last saw on the Lease ('' when free or not yet read). */
  get leader(): string {
    return this.observedHolder;
  }

  /** True while this process holds the Lease and renewed it within the renew deadline. */
  isLeader(): boolean {
    return (
      this.leading &&
      this.observedHolder === this.config.identity &&
      Date.now() - this.lastRenewAt < this.config.renewDeadlineMs
    );
  }

  /**
   * Campaigns until elected, then renews until the signal aborts (the Lease is released so a
   * follower takes over at once) or a renewal fails for the whole renew deadline.
   */
  async run(signal: AbortSignal, callbacks: LeadershipCallbacks = {}): Promise<ElectionEnd> {
    let lastLeader = '';
    const noticeLeader = () => {
      if (this.observedHolder !== lastLeader) {
        lastLeader = this.observedHolder;
        if (lastLeader) {
          this.logger.info({ leader: lastLeader }, 'new leader observed');
          callbacks.onNewLeader?.(lastLeader);
        }
      }
    };
    // Campaign.
    for (;;) {
      if (signal.aborted) return 'stopped';
      const acquired = await this.tryAcquireOrRenew();
      noticeLeader();
      if (acquired) break;
      await sleep(jittered(this.config.retryPeriodMs), signal);
    }
    this.leading = true;
    this.logger.info('acquired the lease: leading');
    callbacks.onStartedLeading?.();
    // Renew.
    while (!signal.aborted) {
      await sleep(this.config.retryPeriodMs, signal);
      if (signal.aborted) break;
      const renewed = await this.tryAcquireOrRenew();
      noticeLeader();
      if (!this.isLeader()) {
        this.leading = false;
        this.logger.warn({ renewed }, 'could not renew the lease within the renew deadline: stepping down');
        callbacks.onStoppedLeading?.();
        return 'lost';
      }
    }
    await this.release();
    this.leading = false;
    callbacks.onStoppedLeading?.();
    return 'stopped';
  }

  /** One attempt; true when this process holds the Lease afterwards. Errors count as false. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const { namespace, name, identity } = this.config;
    const spec = (acquireTime: Date, transitions: number) => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.config.leaseDurationMs / 1000),
      acquireTime: new V1MicroTime(acquireTime),
      renewTime: new V1MicroTime(now),
      leaseTransitions: transitions,
    });
    try {
      let lease: V1Lease;
      try {
        lease = await this.withDeadline(this.api.readNamespacedLease({ namespace, name }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const created = await this.withDeadline(
          this.api.createNamespacedLease({
            namespace,
            body: { metadata: { name, namespace }, spec: spec(new Date(now), 0) },
          }),
        );
        this.observe(created, now);
        this.lastRenewAt = now;
        return true;
      }
      const version = lease.metadata?.resourceVersion ?? '';
      if (version !== this.observedVersion) this.observe(lease, now);
      const holder = lease.spec?.holderIdentity ?? '';
      const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (holder && holder !== identity && this.observedAt + durationMs > now) return false;
      const mine = holder === identity;
      const transitions = (lease.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1);
      const acquired = mine && lease.spec?.acquireTime ? new Date(lease.spec.acquireTime) : new Date(now);
      const updated = await this.withDeadline(
        this.api.replaceNamespacedLease({
          namespace,
          name,
          body: { ...lease, spec: { ...lease.spec, ...spec(acquired, transitions) } },
        }),
      );
      this.observe(updated, now);
      this.lastRenewAt = now;
      return true;
    } catch (err) {
      // A 409 means another candidate wrote first; anything else is retried the same way.
      if (!isConflict(err)) this.logger.warn({ err: String(err) }, 'lease request failed');
      return false;
    }
  }

  /** Gives the Lease up on shutdown (client-go's ReleaseOnCancel), so a follower need not wait it out. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.config;
    try {
      const lease = await this.withDeadline(this.api.readNamespacedLease({ namespace, name }));
      if (lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime();
      await this.withDeadline(
        this.api.replaceNamespacedLease({
          namespace,
          name,
          body: {
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
          },
        }),
      );
      this.logger.info('released the lease');
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'could not release the lease; followers take over when it expires');
    }
  }

  private observe(lease: V1Lease, at: number): void {
    this.observedVersion = lease.metadata?.resourceVersion ?? '';
    this.observedAt = at;
    this.observedHolder = lease.spec?.holderIdentity ?? '';
  }

  /** No single request may outlast the renew deadline: a hung call must not hide a lost lease. */
  private withDeadline<T>(request: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('lease request timed out')), this.config.renewDeadlineMs);
    });
    return Promise.race([request, deadline]).finally(() => clearTimeout(timer));
  }
}

function jittered(ms: number): number {
  return ms * (1 + Math.random() * (JITTER - 1));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
