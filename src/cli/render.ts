// `ferry render EXTERNALSECRET.yaml --store STORE.yaml [--store …] [--show-values]`: renders one
// ExternalSecret offline — no cluster — against store manifests: the provider is read with the
// stores' credentials through the same read pipeline the controller and the CSI plugin use (every
// store an item names, ClusterSecretStore conditions, remoteKeyPolicy, shared reads, render, the
// target template), then printed as the Secret the controller would write. Values print as
// [redacted] unless --show-values.
//
// Files may hold ESO (external-secrets.io/v1, v1beta1) or Ferry manifests, several per file.
// Secrets, ConfigMaps and Namespaces in any of them stand in for the cluster: credentials the
// stores refer to, templateFrom sources, and the labels ClusterSecretStore conditions select on. A ServiceAccount token cannot be had offline; a store that needs one
// (Kubernetes, JWT or workload identity auth) says so. The environment's own identity (AWS, Google
// or Azure default credentials) works as for the controller.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { V1ConfigMap, V1Namespace, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import type { AnyStore, ClusterSecretStore, ExternalSecret, SecretStore } from '../api/v1alpha1/types.ts';
import { type ErrorCode, FerryError, unreachable } from '../errors.ts';
import { convertDocument, isEsoObject } from '../migrate/convert.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { ReadPipeline } from '../pipeline/index.ts';
import { settingsOf } from '../pipeline/settings.ts';
import { StoreClients } from '../pipeline/store-clients.ts';
import { kubeTemplateSources } from '../pipeline/target-template.ts';
import { SharedReads } from '../providers/shared-reads.ts';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNSUPPORTED = 3;

const USAGE = `usage: ferry render EXTERNALSECRET.yaml --store STORE.yaml [--store FILE]... [--name NAME] [--namespace NS] [--show-values]
  Renders one ExternalSecret offline against a store manifest and prints the Secret Ferry would write.
  ESO or Ferry manifests; Secrets and ConfigMaps in any given file stand in for the cluster's.
  --name NAME        the ExternalSecret to render when the file holds several
  --namespace NS     namespace of the ExternalSecret when its manifest names none (default: default)
  --show-values      print the values (base64, as in a Secret) instead of [redacted]
  Exit: 0 rendered, 1 provider, store or template error, 3 the manifest uses fields Ferry does not support.`;

class UsageError extends Error {}
class UnsupportedError extends Error {}

interface Loaded {
  externalSecrets: ExternalSecret[];
  stores: AnyStore[];
  secrets: V1Secret[];
  configMaps: V1ConfigMap[];
  serviceAccounts: V1ServiceAccount[];
  namespaces: V1Namespace[];
}

async function load(files: string[]): Promise<Loaded> {
  const out: Loaded = {
    externalSecrets: [],
    stores: [],
    secrets: [],
    configMaps: [],
    serviceAccounts: [],
    namespaces: [],
  };
  for (const file of files) {
    for (const [i, doc] of parseAllDocuments(await readFile(file, 'utf8')).entries()) {
      if (doc.errors.length > 0) throw new UsageError(`${file}#${i + 1}: not valid YAML: ${doc.errors[0]?.message}`);
      let value = doc.toJS() as Record<string, unknown> | null;
      if (!value || typeof value !== 'object') continue;
      if (isEsoObject(value)) {
        const c = convertDocument(value);
        const unsupported = c.kind === 'other' ? [] : c.unsupported;
        if (unsupported.length > 0) {
          throw new UnsupportedError(
            `${file}#${i + 1} ${value.kind}: Ferry does not support ${unsupported.map((u) => `${u.path} (${u.reason})`).join(', ')}`,
          );
        }
        if (c.kind === 'converted') value = c.object;
      }
      switch (value.kind) {
        case 'ExternalSecret':
          out.externalSecrets.push(value as unknown as ExternalSecret);
          break;
        case 'SecretStore':
        case 'ClusterSecretStore':
          out.stores.push(value as unknown as AnyStore);
          break;
        case 'Secret':
          out.secrets.push(value as V1Secret);
          break;
        case 'ConfigMap':
          out.configMaps.push(value as V1ConfigMap);
          break;
        case 'ServiceAccount':
          out.serviceAccounts.push(value as V1ServiceAccount);
          break;
        case 'Namespace':
          out.namespaces.push(value as V1Namespace);
          break;
      }
    }
  }
  return out;
}

/** Secret data as the API server would store it: stringData folded into base64 data. */
function secretData(s: V1Secret): Record<string, string> {
  const data = { ...(s.data ?? {}) };
  for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = Buffer.from(v).toString('base64');
  return data;
}

function find<T extends { metadata?: { name?: string; namespace?: string } }>(
  list: T[],
  namespace: string,
  name: string,
): T | undefined {
  return list.find((o) => o.metadata?.name === name && (o.metadata?.namespace ?? namespace) === namespace);
}

/** The Kubernetes reads StoreClients and templateFrom make, answered from the local manifests. */
function localCluster(loaded: Loaded) {
  return {
    async readSecret(namespace: string, name: string) {
      const s = find(loaded.secrets, namespace, name);
      return s ? { ...s, data: secretData(s) } : undefined;
    },
    async readConfigMap(namespace: string, name: string) {
      return find(loaded.configMaps, namespace, name);
    },
    async readServiceAccount(namespace: string, name: string) {
      return find(loaded.serviceAccounts, namespace, name);
    },
    async requestToken(namespace: string, name: string): Promise<string> {
      throw new Error(
        `a token for ServiceAccount ${namespace}/${name} cannot be requested offline; render needs a store whose credentials are in a Secret (or the environment)`,
      );
    },
  };
}

