// Soak: the controller as its own process for hours against the test bed, with churn (ExternalSecrets
// created and deleted, remote values rotated every couple of seconds) and provider faults injected
// by a proxy in front of moto on a schedule. Every interval it prints the controller's RSS, open
// file descriptors, work-queue depth, syncs and the latency from a rotation at the provider to the
// Secret holding the new value. It counts Secrets lost (deleted while their ExternalSecret exists)
// or blanked, and exits 1 if there is any. Figures only otherwise: nothing here times a pass.
//
// It runs the production bundle (dist/ferry/main.js; `npm run soak` builds it first, and
// FERRY_SOAK_MAIN points elsewhere, e.g. at a copy, so a rebuild cannot touch a running soak).
//
//   npm run soak -- --hours 2            (defaults: 200 ExternalSecrets, 20 keys, report every 60 s)
//   npm run soak -- --minutes 5 --objects 100 --interval 20
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Secret, Watch } from '@kubernetes/client-node';
import { createAwsStore } from '../test/testbed/aws-store.ts';
import { startTestBed } from '../test/testbed/bed.ts';
import { ChaosProxy, type Fault } from '../test/testbed/chaos-proxy.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { freePort } from '../test/testbed/ports.ts';
import { metric } from './sync-support.ts';

const { values: args } = parseArgs({
  options: {
    hours: { type: 'string' },
    minutes: { type: 'string' },
    objects: { type: 'string', default: '200' },
    keys: { type: 'string', default: '20' },
    interval: { type: 'string', default: '60' },
    faults: { type: 'string', default: 'on' },
  },
});
const DURATION_MS = (args.minutes ? Number(args.minutes) : Number(args.hours ?? 2) * 60) * 60_000;
const OBJECTS = Number(args.objects);
const KEYS = Number(args.keys);
const INTERVAL_MS = Number(args.interval) * 1000;
const FAULTS = args.faults !== 'off';
if (![DURATION_MS, OBJECTS, KEYS, INTERVAL_MS].every((n) => Number.isFinite(n) && n > 0)) {
  process.stderr.write('usage: npm run soak -- [--hours H | --minutes M] [--objects N] [--keys K] [--interval S]\n');
  process.exit(2);
}
const NAMESPACE = 'soak';
const group = { group: 'ferry.dev', version: 'v1alpha1' };

/** A fault every sixth of the run (at least every minute, at most every 10), 20 s each, in turn. */
const FAULT_EVERY_MS = Math.min(10 * 60_000, Math.max(60_000, DURATION_MS / 6));
const FAULT_MS = 20_000;
const FAULTS_IN_TURN: [string, Fault][] = [
  [
    'unavailable',
    {
      kind: 'status',
      status: 503,
      body: '{"__type":"ServiceUnavailable"}',
      headers: { 'x-amzn-errortype': 'ServiceUnavailable' },
    },
  ],
  ['reset', { kind: 'reset' }],
  [
    'throttled',
    {
      kind: 'status',
      status: 400,
      body: '{"__type":"ThrottlingException"}',
      headers: { 'x-amzn-errortype': 'ThrottlingException', 'retry-after': '3' },
    },
  ],
  ['hang', { kind: 'hang' }],
  ['slow', { kind: 'slow', delayMs: 2000 }],
];

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const pct = (sorted: number[], p: number) =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) : Number.NaN;

