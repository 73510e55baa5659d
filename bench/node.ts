// Benchmark of the test bed's real node: how long the node takes to start, how long a value
// changed at the provider (moto) takes to appear inside a running pod's mounted file, and what
// the kubelet and containerd cost in memory. Figures only; nothing here passes or fails.
import { readdirSync, readFileSync } from 'node:fs';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { Controller } from '../src/controller/controller.ts';
import { startTestBed } from '../test/testbed/bed.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../test/testbed/loopback-servers.ts';
import { fields, NodeApps } from '../test/testbed/node/apps.ts';
import { type NodeInfo, startNode } from '../test/testbed/node/node.ts';
import { loadPki } from '../test/testbed/pki.ts';

const ROTATIONS = Number(process.env.BENCH_ROTATIONS ?? 5);
const NODE_STARTS = Number(process.env.BENCH_NODE_STARTS ?? 3);
const REFRESH = '1s';
const NAMESPACE = 'bench-node';

const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(50)} ${value}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** Pids of the containerd shims serving this node (one per pod). */
function shimPids(node: NodeInfo): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const argv = readCmdline(entry);
    if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.some((a) => a.startsWith(node.dir)))
      pids.push(Number(entry));
  }
  return pids;
}

function readCmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  process.stdout.write('Ferry node benchmark: kubelet + containerd + kube-controller-manager + kube-scheduler\n');
  const bed = await startTestBed({ moto: true, node: true });
  const stop = new AbortController();
  let controllerDone: Promise<void> | undefined;
  let node = bed.node;
  try {
    if (!node) throw new Error(`the node did not start: ${bed.info.nodeError}`);
    const starts = [node.info.startMs];
    for (let i = 1; i < NODE_STARTS; i++) {
      await node.stop();
      node = await startNode({ runDir: bed.info.runDir, pki: await loadPki(bed.info.pkiDir), kube: bed.info.kube });
      starts.push(node.info.startMs);
    }
    const running = node;
    const aws = bed.info.aws;
    if (!aws) throw new Error('the bed started without moto');

    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    await installCrds(kc);
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = aws.endpoint;
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    const controller = new Controller(
      kc,
      {
        concurrency: 10,
        kubeQps: 50,
        kubeBurst: 100,
        providerQps: 20,
        providerBurst: 40,
        shareWindowMs: 0,
        namespacedStoreAllowedHosts: BED_LOOPBACK_ALLOWED_HOSTS,
      },
      pino({ level: 'warn' }),
    );
    controllerDone = controller.run(stop.signal);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    const apps = new NodeApps(kc, NAMESPACE, running.info);
    await apps.waitForDefaultServiceAccount();

    const sm = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    });
    await sm.send(new CreateSecretCommand({ Name: 'bench/rotating', SecretString: 'v0' }));
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: 'aws-creds' }, stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey } },
    });
    const group = { group: 'ferry.dev', version: 'v1alpha1', namespace: NAMESPACE };
    await custom.createNamespacedCustomObject({
      ...group,
      plural: 'secretstores',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'SecretStore',
        metadata: { name: 'aws' },
        spec: {
          provider: {
            aws: {
              region: aws.region,
              auth: {
                secretRef: {
                  accessKeyIDSecretRef: { name: 'aws-creds', key: 'id' },
                  secretAccessKeySecretRef: { name: 'aws-creds', key: 'secret' },
                },
              },
            },
          },
        },
      },
    });
    await custom.createNamespacedCustomObject({
      ...group,
      plural: 'externalsecrets',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'ExternalSecret',
        metadata: { name: 'rotating' },
        spec: {
          secretStoreRef: { name: 'aws' },
          refreshInterval: REFRESH,
          data: [{ secretKey: 'v', remoteRef: { key: 'bench/rotating' } }],
        },
      },
    });
    await apps.deployment('reader', {
      mounts: { rotating: '/etc/app' },
      script: 'while true; do echo "value=$(cat /etc/app/v 2>/dev/null)"; sleep 0.05; done',
    });
    const podStart = Date.now();
    await apps.waitForLine('reader', (l) => fields(l).value === 'v0', 'the pod to print v0');
    const firstPodMs = Date.now() - podStart;

    const toSecret: number[] = [];
    const toPod: number[] = [];
    for (let i = 1; i <= ROTATIONS; i++) {
      const value = `v${i}`;
      const t0 = Date.now();
      await sm.send(new PutSecretValueCommand({ SecretId: 'bench/rotating', SecretString: value }));
      const inSecret = (async () => {
        for (;;) {
          const s = await core.readNamespacedSecret({ namespace: NAMESPACE, name: 'rotating' });
          if (Buffer.from(s.data?.v ?? '', 'base64').toString() === value) return Date.now() - t0;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await apps.waitForLine('reader', (l) => fields(l).value === value, `the pod to print ${value}`);
      toPod.push(Date.now() - t0);
      toSecret.push(await inSecret);
    }

    const pids = running.info.pids;
    const shims = shimPids(running.info);
    const pods = (await core.listPodForAllNamespaces()).items.filter((p) => p.status?.phase === 'Running').length;

    process.stdout.write(`\nNode start (${starts.length} starts; binaries cached, images imported each time)\n`);
    line('start to Node Ready, median', seconds(median(starts.map((s) => s.total))));
    line('start to Node Ready, each', starts.map((s) => seconds(s.total)).join(', '));
    line('  controller-manager + scheduler healthy', seconds(median(starts.map((s) => s.controllers))));
    line('  containerd up + images imported', seconds(median(starts.map((s) => s.runtime))));
    line('  kubelet start to Node Ready', seconds(median(starts.map((s) => s.kubeletToReady))));
    line('first pod printing the synced value (from create)', seconds(firstPodMs));
    process.stdout.write(
      `\nProvider change to new value inside a running pod (${ROTATIONS} rotations; refreshInterval ${REFRESH}, kubelet syncFrequency ${running.info.kubeletSyncFrequency})\n`,
    );
    line('to the Secret (API), median / max', `${seconds(median(toSecret))} / ${seconds(Math.max(...toSecret))}`);
    line('to the mounted file in the pod, median / max', `${seconds(median(toPod))} / ${seconds(Math.max(...toPod))}`);
    process.stdout.write(`\nMemory (RSS, ${pods} running pod${pods === 1 ? '' : 's'})\n`);
    line('kubelet', `${rssMiB(pids.kubelet).toFixed(0)} MiB`);
    line('containerd', `${rssMiB(pids.containerd).toFixed(0)} MiB`);
    line(`containerd shims (${shims.length})`, `${shims.reduce((sum, p) => sum + rssMiB(p), 0).toFixed(0)} MiB`);
    line('kube-controller-manager', `${rssMiB(pids.controllerManager).toFixed(0)} MiB`);
    line('kube-scheduler', `${rssMiB(pids.scheduler).toFixed(0)} MiB`);
  } finally {
    stop.abort();
    await controllerDone;
    // The node running now may be a restarted one the bed does not know; it goes first.
    await node?.stop();
    await bed.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`node benchmark failed: ${String(err)}\n`);
  process.exitCode = 1;
});
