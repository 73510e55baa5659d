// Flags → one validated Config for `ferry controller`. Nothing else reads process.env for settings.
import { parseArgs } from 'node:util';
import { parseDuration } from './api/duration.ts';

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
}

export const CONTROLLER_USAGE = `usage: ferry controller [flags]
  --kubeconfig PATH          kubeconfig to use (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --namespace NS             watch ExternalSecrets, SecretStores and Secrets of one namespace only
  --concurrency N            reconciles running at once (default 10)
  --log-level LEVEL          trace|debug|info|warn|error (default info)
  --metrics-addr HOST:PORT   serve /metrics, /healthz and /readyz (default :8080; "0" disables)
  --kube-qps N               API-server requests per second (default 50)
  --kube-burst N             API-server request burst (default 100)
  --provider-qps N           provider calls per second per store (default 20)
  --provider-burst N         provider call burst per store (default 40)
  --shared-read-window DUR   how old a provider read may be and still serve a refresh (default 60s)`;

export class ConfigError extends Error {}

function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${flag} must be a positive number, got "${value}"`);
  return n;
}

function address(value: string | undefined): Config['metricsAddr'] {
  if (value === '0' || value === '') return undefined;
  const text = value ?? ':8080';
  const match = /^(.*):(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new ConfigError(`--metrics-addr must be HOST:PORT or :PORT, got "${text}"`);
  return { host: match[1] || '0.0.0.0', port };
}

export function parseControllerConfig(argv: string[]): Config {
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
    },
  });
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
  return {
    kubeconfig: values.kubeconfig,
    namespace: values.namespace,
    concurrency: Math.floor(positive('concurrency', values.concurrency, 10)),
    logLevel: level,
    metricsAddr: address(values['metrics-addr']),
    kubeQps: positive('kube-qps', values['kube-qps'], 50),
    kubeBurst: Math.floor(positive('kube-burst', values['kube-burst'], 100)),
    providerQps: positive('provider-qps', values['provider-qps'], 20),
    providerBurst: Math.floor(positive('provider-burst', values['provider-burst'], 40)),
    shareWindowMs,
  };
}