export async function renderOffline(
  esFile: string,
  storeFiles: string[],
  opts: { name?: string; namespace?: string; showValues?: boolean } = {},
): Promise<{ secret: Record<string, unknown> }> {
  const loaded = await load([esFile, ...storeFiles]);
  const candidates = loaded.externalSecrets.filter((e) => !opts.name || e.metadata.name === opts.name);
  if (candidates.length !== 1) {
    const names = loaded.externalSecrets.map((e) => e.metadata.name).join(', ') || 'none';
    throw new UsageError(
      `${opts.name ? `no ExternalSecret "${opts.name}"` : 'give --name: not exactly one ExternalSecret'} in the files (found: ${names})`,
    );
  }
  const given = candidates[0] as ExternalSecret;
  const namespace = given.metadata.namespace ?? opts.namespace ?? 'default';
  const es: ExternalSecret = { ...given, metadata: { ...given.metadata, namespace } };
  // Manifests without a namespace are applied into the ExternalSecret's, as `kubectl apply -n` would.
  for (const s of loaded.stores) {
    if (s.kind === 'SecretStore' && !s.metadata.namespace) s.metadata = { ...s.metadata, namespace };
  }
  const cluster = localCluster(loaded);
  const metrics = new Metrics();
  const abort = new AbortController();
  const reads = new SharedReads({ metrics, signal: abort.signal });
  const clients = new StoreClients({
    kube: cluster,
    sharedReads: reads,
    logger: createLogger('silent'),
    metrics,
    providerQps: 10,
    providerBurst: 20,
    // Run by a person or a pipeline on its own machine: the identity it has is its own to use.
    namespacedAmbientIdentity: true,
    // Run by a person with their own credentials, on stores they chose: nothing to guard against.
    namespacedStoreAllowList: undefined,
  });
  const pipeline = new ReadPipeline({
    stores: {
      secretStore: (ns, name) =>
        find(
          loaded.stores.filter((s): s is SecretStore => s.kind === 'SecretStore'),
          ns,
          name,
        ),
      clusterSecretStore: (name) =>
        loaded.stores.find((s): s is ClusterSecretStore => s.kind === 'ClusterSecretStore' && s.metadata.name === name),
      namespaceLabels: async (ns) => loaded.namespaces.find((n) => n.metadata?.name === ns)?.metadata?.labels ?? {},
    },
    clients,
    reads,
    shareWindowMs: 0,
  });
  try {
    const { rendered } = await pipeline.read(es, { sources: kubeTemplateSources(cluster, namespace) });
    const settings = settingsOf(es);
    const data: Record<string, string> = {};
    for (const [key, value] of [...rendered.data].sort(([a], [b]) => a.localeCompare(b))) {
      data[key] = opts.showValues ? value.reveal().toString('base64') : '[redacted]';
    }
    const metadata: Record<string, unknown> = { name: settings.targetName, namespace };
    if (Object.keys(rendered.labels).length > 0) metadata.labels = rendered.labels;
    if (Object.keys(rendered.annotations).length > 0) metadata.annotations = rendered.annotations;
    const secret: Record<string, unknown> = { apiVersion: 'v1', kind: 'Secret', metadata, type: settings.type };
    if (settings.immutable) secret.immutable = true;
    secret.data = data;
    return { secret };
  } finally {
    abort.abort();
    await clients.closeAll();
  }
}

/** Every failure of the read is a failed render, whatever its class. */
function exitCodeOf(code: ErrorCode): number {
  switch (code) {
    case 'NotFound':
    case 'Denied':
    case 'Throttled':
    case 'Invalid':
    case 'Transient':
    case 'InvalidSpec':
    case 'BadReference':
    case 'TenancyDenied':
    case 'Render':
    case 'TemplateSource':
    case 'TargetConflict':
    case 'FileLayout':
    case 'UnsafeEntry':
    case 'BadRequest':
    case 'Untrusted':
    case 'OverBudget':
      return EXIT_FAILED;
    default:
      return unreachable(code);
  }
}

export const command = {
  summary: 'render one ExternalSecret offline against a store manifest (values redacted)',
  async run(argv: string[]): Promise<number> {
    let values: { store?: string[]; name?: string; namespace?: string; 'show-values'?: boolean; help?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          store: { type: 'string', multiple: true },
          name: { type: 'string' },
          namespace: { type: 'string' },
          'show-values': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const [esFile, ...more] = positionals;
    if (!esFile || more.length > 0) {
      process.stderr.write(`${USAGE}\n`);
      return EXIT_USAGE;
    }
    try {
      const { secret } = await renderOffline(esFile, values.store ?? [], {
        name: values.name,
        namespace: values.namespace,
        showValues: values['show-values'],
      });
      process.stdout.write(stringify(secret, { lineWidth: 0 }));
      return 0;
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`error: ${err.message}\n`);
        return EXIT_USAGE;
      }
      if (err instanceof UnsupportedError) {
        process.stderr.write(`unsupported: ${err.message}\n`);
        return EXIT_UNSUPPORTED;
      }
      if (err instanceof FerryError) {
        process.stderr.write(`error: ${err.message}\n`);
        return exitCodeOf(err.code);
      }
      // Unreadable files and errors outside the pipeline's classes; providers and templates wrap their
      // own errors (ProviderError, RenderError) so that none carries a value.
      process.stderr.write(`error: ${(err as Error).message}\n`);
      return EXIT_FAILED;
    }
  },
};
