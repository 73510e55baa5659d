// Wires ClusterExternalSecrets to their informers and queue: a namespace created, relabelled or
// deleted, a copy edited or deleted, or an ExternalSecret of a copy's name going away queues the
// ClusterExternalSecrets it concerns at once; refreshTime is only the safety net.
import type { KubeConfig, V1Namespace } from '@kubernetes/client-node';
import { API_VERSION, type ClusterExternalSecret, type ExternalSecret } from '../../api/v1alpha1/types.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { Informer, objectKey, type WatchTimings } from '../../kube/informer.ts';
import { WorkQueue } from '../../kube/work-queue.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { objectVersion } from '../../pipeline/settings.ts';
import { copyName, ownerOfCopy } from './copies.ts';
import { type ClusterExternalSecretDeps, reconcileClusterExternalSecret } from './reconcile.ts';
import { selectorsOf, selects } from './selection.ts';

export interface ClusterExternalSecretControllerOptions {
  kc: KubeConfig;
  kube: KubeClient;
  logger: Logger;
  metrics: Metrics;
  externalSecrets: Informer<ExternalSecret>;
  concurrency: number;
  /** Watch timings for its informers (see ControllerConfig.watch). */
  watch?: WatchTimings;
}

/** What of a ClusterExternalSecret or copy a reconcile acts on (status and resourceVersion aside). */
function watchedVersion(obj: ClusterExternalSecret | ExternalSecret): string {
  const m = obj.metadata;
  return JSON.stringify([
    objectVersion(obj),
    m.deletionTimestamp ?? null,
    m.finalizers ?? [],
    m.ownerReferences ?? [],
    obj.spec,
  ]);
}

export class ClusterExternalSecretController {
  readonly clusterExternalSecrets: Informer<ClusterExternalSecret>;
  readonly namespaces: Informer<V1Namespace>;
  private readonly queue: WorkQueue;
  private readonly externalSecrets: Informer<ExternalSecret>;
  /** ClusterExternalSecret name → keys of the ExternalSecrets it controls. */
  private readonly copies = new Map<string, Set<string>>();
  private readonly opts: ClusterExternalSecretControllerOptions;
  private deps: ClusterExternalSecretDeps | undefined;

  constructor(opts: ClusterExternalSecretControllerOptions) {
    this.opts = opts;
    const common = { kc: opts.kc, logger: opts.logger, metrics: opts.metrics, ...opts.watch };
    this.externalSecrets = opts.externalSecrets;
    this.clusterExternalSecrets = new Informer({
      ...common,
      path: `/apis/${API_VERSION}/clusterexternalsecrets`,
      resource: 'clusterexternalsecrets',
    });
    this.namespaces = new Informer({ ...common, path: '/api/v1/namespaces', resource: 'namespaces' });
    this.queue = new WorkQueue({
      name: 'clusterexternalsecrets',
      concurrency: Math.max(1, Math.ceil(opts.concurrency / 4)),
      metrics: opts.metrics,
      onError: (key, err) => opts.logger.error({ key, err: String(err) }, 'reconcile crashed'),
      handler: (key) => this.reconcile(key),
    });
    this.wireHandlers();
  }

  /** Informers this controller needs synced before it reconciles. */
  get informers(): Informer<ClusterExternalSecret | V1Namespace>[] {
    return [this.clusterExternalSecrets, this.namespaces] as Informer<ClusterExternalSecret | V1Namespace>[];
  }

  /** Runs the queue until `signal` aborts; call once the informers have synced. */
  run(signal: AbortSignal, events: EventRecorder): Promise<void> {
    this.deps = {
      kube: this.opts.kube,
      events,
      logger: this.opts.logger,
      metrics: this.opts.metrics,
      namespaces: () => this.namespaces.list(),
      externalSecret: (namespace, name) => this.externalSecrets.get(`${namespace}/${name}`),
      copiesOf: (cesName) =>
        [...(this.copies.get(cesName) ?? [])]
          .map((key) => this.externalSecrets.get(key))
          .filter((es): es is ExternalSecret => es !== undefined),
    };
    return this.queue.run(signal);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async reconcile(name: string) {
    const ces = this.clusterExternalSecrets.get(name);
    if (!ces || !this.deps) return undefined;
    return reconcileClusterExternalSecret(ces, this.deps);
  }

  private index(es: ExternalSecret, present: boolean): void {
    const owner = ownerOfCopy(es);
    if (owner === undefined) return;
    const set = this.copies.get(owner) ?? new Set<string>();
    if (present) set.add(objectKey(es));
    else set.delete(objectKey(es));
    if (set.size > 0) this.copies.set(owner, set);
    else this.copies.delete(owner);
  }

  /** ClusterExternalSecrets whose copies are named `name`. */
  private usingName(name: string | undefined): string[] {
    return this.clusterExternalSecrets
      .list()
      .filter((ces) => copyName(ces) === name)
      .map((ces) => ces.metadata.name ?? '');
  }

  /** ClusterExternalSecrets that select a namespace with this name and labels, or have a copy in it. */
  private concerning(namespace: string, labels: Record<string, string>[]): string[] {
    return this.clusterExternalSecrets
      .list()
      .filter((ces) => {
        const name = ces.metadata.name ?? '';
        if (this.copies.get(name)?.has(`${namespace}/${copyName(ces)}`)) return true;
        try {
          const selectors = selectorsOf(ces.spec);
          return labels.some((l) => selects(ces.spec, selectors, namespace, l));
        } catch {
          return false; // an invalid selector selects nothing; its reconcile reports it
        }
      })
      .map((ces) => ces.metadata.name ?? '');
  }

  private enqueue(names: (string | undefined)[]): void {
    for (const name of names) if (name) this.queue.add(name, 'urgent');
  }

  private wireHandlers(): void {
    this.clusterExternalSecrets.on({
      add: (ces) => this.enqueue([ces.metadata.name]),
      update: (ces, old) => {
        if (watchedVersion(ces) !== watchedVersion(old)) this.enqueue([ces.metadata.name]);
      },
      delete: (ces) => this.queue.forget(ces.metadata.name ?? ''),
    });

    this.namespaces.on({
      add: (ns) => this.enqueue(this.concerning(ns.metadata?.name ?? '', [ns.metadata?.labels ?? {}])),
      update: (ns, old) => {
        const labelsChanged = JSON.stringify(ns.metadata?.labels ?? {}) !== JSON.stringify(old.metadata?.labels ?? {});
        const terminating = Boolean(ns.metadata?.deletionTimestamp) !== Boolean(old.metadata?.deletionTimestamp);
        if (!labelsChanged && !terminating) return;
        this.enqueue(this.concerning(ns.metadata?.name ?? '', [ns.metadata?.labels ?? {}, old.metadata?.labels ?? {}]));
      },
      delete: (ns) => this.enqueue(this.concerning(ns.metadata?.name ?? '', [ns.metadata?.labels ?? {}])),
    });

    this.externalSecrets.on({
      add: (es) => {
        this.index(es, true);
        this.enqueue([ownerOfCopy(es), ...this.usingName(es.metadata.name)]);
      },
      update: (es, old) => {
        this.index(old, false);
        this.index(es, true);
        if (watchedVersion(es) !== watchedVersion(old)) this.enqueue([ownerOfCopy(es), ownerOfCopy(old)]);
      },
      delete: (es) => {
        this.index(es, false);
        this.enqueue([ownerOfCopy(es), ...this.usingName(es.metadata.name)]);
      },
    });
  }
}
