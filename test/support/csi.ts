// Runs the CSI node plugin in the test process and talks to it as kubelet does: NodePublishVolume
// with the pod's volume context and ServiceAccount tokens minted by the real API server.

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { CoreV1Api, type KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import pino from 'pino';
import type { RenderPoolOptions } from '../../src/pipeline/render-pool.ts';
import { CsiPlugin } from '../../src/sinks/csi/csi-plugin.ts';
import { loadCsiServices } from '../../src/sinks/csi/protocol.ts';
import type { KubeAccess } from '../testbed/kube-apiserver.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../testbed/loopback-servers.ts';
import { cacheDir } from '../testbed/tools.ts';
import { keepEmitted } from './emitted.ts';
import { chartCsiDriver } from './helm.ts';
import { kubeConfigFor } from './kubeconfig.ts';
import { testbed } from './testbed.ts';

export const PROTO_DIR = join(cacheDir(), 'proto', 'csi-v1.12.0');

/** The project of the bed's stand-in Google Workload Identity pool. */
export const GCP_TEST_PROJECT = 'ferry-test';

/** The chart's default token audiences, and the Workload Identity pool's, as a platform team would add it. */
export const CSI_TEST_TOKEN_REQUESTS = [
  { audience: 'vault', expirationSeconds: 3600 },
  { audience: 'sts.amazonaws.com', expirationSeconds: 3600 },
  { audience: 'api://AzureADTokenExchange', expirationSeconds: 3600 },
  { audience: `${GCP_TEST_PROJECT}.svc.id.goog`, expirationSeconds: 3600 },
];

/**
 * The cluster-wide CSIDriver csi.ferry.dev every CSI test of the shared bed uses: the chart's,
 * with the test token audiences. Created by the first test file that needs it.
 */
export async function ensureCsiDriver(kc: KubeConfig): Promise<void> {
  const body = await chartCsiDriver({ tokenRequests: CSI_TEST_TOKEN_REQUESTS });
  await kc
    .makeApiClient(StorageV1Api)
    .createCSIDriver({ body })
    .catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
}

export interface RunningPlugin {
  plugin: CsiPlugin;
  logs: string[];
  socket: string;
  dataDir: string;
  node: Client;
  identity: Client;
  stop(): Promise<void>;
}

export async function startPlugin(
  access: KubeAccess,
  dir: string,
  opts: {
    dataDir?: string;
    registrationDir?: string;
    nodeName?: string;
    volumeMemoryBytes?: number;
    /** SecretStores may authenticate as the plugin itself (the admin's opt-in; default off). */
    namespacedAmbientIdentity?: boolean;
    /** Default: the bed's loopback servers (BED_LOOPBACK_ALLOWED_HOSTS); [] to prove the egress rule. */
    namespacedStoreAllowedHosts?: readonly string[];
    /** Who the plugin is (default: the bed's admin); the caller then sees to the CSIDriver. */
    kubeConfig?: KubeConfig;
    /** Return at once instead of waiting for the plugin to be ready (it may never be). */
    waitReady?: boolean;
    /** --api-audiences: audiences the plugin takes for the API server's own. */
    apiAudiences?: string[];
    /** --render-workers / --render-timeout (default: the plugin's own). */
    renders?: RenderPoolOptions;
  } = {},
): Promise<RunningPlugin> {
  await mkdir(dir, { recursive: true });
  if (!opts.kubeConfig) await ensureCsiDriver(kubeConfigFor(access));
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(line) });
  const socket = join(dir, `csi-${randomBytes(3).toString('hex')}.sock`);
  const dataDir = opts.dataDir ?? join(dir, 'data');
  const plugin = new CsiPlugin(
    opts.kubeConfig ?? kubeConfigFor(access),
    {
      nodeName: opts.nodeName ?? 'test-node',
      socketPath: socket,
      dataDir,
      protoDir: PROTO_DIR,
      registrationDir: opts.registrationDir,
      kubeQps: 200,
      kubeBurst: 400,
      providerQps: 100,
      providerBurst: 200,
      shareWindowMs: 60_000,
      volumeMemoryBytes: opts.volumeMemoryBytes ?? 128 * 1024 * 1024,
      namespacedAmbientIdentity: opts.namespacedAmbientIdentity,
      namespacedStoreAllowedHosts: opts.namespacedStoreAllowedHosts ?? BED_LOOPBACK_ALLOWED_HOSTS,
      apiAudiences: opts.apiAudiences,
      renders: opts.renders,
      version: 'test',
    },
    logger,
  );
  const ac = new AbortController();
  const done = plugin.run(ac.signal);
  const deadline = Date.now() + 30_000;
  while (opts.waitReady !== false && !plugin.ready) {
    if (Date.now() > deadline) throw new Error(`CSI plugin did not start:\n${logs.slice(-20).join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const { clients } = loadCsiServices(PROTO_DIR);
  const make = (ctor: unknown) =>
    new (ctor as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client)(
      `unix://${socket}`,
      credentials.createInsecure(),
    );
  const node = make(clients.Node);
  const identity = make(clients.Identity);
  return {
    plugin,
    logs,
    socket,
    dataDir,
    node,
    identity,
    async stop() {
      node.close();
      identity.close();
      ac.abort();
      await done;
      keepEmitted(testbed().runDir, 'csi-plugin', logs);
    },
  };
}