async function main(): Promise<void> {
  process.stdout.write(
    `Ferry soak: ${(DURATION_MS / 60_000).toFixed(0)} min, ${OBJECTS} ExternalSecrets over ${KEYS} AWS keys (moto), churn every 2 s, faults ${FAULTS ? `every ${FAULT_EVERY_MS / 1000} s for ${FAULT_MS / 1000} s` : 'off'}\n`,
  );
  const bed = await startTestBed({ moto: true });
  let child: ReturnType<typeof spawn> | undefined;
  let proxy: ChaosProxy | undefined;
  const stops: (() => void)[] = [];
  try {
    const aws = bed.info.aws;
    if (!aws) throw new Error('no moto');
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await installCrds(kc);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    const sm = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    });
    /** The latest value of each key and when it was written. */
    const latest = new Map<string, { value: string; at: number }>();
    for (let k = 0; k < KEYS; k++) {
      await sm.send(new CreateSecretCommand({ Name: `soak/k${k}`, SecretString: 'v0' }));
      latest.set(`soak/k${k}`, { value: 'v0', at: Date.now() });
    }
    await createAwsStore(kc, NAMESPACE, aws);

    proxy = await ChaosProxy.start(aws.endpoint);
    const port = await freePort();
    child = spawn(
      process.execPath,
      [
        // What the image runs: the bundle, with its node flags and allocator setting (below).
        '--max-semi-space-size=4',
        '--optimize-for-size',
        process.env.FERRY_SOAK_MAIN ?? 'dist/ferry/main.js',
        'controller',
        '--kubeconfig',
        bed.info.kube.kubeconfigPath,
        '--namespace',
        NAMESPACE,
        '--metrics-addr',
        `127.0.0.1:${port}`,
        '--log-level',
        'error',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.url,
          AWS_ENDPOINT_URL_STS: proxy.url,
          AWS_EC2_METADATA_DISABLED: 'true',
          MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
        },
      },
    );
    const pid = child.pid ?? 0;
    const scrape = () =>
      fetch(`http://127.0.0.1:${port}/metrics`)
        .then((r) => r.text())
        .catch(() => '');

    // Which key each ExternalSecret reads; the watch turns Secret updates into latencies.
    const keyOf = new Map<string, string>();
    const latencies: number[] = [];
    let lost = 0;
    let blanked = 0;
    let seq = 0;
    const watch = new Watch(kc);
    // The API server ends a watch after its request timeout (30-60 min by default): watch again
    // from where it ended, so latencies and lost/blanked counts cover the whole run.
    let resourceVersion: string | undefined;
    let watching = true;
    let rewatches = 0;
    let req: { abort(): void } | undefined;
    const startWatch = async (): Promise<void> => {
      req = await watch.watch(
        `/api/v1/namespaces/${NAMESPACE}/secrets`,
        { labelSelector: 'ferry.dev/managed=true', ...(resourceVersion ? { resourceVersion } : {}) },
        onSecret,
        (err: unknown) => {
          if (!watching) return;
          rewatches++;
          // An error (410 Gone, the server away) starts again from now; a plain end resumes.
          if (err) resourceVersion = undefined;
          const again = () => void startWatch().catch(() => setTimeout(again, 1000));
          setTimeout(again, 200);
        },
      );
    };
    function onSecret(type: string, s: V1Secret): void {
      resourceVersion = s.metadata?.resourceVersion ?? resourceVersion;
      const name = s.metadata?.name ?? '';
      const key = keyOf.get(name);
      if (type === 'DELETED' && key) lost++;
      if (type === 'DELETED' || !key) return;
      const raw = s.data?.v;
      if (!raw) {
        blanked++;
        return;
      }
      const want = latest.get(key);
      if (want && Buffer.from(raw, 'base64').toString() === want.value) latencies.push(Date.now() - want.at);
    }
    await startWatch();
    stops.push(() => {
      watching = false;
      req?.abort();
    });

    const create = async (n: number) => {
      const name = `es-${n}`;
      const key = `soak/k${n % KEYS}`;
      keyOf.set(name, key);
      await custom.createNamespacedCustomObject({
        ...group,
        namespace: NAMESPACE,
        plural: 'externalsecrets',
        body: {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'ExternalSecret',
          metadata: { name },
          spec: {
            secretStoreRef: { name: 'aws' },
            refreshInterval: '15s',
            target: { deletionPolicy: 'Retain' },
            data: [{ secretKey: 'v', remoteRef: { key } }],
          },
        },
      });
    };
    const remove = async (n: number) => {
      const name = `es-${n}`;
      // Forget it first: its Secret is garbage-collected with it, which is no loss.
      keyOf.delete(name);
      await custom.deleteNamespacedCustomObject({ ...group, namespace: NAMESPACE, plural: 'externalsecrets', name });
      await core.deleteNamespacedSecret({ namespace: NAMESPACE, name }).catch(() => {});
    };
    let oldest = 0;
    let next = 0;
    for (; next < OBJECTS; next++) await create(next);

    const started = Date.now();
    let fault = 'none';
    let faultIndex = 0;
    let nextFault = started + FAULT_EVERY_MS;
    let nextReport = started + INTERVAL_MS;
    let syncsBefore = 0;
    const samples: { rss: number; fds: number }[] = [];
    process.stdout.write(
      '  minute   RSS MiB   FDs  queue  objects  syncs  rotation→Secret p50 / p99   fault        lost blanked\n',
    );
    while (Date.now() - started < DURATION_MS) {
      await new Promise((r) => setTimeout(r, 2000));
      const now = Date.now();
      // Churn: rotate one key, replace one ExternalSecret.
      const key = `soak/k${seq % KEYS}`;
      const value = `v${++seq}`;
      await sm.send(new PutSecretValueCommand({ SecretId: key, SecretString: value }));
      latest.set(key, { value, at: Date.now() });
      await remove(oldest++);
      await create(next++);
      if (FAULTS && now >= nextFault) {
        const [name, f] = FAULTS_IN_TURN[faultIndex++ % FAULTS_IN_TURN.length] as [string, Fault];
        fault = name;
        proxy.set(f);
        nextFault = now + FAULT_EVERY_MS;
        setTimeout(() => {
          proxy?.set({ kind: 'pass' });
          fault = 'none';
        }, FAULT_MS);
      }
      if (now >= nextReport) {
        nextReport = now + INTERVAL_MS;
        const text = await scrape();
        const syncs = metric(text, 'ferry_reconcile_total');
        const sorted = latencies.splice(0).sort((a, b) => a - b);
        const sample = { rss: rssMiB(pid), fds: fds(pid) };
        samples.push(sample);
        process.stdout.write(
          `  ${((now - started) / 60_000).toFixed(1).padStart(6)}  ${sample.rss.toFixed(0).padStart(8)}  ${String(sample.fds).padStart(4)}  ${String(metric(text, 'ferry_queue_depth')).padStart(5)}  ${String(keyOf.size).padStart(7)}  ${String(syncs - syncsBefore).padStart(5)}  ${`${(pct(sorted, 0.5) / 1000).toFixed(1)} s / ${(pct(sorted, 0.99) / 1000).toFixed(1)} s`.padStart(25)}   ${fault.padEnd(11)}  ${String(lost).padStart(4)} ${String(blanked).padStart(7)}\n`,
        );
        syncsBefore = syncs;
      }
    }
    const first = samples[0];
    const last = samples.at(-1);
    const maxRss = Math.max(...samples.map((s) => s.rss));
    process.stdout.write(
      `Soak done: RSS ${first?.rss.toFixed(0)} → ${last?.rss.toFixed(0)} MiB (peak ${maxRss.toFixed(0)}), FDs ${first?.fds} → ${last?.fds}, ${seq} rotations, ${next} ExternalSecrets created, ${oldest} deleted; Secrets lost ${lost}, blanked ${blanked}; the soak re-watched Secrets ${rewatches} times\n`,
    );
    if (lost > 0 || blanked > 0) process.exitCode = 1;
  } finally {
    for (const stop of stops) stop();
    child?.kill('SIGTERM');
    await proxy?.stop();
    await bed.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
