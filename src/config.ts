// Flags → one validated Config for `ferry controller` and one for `ferry csi-node`. Nothing else
// reads process.env for settings.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from './api/duration.ts';
import { defaultIdentity, type LeaderElectionConfig, leaderElectionTimingError } from './kube/leader-election.ts';

export interface Config {
  kubeconfig?: string;
  namespace?: string;
  concurrency: number;
  logLevel: string;
  metricsAddr: { host: string; port: number } | undefined;
  kubeQps: number;
  kubeBurst: number;
  providerQps: number;
  providerBurst: number;
  shareWindowMs: number;
  minRefreshIntervalMs: number;
  forceSyncIntervalMs: number;
  rolloutDebounceMs: number;
  workloadRollouts: boolean;
  /** The API server's token audiences besides its published issuer (--api-audiences). */
  apiAudiences: string[];
  clusterStores: boolean;
  clusterExternalSecrets: boolean;
  /** SecretStores may authenticate as the controller itself (default chains, managed identity, ADC). */
  namespacedAmbientIdentity: boolean;
  /** --namespaced-store-allowed-hosts, checked by EgressAllowList when the controller starts. */
  namespacedStoreAllowedHosts: string[];
  /** Set with --leader-elect: only the Lease holder reconciles. */
  leaderElection?: LeaderElectionConfig;
  renders: RenderConfig;
}

/** The render pool (src/pipeline/render-pool.ts): --render-workers and --render-timeout. */
export interface RenderConfig {
  /** Worker threads that run templates; 0 runs them on the main thread, with no time limit. */
  workers: number;
  timeoutMs: number;
}

const RENDER_USAGE = `  --render-workers N         worker threads that render templates, off the thread that serves health checks and
                             every other object (default 1; 0 renders on the main thread, with no time limit)
  --render-timeout DUR       longest one render may run in a worker before it is stopped and fails (default 10s)`;

const RENDER_OPTIONS = {
  'render-workers': { type: 'string' },
  'render-timeout': { type: 'string' },
} as const;

function renderConfig(values: { 'render-workers'?: string; 'render-timeout'?: string }): RenderConfig {
  const text = values['render-workers'] ?? '1';
  const workers = Number(text);
  if (!/^\d+$/.test(text) || workers > 64) {
    throw new ConfigError(`--render-workers must be a whole number from 0 to 64, got "${text}"`);
  }
  const timeoutMs = durationFlag('render-timeout', values['render-timeout'], '10s');
  if (timeoutMs <= 0) throw new ConfigError('--render-timeout must be longer than 0s');
  return { workers, timeoutMs };
}

export const CONTROLLER_USAGE = `usage: ferry controller [flags]
  --kubeconfig PATH          kubeconfig to use (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --namespace NS             watch ExternalSecrets, SecretStores and Secrets of one namespace only
  --concurrency N            reconciles running at once (default 20)
  --log-level LEVEL          trace|debug|info|warn|error (default info)
  --metrics-addr HOST:PORT   serve /metrics, /healthz and /readyz (default :8080; "0" disables)
  --kube-qps N               API-server requests per second, a client-side ceiling (default 200); the API
                             server's own limits (Priority and Fairness) are honoured on top: a 429 pauses
                             every request for its Retry-After and is retried
  --kube-burst N             API-server request burst (default 400)
  --provider-qps N           provider calls per second per store (default 20)
  --provider-burst N         provider call burst per store (default 40)
  --shared-read-window DUR   how old a provider read may be and still serve a refresh (default 60s)
  --min-refresh-interval DUR shortest refresh served; a shorter spec.refreshInterval is raised to it, with a
                             Warning Event (default 10s)
  --force-sync-interval DUR  forced syncs of one ExternalSecret re-read the provider at most once per this; a
                             later force waits for it (default 10s)
  --rollout-debounce DUR     changes to one workload's Secret settle this long before it is rolled (default 5s)
  --api-audiences LIST       the API server's --api-audiences, comma-separated, when they differ from its
                             service-account issuer: a SecretStore is never given a token for them
  --workload-rollouts on|off roll and repoint Deployments, StatefulSets and DaemonSets that consent with the
                             annotation ferry.dev/rollout-from (default off; needs update on them in RBAC)
  --cluster-stores on|off    watch ClusterSecretStores (default on; off for a namespace-scoped install whose
                             RBAC is Roles only — ExternalSecrets then can use SecretStores only)
  --cluster-external-secrets on|off  serve ClusterExternalSecrets (default on; always off with --namespace)
  --namespaced-ambient-identity on|off  let SecretStores (not only ClusterSecretStores) authenticate as the
                             controller itself: AWS default chain, Vault auth.iam without credentials, Azure
                             ManagedIdentity, Google Application Default Credentials (default off: refused)
  --namespaced-store-allowed-hosts LIST  comma list of host names, *.suffixes, IP addresses and CIDRs that
                             namespaced SecretStores may reach although they resolve to loopback, link-local,
                             private or cluster-internal addresses (e.g. an in-cluster Vault:
                             vault.vault.svc,*.svc.cluster.local,10.96.0.0/12), and may name in endpoint
                             overrides (gcpsm endpoint, azurekv AzureStackCloud/customCloudConfig, Vault
                             vaultAwsIamServerID). Default: none. ClusterSecretStores are not restricted
  --leader-elect             only the holder of a coordination.k8s.io Lease reconciles and writes; other
                             replicas keep their caches warm and take over when it lapses (default off)
  --leader-elect-namespace NS    namespace of the Lease (default: --namespace, else $POD_NAMESPACE, else default)
  --leader-elect-lease-name NAME name of the Lease (default ferry-controller)
  --leader-elect-lease-duration DUR  how long followers wait for a silent leader (default 15s)
  --leader-elect-renew-deadline DUR  how long the leader retries renewing before it stops (default 10s)
  --leader-elect-retry-period DUR    interval between acquire/renew attempts (default 2s)
${RENDER_USAGE}`;

