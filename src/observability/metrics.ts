// Prometheus metrics. Labels carry names, kinds and outcomes, never values. One registry per
// controller instance, so several controllers in one process (tests) do not collide.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  constructor(opts: { processMetrics?: boolean } = {}) {
    // Heap, RSS, event-loop lag and GC of this process (nodejs_*, process_*).
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  readonly providerCallsHeld = new Counter({
    name: 'ferry_provider_calls_held_total',
    help: 'Provider calls not made because their store is backing off after it failed to answer (one probe per backoff step goes out instead).',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });
  readonly providerCalls = new Counter({
    name: 'ferry_provider_calls_total',
    help: 'Calls made to providers, by operation and outcome (ok or an error class).',
    labelNames: ['provider', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly providerLogins = new Counter({
    name: 'ferry_provider_logins_total',
    help: 'Logins to providers (calls that create a session or token), by auth method and outcome.',
    labelNames: ['provider', 'method', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly sharedReads = new Counter({
    name: 'ferry_shared_reads_total',
    help: 'Remote values requested by reconciles, by how they were served (call, joined, cached).',
    labelNames: ['provider', 'served'] as const,
    registers: [this.registry],
  });

  readonly readAhead = new Counter({
    name: 'ferry_read_ahead_total',
    help: 'Keys read ahead for queued ExternalSecrets, to fill a batch call that was being made anyway (also counted in ferry_shared_reads_total as served="call").',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  readonly tenancyDenials = new Counter({
    name: 'ferry_tenancy_denials_total',
    help: 'Reads refused for tenancy, by store (kind/namespace/name) and reason: namespace_not_allowed (ClusterSecretStore conditions), remote_key_not_allowed (remoteKeyPolicy, the ExternalSecret refused), find_result_filtered (remoteKeyPolicy, listed names left out; counts names).',
    labelNames: ['store', 'reason'] as const,
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: 'ferry_leader',
    help: '1 while this controller reconciles (holds the leader-election Lease, or runs without election); 0 while it follows.',
    registers: [this.registry],
  });

  readonly kubeRequests = new Counter({
    name: 'ferry_kube_requests_total',
    help: 'Requests Ferry made to the Kubernetes API server (not counting watches).',
    labelNames: ['verb', 'resource'] as const,
    registers: [this.registry],
  });

  readonly reconciles = new Counter({
    name: 'ferry_reconcile_total',
    help: 'Reconciles, by kind and result.',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly reconcileSeconds = new Histogram({
    name: 'ferry_reconcile_duration_seconds',
    help: 'Duration of reconciles.',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'ferry_queue_depth',
    help: 'Items waiting in a work queue, by lane.',
    labelNames: ['queue', 'lane'] as const,
    registers: [this.registry],
  });

  readonly kubeThrottled = new Counter({
    name: 'ferry_kube_throttled_total',
    help: 'API-server requests answered 429 Too Many Requests (Priority and Fairness), each retried after Retry-After.',
    labelNames: ['verb', 'resource'] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'ferry_watch_restarts_total',
    help: 'Watch connections re-established, by resource and reason.',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });

  readonly relists = new Counter({
    name: 'ferry_relists_total',
    help: 'Full lists made by informers (start, 410 Gone, or resync).',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });

  readonly externalSecretReady = new Gauge({
    name: 'ferry_externalsecret_ready',
    help: '1 when the ExternalSecret is Ready, 0 otherwise.',
    labelNames: ['namespace', 'name'] as const,
    registers: [this.registry],
  });

  readonly csiVolumes = new Gauge({
    name: 'ferry_csi_volumes',
    help: 'Volumes the CSI node plugin has mounted and keeps fresh.',
    registers: [this.registry],
  });

  readonly csiVolumeMemory = new Gauge({
    name: 'ferry_csi_volume_memory_bytes',
    help: 'Memory the mounted volumes take on this node (pages of their tmpfs), against the limit in csi-node --volume-memory.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly csiPublishSeconds = new Histogram({
    name: 'ferry_csi_publish_duration_seconds',
    help: 'NodePublishVolume duration, by result (mounted, republished, or an error class).',
    labelNames: ['result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly csiRotations = new Counter({
    name: 'ferry_csi_rotations_total',
    help: 'Refreshes of mounted volumes, by result (changed, unchanged, or an error class).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly rolloutRestarts = new Counter({
    name: 'ferry_rollout_restarts_total',
    help: 'Workload rollouts requested for a Secret change, by kind and result (restarted, unchanged, missing, refused, error).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly secretVersionsDeleted = new Counter({
    name: 'ferry_secret_versions_deleted_total',
    help: 'Old versions of versioned Secrets deleted because nothing referenced them.',
    registers: [this.registry],
  });

  /** Sum of a counter's values whose labels match `where`, for tests and the benchmark. */
  async total(metric: Counter<string>, where: Record<string, string> = {}): Promise<number> {
    const { values } = await metric.get();
    return values
      .filter((v) => Object.entries(where).every(([k, want]) => v.labels[k] === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