/** One unary call through a grpc-js client; rejects with the ServiceError (code, details). */
export function call<T = Record<string, unknown>>(client: Client, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: unknown, cb: (e: ServiceError | null, r: T) => void) => void>)[
      method
    ];
    if (!fn) throw new Error(`no method ${method}`);
    fn.call(client, request, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export interface PodLike {
  namespace: string;
  name: string;
  serviceAccount: string;
  uid?: string;
}

/** The volume context kubelet sends for an inline volume, with tokens for `audiences`. */
export async function kubeletContext(
  access: KubeAccess,
  pod: PodLike,
  externalSecret: string,
  audiences: string[] = [],
): Promise<Record<string, string>> {
  const core = kubeConfigFor(access).makeApiClient(CoreV1Api);
  const tokens: Record<string, { token: string; expirationTimestamp: string }> = {};
  for (const audience of audiences) {
    const res = await core.createNamespacedServiceAccountToken({
      namespace: pod.namespace,
      name: pod.serviceAccount,
      body: { spec: { audiences: audience ? [audience] : [], expirationSeconds: 3600 } },
    });
    tokens[audience] = {
      token: res.status?.token ?? '',
      expirationTimestamp: new Date(res.status?.expirationTimestamp ?? Date.now() + 3_600_000).toISOString(),
    };
  }
  const context: Record<string, string> = {
    externalSecret,
    'csi.storage.k8s.io/pod.name': pod.name,
    'csi.storage.k8s.io/pod.namespace': pod.namespace,
    'csi.storage.k8s.io/pod.uid': pod.uid ?? randomBytes(8).toString('hex'),
    'csi.storage.k8s.io/serviceAccount.name': pod.serviceAccount,
    'csi.storage.k8s.io/ephemeral': 'true',
  };
  if (audiences.length > 0) context['csi.storage.k8s.io/serviceAccount.tokens'] = JSON.stringify(tokens);
  return context;
}

/** A NodePublishVolumeRequest as kubelet builds it for an inline ephemeral volume. */
export function publishRequest(
  volumeId: string,
  targetPath: string,
  context: Record<string, string>,
  gid?: number,
  readonly = true,
) {
  return {
    volume_id: volumeId,
    target_path: targetPath,
    volume_capability: {
      mount: { fs_type: '', mount_flags: [], volume_mount_group: gid === undefined ? '' : String(gid) },
      access_mode: { mode: 'SINGLE_NODE_WRITER' },
    },
    readonly,
    volume_context: context,
  };
}
