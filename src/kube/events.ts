// Kubernetes Events for Ferry's objects. Events are best-effort, as in client-go: they have their
// own rate budget, so they never slow down Secret and status writes, and are dropped when it is
// spent; the same event for the same object is sent at most once per 10 minutes.
import { randomBytes } from 'node:crypto';
import type { EventReason } from '../api/v1alpha1/reasons.ts';
import type { Logger } from '../observability/logger.ts';
import { TokenBucket } from '../rate-limit.ts';
import type { KubeClient } from './client.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

const REPEAT_AFTER_MS = 10 * 60_000;

export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly budget: TokenBucket;

  constructor(client: KubeClient, logger: Logger, budget = new TokenBucket(10, 100)) {
    this.client = client;
    this.logger = logger;
    this.budget = budget;
  }

  /** Sends the event in the background; a failure to send is logged, never thrown. */
  record(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: EventReason, message: string): void {
    const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now - REPEAT_AFTER_MS) return;
    if (!this.budget.tryTake()) {
      this.logger.debug({ reason }, 'event dropped: event budget spent');
      return;
    }
    this.recent.set(key, now);
    if (this.recent.size > 10_000) {
      for (const [k, t] of this.recent) if (t < now - REPEAT_AFTER_MS) this.recent.delete(k);
    }
    const namespace = obj.metadata.namespace ?? 'default';
    const time = new Date(now);
    this.client
      .createEvent({
        metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: obj.metadata.namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: 'ferry' },
        reportingComponent: 'ferry.dev/controller',
        reportingInstance: process.env.HOSTNAME ?? 'ferry',
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      })
      .catch((err: unknown) => this.logger.warn({ reason, err: String(err) }, 'could not record event'));
  }
}