export class ConfigError extends Error {}

function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${flag} must be a positive number, got "${value}"`);
  return n;
}

const BINARY_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A size in bytes, written as Kubernetes writes memory: `134217728`, `512Ki`, `128Mi`, `1Gi`. */
function byteSize(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(value);
  const bytes = match ? Number(match[1]) * (BINARY_UNITS[match[2] ?? ''] ?? 1) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new ConfigError(`--${flag} must be a positive size such as 128Mi or 1Gi, got "${value}"`);
  }
  return bytes;
}

function address(value: string | undefined): Config['metricsAddr'] {
  if (value === '0' || value === '') return undefined;
  const text = value ?? ':8080';
  const match = /^(.*):(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new ConfigError(`--metrics-addr must be HOST:PORT or :PORT, got "${text}"`);
  return { host: match[1] || '0.0.0.0', port };
}

export function parseControllerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      concurrency: { type: 'string' },
      'log-level': { type: 'string' },
      'metrics-addr': { type: 'string' },
      'kube-qps': { type: 'string' },
      'kube-burst': { type: 'string' },
      'provider-qps': { type: 'string' },
      'provider-burst': { type: 'string' },
      'shared-read-window': { type: 'string' },
      'min-refresh-interval': { type: 'string' },
      'force-sync-interval': { type: 'string' },
      'rollout-debounce': { type: 'string' },
      'workload-rollouts': { type: 'string' },
      'api-audiences': { type: 'string' },
      'cluster-stores': { type: 'string' },
      'cluster-external-secrets': { type: 'string' },
      'namespaced-ambient-identity': { type: 'string' },
      'namespaced-store-allowed-hosts': { type: 'string' },
      'leader-elect': { type: 'boolean' },
      'leader-elect-namespace': { type: 'string' },
      'leader-elect-lease-name': { type: 'string' },
      'leader-elect-lease-duration': { type: 'string' },
      'leader-elect-renew-deadline': { type: 'string' },
      'leader-elect-retry-period': { type: 'string' },
      ...RENDER_OPTIONS,
    },
  });
  const level = values['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(level)) {
    throw new ConfigError(`--log-level must be one of trace, debug, info, warn, error; got "${level}"`);
  }
  let shareWindowMs: number;
  let rolloutDebounceMs: number;
  try {
    shareWindowMs = parseDuration(values['shared-read-window'] ?? '60s');
  } catch (err) {
    throw new ConfigError(`--shared-read-window: ${(err as Error).message}`);
  }
  try {
    rolloutDebounceMs = parseDuration(values['rollout-debounce'] ?? '5s');
  } catch (err) {
    throw new ConfigError(`--rollout-debounce: ${(err as Error).message}`);
  }
  return {
    rolloutDebounceMs,
    kubeconfig: values.kubeconfig,
    namespace: values.namespace,
    concurrency: Math.floor(positive('concurrency', values.concurrency, 20)),
    logLevel: level,
    metricsAddr: address(values['metrics-addr']),
    kubeQps: positive('kube-qps', values['kube-qps'], 200),
    kubeBurst: Math.floor(positive('kube-burst', values['kube-burst'], 400)),
    providerQps: positive('provider-qps', values['provider-qps'], 20),
    providerBurst: Math.floor(positive('provider-burst', values['provider-burst'], 40)),
    shareWindowMs,
    minRefreshIntervalMs: durationFlag('min-refresh-interval', values['min-refresh-interval'], '10s'),
    forceSyncIntervalMs: durationFlag('force-sync-interval', values['force-sync-interval'], '10s'),
    workloadRollouts: onOff('workload-rollouts', values['workload-rollouts'], false),
    apiAudiences: commaList(values['api-audiences']),
    clusterStores: onOff('cluster-stores', values['cluster-stores'], true),
    clusterExternalSecrets: onOff('cluster-external-secrets', values['cluster-external-secrets'], true),
    namespacedAmbientIdentity: onOff('namespaced-ambient-identity', values['namespaced-ambient-identity'], false),
    namespacedStoreAllowedHosts: commaList(values['namespaced-store-allowed-hosts']),
    leaderElection: values['leader-elect'] ? leaderElectionOf(values, env) : undefined,
    renders: renderConfig(values),
  };
}

/** `a,b, c` → ['a', 'b', 'c']; unset or empty → []. */
function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function onOff(flag: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new ConfigError(`--${flag} must be on or off, got "${value}"`);
}

function durationFlag(flag: string, value: string | undefined, fallback: string): number {
  try {
    return parseDuration(value ?? fallback);
  } catch (err) {
    throw new ConfigError(`--${flag}: ${(err as Error).message}`);
  }
}

function leaderElectionOf(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): LeaderElectionConfig {
  const text = (flag: string) => values[flag] as string | undefined;
  const config: LeaderElectionConfig = {
    namespace: text('leader-elect-namespace') ?? text('namespace') ?? env.POD_NAMESPACE ?? 'default',
    name: text('leader-elect-lease-name') ?? 'ferry-controller',
    identity: defaultIdentity(),
    leaseDurationMs: durationFlag('leader-elect-lease-duration', text('leader-elect-lease-duration'), '15s'),
    renewDeadlineMs: durationFlag('leader-elect-renew-deadline', text('leader-elect-renew-deadline'), '10s'),
    retryPeriodMs: durationFlag('leader-elect-retry-period', text('leader-elect-retry-period'), '2s'),
  };
  const problem = leaderElectionTimingError(config);
  if (problem) throw new ConfigError(`--leader-elect-*: ${problem}`);
  return config;
}

export interface CsiNodeConfig {
  kubeconfig?: string;
  nodeName: string;
  socketPath: string;
  dataDir: string;
  protoDir: string;
  registrationDir?: string;
  logLevel: string;
  metricsAddr: { host: string; port: number } | undefined;
  kubeQps: number;
  kubeBurst: number;
  providerQps: number;
  providerBurst: number;
  shareWindowMs: number;
  minRefreshIntervalMs: number;
  volumeMemoryBytes: number;
  /** SecretStores may authenticate as the plugin itself, i.e. with the node's identity. */
  namespacedAmbientIdentity: boolean;
  /** --namespaced-store-allowed-hosts, as for the controller. */
  namespacedStoreAllowedHosts: string[];
  renders: RenderConfig;
  /** The API server's token audiences besides its published issuer (--api-audiences). */
  apiAudiences: string[];
}

/** Where the image keeps the CSI protocol files; from source, the provisioning cache. */
function defaultProtoDir(env: NodeJS.ProcessEnv): string {
  if (env.FERRY_PROTO_DIR) return env.FERRY_PROTO_DIR;
  const cache = env.FERRY_CACHE ?? join(homedir(), '.cache', 'ferry');
  return join(cache, 'proto', 'csi-v1.12.0');
}

export const CSI_NODE_USAGE = `usage: ferry csi-node [flags]
  --node-name NAME           this node's name (default: $NODE_NAME)
  --endpoint PATH            unix socket the CSI services listen on (default /csi/csi.sock)
  --data-dir DIR             where mounted volumes are recorded across restarts (default /var/lib/ferry-csi)
  --proto-dir DIR            directory with csi.proto and pluginregistration.proto (default: $FERRY_PROTO_DIR,
                             else the provisioning cache ~/.cache/ferry/proto/csi-v1.12.0)
  --registration-dir DIR     register with the kubelet through its plugins_registry directory
                             (e.g. /var/lib/kubelet/plugins_registry), instead of node-driver-registrar
  --kubeconfig PATH          kubeconfig to use (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --log-level LEVEL          trace|debug|info|warn|error (default info)
  --metrics-addr HOST:PORT   serve /metrics, /healthz and /readyz (default :8081; "0" disables)
  --kube-qps N / --kube-burst N          API-server requests (default 20 / 40)
  --provider-qps N / --provider-burst N  provider calls per store (default 20 / 40)
  --shared-read-window DUR   how old a provider read may be and still serve a refresh (default 60s)
  --min-refresh-interval DUR shortest volume refresh; a shorter spec.refreshInterval is raised to it (default 10s)
  --volume-memory SIZE       memory all volumes of this node may take, e.g. 128Mi (default 128Mi): tmpfs pages
                             count against the plugin's own memory limit, so keep the limit at least ~256Mi + SIZE; a mount
                             past it is refused (RESOURCE_EXHAUSTED), a rotation past it keeps the old files
  --namespaced-ambient-identity on|off  let SecretStores (not only ClusterSecretStores) authenticate as the
                             plugin itself, with the node's identity (default off: refused)
  --namespaced-store-allowed-hosts LIST  as for ferry controller: hosts and CIDRs namespaced SecretStores may reach
                             although private, loopback or link-local, or name in endpoint overrides (default none)
  --api-audiences LIST       the API server's --api-audiences, comma-separated, when they differ from its
                             service-account issuer: a SecretStore is never given a token for them
${RENDER_USAGE}`;

export function parseCsiNodeConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): CsiNodeConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'node-name': { type: 'string' },
      endpoint: { type: 'string' },
      'data-dir': { type: 'string' },
      'proto-dir': { type: 'string' },
      'registration-dir': { type: 'string' },
      kubeconfig: { type: 'string' },
      'log-level': { type: 'string' },
      'metrics-addr': { type: 'string' },
      'kube-qps': { type: 'string' },
      'kube-burst': { type: 'string' },
      'provider-qps': { type: 'string' },
      'provider-burst': { type: 'string' },
      'shared-read-window': { type: 'string' },
      'min-refresh-interval': { type: 'string' },
      'volume-memory': { type: 'string' },
      'namespaced-ambient-identity': { type: 'string' },
      'namespaced-store-allowed-hosts': { type: 'string' },
      ...RENDER_OPTIONS,
      'api-audiences': { type: 'string' },
    },
  });
  const nodeName = values['node-name'] ?? env.NODE_NAME;
  if (!nodeName)
    throw new ConfigError('--node-name (or $NODE_NAME) is required: the name of the node this plugin serves');
  const level = values['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(level)) {
    throw new ConfigError(`--log-level must be one of trace, debug, info, warn, error; got "${level}"`);
  }
  let shareWindowMs: number;
  try {
    shareWindowMs = parseDuration(values['shared-read-window'] ?? '60s');
  } catch (err) {
    throw new ConfigError(`--shared-read-window: ${(err as Error).message}`);
  }
  const endpoint = (values.endpoint ?? '/csi/csi.sock').replace(/^unix:\/\//, '');
  if (!endpoint.startsWith('/')) throw new ConfigError(`--endpoint must be an absolute socket path, got "${endpoint}"`);
  return {
    kubeconfig: values.kubeconfig,
    nodeName,
    socketPath: endpoint,
    dataDir: values['data-dir'] ?? '/var/lib/ferry-csi',
    protoDir: values['proto-dir'] ?? defaultProtoDir(env),
    registrationDir: values['registration-dir'],
    logLevel: level,
    metricsAddr: address(values['metrics-addr'] ?? ':8081'),
    kubeQps: positive('kube-qps', values['kube-qps'], 20),
    kubeBurst: Math.floor(positive('kube-burst', values['kube-burst'], 40)),
    providerQps: positive('provider-qps', values['provider-qps'], 20),
    providerBurst: Math.floor(positive('provider-burst', values['provider-burst'], 40)),
    shareWindowMs,
    minRefreshIntervalMs: durationFlag('min-refresh-interval', values['min-refresh-interval'], '10s'),
    volumeMemoryBytes: byteSize('volume-memory', values['volume-memory'], 128 * 1024 ** 2),
    namespacedAmbientIdentity: onOff('namespaced-ambient-identity', values['namespaced-ambient-identity'], false),
    namespacedStoreAllowedHosts: commaList(values['namespaced-store-allowed-hosts']),
    renders: renderConfig(values),
    apiAudiences: commaList(values['api-audiences']),
  };
}
