// `npm run bench:eso` (opt-in: it builds ESO for many minutes the first time): the S1 cold start of
// bench/sync.ts run with the External Secrets Operator next to Ferry, on one test bed (real etcd +
// kube-apiserver + moto), so the ratios come from the same machine state (issue #15, "ESO side by side").
//
//   npm run bench:eso -- [--objects N] [--keys K] [--runs ferry-tuned,ferry-defaults,eso-defaults,eso-tuned]
//                        [--concurrency C] [--eso-tuned '--concurrent=50 --client-qps=5000 --client-burst=5000']
//
// Each run gets its own namespace with N ExternalSecrets (default 1,000) over K keys (default N/10),
// created before its controller starts; each controller is its own process, scoped to that
// namespace, reading moto through one counting proxy. ESO ($ESO_BENCH_VERSION of versions.env, built
// by `provision.sh eso` from the Go module proxy) reads its CRDs from the module's
// deploy/crds/bundle.yaml and its own `external-secrets.io/v1` ClusterSecretStore (AWS Secrets Manager,
// static keys in a Secret), and runs once with its default flags and once tuned.
// Measured the same way for both: time from process start to all N Ready, provider calls seen on
// the wire, controller peak RSS (VmHWM). Every figure is printed, none passes or fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { type KubernetesListObject, type KubernetesObject, makeInformer } from '@kubernetes/client-node';
import { startTestBed } from '../test/testbed/bed.ts';
import { ChaosProxy } from '../test/testbed/chaos-proxy.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { freePort } from '../test/testbed/ports.ts';
import { esoController } from '../test/testbed/tools.ts';
import {
  type Bench,
  coldStart,
  createExternalSecrets,
  createNamespace,
  ensureKeys,
  logStream,
  machineLine,
  mib,
  note,
  objectsOf,
  openBench,
  peakRss,
  printTable,
  row,
  seconds,
  sleep,
  tunedFlags,
} from './sync-support.ts';

const RUNS = ['ferry-tuned', 'ferry-defaults', 'eso-defaults', 'eso-tuned'] as const;
type RunName = (typeof RUNS)[number];

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    objects: { type: 'string', default: '1000' },
    keys: { type: 'string' },
    runs: { type: 'string', default: RUNS.join(',') },
    concurrency: { type: 'string', default: '50' },
    'eso-tuned': { type: 'string', default: '--concurrent=50 --client-qps=5000 --client-burst=5000' },
  },
});
const OBJECTS = Number(flags.objects);
const KEYS = Number(flags.keys ?? Math.max(1, Math.round(OBJECTS / 10)));
const ESO_TUNED = (flags['eso-tuned'] ?? '').split(' ').filter(Boolean);
const wanted = (flags.runs ?? '').split(',').filter(Boolean);
for (const name of wanted) {
  if (!(RUNS as readonly string[]).includes(name)) {
    process.stderr.write(`unknown run "${name}"; known: ${RUNS.join(', ')}\n`);
    process.exit(2);
  }
}
const ESO = { group: 'external-secrets.io', version: 'v1' };
/** ESO's own logging kept to warnings, as the bench runs Ferry (`--log-level warn`). */
const ESO_COMMON = ['--enable-leader-election=false', '--loglevel=warn'];

/** AWS calls seen by the counting proxy in front of moto, by operation (X-Amz-Target). */
const calls = new Map<string, number>();
const snapshot = () => new Map(calls);
const since = (before: Map<string, number>) => {
  const d = new Map<string, number>();
  for (const [op, n] of calls) if (n - (before.get(op) ?? 0) > 0) d.set(op, n - (before.get(op) ?? 0));
  return d;
};
const total = (d: Map<string, number>) => [...d.values()].reduce((a, b) => a + b, 0);
const describe = (d: Map<string, number>) =>
  `${total(d)}${d.size > 0 ? ` (${[...d].map(([op, n]) => `${op} ${n}`).join(', ')})` : ''}`;

interface Result {
  readyMs: number;
  providerCalls: number;
  peak: number;
}
const results = new Map<RunName, Result>();

async function ferryRun(b: Bench, name: 'ferry-tuned' | 'ferry-defaults', proxyUrl: string): Promise<void> {
  const tuned = name === 'ferry-tuned';
  const label = `Ferry S1 (${tuned ? 'tuned' : 'default flags'})`;
  let before = snapshot();
  const run = await coldStart(b, {
    label,
    namespace: name,
    objects: OBJECTS,
    keys: KEYS,
    ferryArgs: tuned ? tunedFlags(Number(flags.concurrency)) : [],
    // Counted from the measured controller's start (the idle one before it is left out).
    beforeStart: async () => {
      before = snapshot();
    },
    env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: proxyUrl },
  });
  const d = since(before);
  await run.ferry.stop();
  row(label, 'provider calls on the wire (counting proxy)', describe(d));
  results.set(name, { readyMs: run.readyMs, providerCalls: total(d), peak: run.peak });
}

type EsoExternalSecret = KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } };

/** Watches the namespace's ESO ExternalSecrets; `all(n)` resolves when n of them are Ready. */
async function watchReady(b: Bench, namespace: string) {
  const ready = new Set<string>();
  const informer = makeInformer<EsoExternalSecret>(
    b.kc,
    `/apis/${ESO.group}/${ESO.version}/namespaces/${namespace}/externalsecrets`,
    () =>
      b.custom.listNamespacedCustomObject({ ...ESO, namespace, plural: 'externalsecrets' }) as Promise<
        KubernetesListObject<EsoExternalSecret>
      >,
  );
  const see = (es: EsoExternalSecret) => {
    if (es.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
      ready.add(es.metadata?.name ?? '');
    }
  };
  informer.on('add', see);
  informer.on('update', see);
  let stopped = false;
  // A dropped watch is listed and watched again.
  informer.on('error', () => {
    if (!stopped) setTimeout(() => informer.start().catch(() => {}), 1000);
  });
  await informer.start();
  return {
    count: () => ready.size,
    async all(n: number, exited: () => boolean, timeoutMs: number): Promise<void> {
      const until = Date.now() + timeoutMs;
      while (ready.size < n) {
        if (exited()) throw new Error(`ESO exited with ${ready.size} of ${n} Ready`);
        if (Date.now() > until) throw new Error(`only ${ready.size} of ${n} Ready in time`);
        await sleep(100);
      }
    },
    stop: () => {
      stopped = true;
      return informer.stop();
    },
  };
}

/** One ESO controller process, scoped to one namespace, reading moto through the counting proxy. */
class EsoProcess {
  readonly started = Date.now();
  private readonly child: ChildProcess;
  private readonly gone: Promise<void>;
  exited = false;

  private constructor(b: Bench, port: number, namespace: string, args: string[], logName: string, proxyUrl: string) {
    const aws = b.bed.info.aws;
    this.child = spawn(
      esoController().binary,
      ['--metrics-addr', `127.0.0.1:${port}`, '--namespace', namespace, ...ESO_COMMON, ...args],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          KUBECONFIG: b.bed.info.kube.kubeconfigPath,
          AWS_SECRETSMANAGER_ENDPOINT: proxyUrl,
          AWS_REGION: aws?.region,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    this.child.stderr?.pipe(logStream(logName));
    this.gone = new Promise<void>((r) => this.child.once('exit', () => r())).then(() => {
      this.exited = true;
    });
  }

  static async start(b: Bench, namespace: string, args: string[], logName: string, proxyUrl: string) {
    return new EsoProcess(b, await freePort(), namespace, args, logName, proxyUrl);
  }

  peakRss(): number {
    return peakRss(this.child.pid ?? 0);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.gone;
    clearTimeout(timer);
  }
}

async function esoRun(b: Bench, name: 'eso-defaults' | 'eso-tuned', proxyUrl: string): Promise<void> {
  const eso = esoController();
  const tuned = name === 'eso-tuned';
  const args = tuned ? ESO_TUNED : [];
  const label = `ESO ${eso.version} S1 (${tuned ? 'tuned' : 'default flags'})`;
  const namespace = name;
  const aws = b.bed.info.aws;
  if (!aws) throw new Error('no moto');
  await ensureKeys(b, KEYS);
  await createNamespace(b, namespace);
  // ESO scoped to one namespace reads the store's credentials there; one ClusterSecretStore per run.
  const store = `aws-${namespace}`;
  await b.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'aws' }, stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey } },
  });
  const ref = (key: string) => ({ name: 'aws', namespace, key });
  await b.custom.createClusterCustomObject({
    ...ESO,
    plural: 'clustersecretstores',
    body: {
      apiVersion: `${ESO.group}/${ESO.version}`,
      kind: 'ClusterSecretStore',
      metadata: { name: store },
      spec: {
        provider: {
          aws: {
            service: 'SecretsManager',
            region: aws.region,
            auth: { secretRef: { accessKeyIDSecretRef: ref('id'), secretAccessKeySecretRef: ref('secret') } },
          },
        },
      },
    },
  });
  // As for Ferry (its idle controller), the same controller first runs with nothing to do: it
  // marks the store Ready, so the measured start finds the store as a restart in a cluster would
  // (ESO holds ExternalSecrets back while their store is not Ready).
  const idle = await EsoProcess.start(b, namespace, args, `${namespace}-idle`, proxyUrl);
  try {
    await storeReady(b, store, () => idle.exited);
    await sleep(1000);
    row(label, 'idle controller peak RSS (store Ready, no objects)', mib(idle.peakRss()));
  } finally {
    await idle.stop();
  }

  note(`${label}: creating ${OBJECTS} ExternalSecrets over ${KEYS} keys`);
  await createExternalSecrets(b, namespace, objectsOf(OBJECTS, KEYS), '1h', undefined, { ...ESO, store });
  const watch = await watchReady(b, namespace);

  note(`${label}: starting the controller (${args.join(' ') || 'default flags'})`);
  const before = snapshot();
  const controller = await EsoProcess.start(b, namespace, args, namespace, proxyUrl);
  try {
    await watch.all(OBJECTS, () => controller.exited, 3_600_000);
    const readyMs = Date.now() - controller.started;
    const peak = controller.peakRss();
    const d = since(before);
    const secrets = await countSecrets(b, namespace);
    row(label, 'ExternalSecrets Ready', `${watch.count()} / ${OBJECTS}`);
    row(label, 'time to all Ready (from process start)', seconds(readyMs));
    row(label, 'provider calls on the wire (counting proxy)', describe(d), `(${KEYS} unique keys)`);
    row(label, 'Secrets in the namespace (targets)', String(secrets), String(OBJECTS));
    row(label, 'controller peak RSS (VmHWM)', mib(peak));
    results.set(name, { readyMs, providerCalls: total(d), peak });
  } finally {
    await watch.stop();
    await controller.stop();
  }
}

/** Waits until ESO has marked the ClusterSecretStore Ready. */
async function storeReady(b: Bench, name: string, exited: () => boolean): Promise<void> {
  const until = Date.now() + 120_000;
  for (;;) {
    const css = (await b.custom.getClusterCustomObject({ ...ESO, plural: 'clustersecretstores', name })) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    if (css.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    if (exited()) throw new Error('ESO exited before the ClusterSecretStore was Ready');
    if (Date.now() > until) throw new Error(`ClusterSecretStore ${name} was not Ready in time`);
    await sleep(200);
  }
}

async function countSecrets(b: Bench, namespace: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await b.core.listNamespacedSecret({ namespace, limit: 1000, _continue: token });
    n += page.items.filter((s) => s.metadata?.name?.endsWith('-secret')).length;
    token = page.metadata?._continue || undefined;
  } while (token);
  return n;
}

function ratios(eso: RunName, ferry: RunName, label: string): void {
  const e = results.get(eso);
  const f = results.get(ferry);
  if (!e || !f) return;
  row(
    label,
    'time to all Ready: ESO / Ferry',
    `${seconds(e.readyMs)} / ${seconds(f.readyMs)} = ${(e.readyMs / f.readyMs).toFixed(2)}`,
  );
  row(
    label,
    'provider calls: ESO / Ferry',
    `${e.providerCalls} / ${f.providerCalls} = ${(e.providerCalls / Math.max(1, f.providerCalls)).toFixed(1)}`,
  );
  row(label, 'peak RSS: ESO / Ferry', `${mib(e.peak)} / ${mib(f.peak)} = ${(e.peak / f.peak).toFixed(2)}`);
}

async function main(): Promise<void> {
  // Fails early, with how to build it, when an ESO run is wanted and ESO is not provisioned.
  const eso = wanted.some((r) => r.startsWith('eso')) ? esoController() : undefined;
  process.stdout.write(
    `ESO side by side (S1): ${wanted.join(', ')}; ${OBJECTS} ExternalSecrets, ${KEYS} keys; ESO ${eso?.version ?? '-'}; ${new Date().toISOString()}\n`,
  );
  const bed = await startTestBed({ moto: true });
  const aws = bed.info.aws;
  if (!aws) throw new Error('no moto');
  const proxy = await ChaosProxy.start(aws.endpoint);
  proxy.intercept = (req) => {
    const target = String(req.headers['x-amz-target'] ?? 'other');
    const op = target.split('.').pop() ?? target;
    calls.set(op, (calls.get(op) ?? 0) + 1);
    return false;
  };
  try {
    const b = await openBench(bed);
    if (eso) await installCrds(b.kc, eso.crdDir, 120_000);
    await ensureKeys(b, KEYS);
    for (const name of wanted as RunName[]) {
      if (name === 'ferry-tuned' || name === 'ferry-defaults') await ferryRun(b, name, proxy.url);
      else await esoRun(b, name, proxy.url);
    }
    ratios('eso-defaults', 'ferry-defaults', 'Ratios, default flags');
    ratios('eso-tuned', 'ferry-tuned', 'Ratios, tuned');
  } finally {
    await proxy.stop();
    await bed.stop();
  }
  printTable();
  process.stdout.write(
    `\n${machineLine()}\nESO: ${ESO_COMMON.join(' ')}; tuned: ${ESO_TUNED.join(' ')}; Ferry tuned: ${tunedFlags(Number(flags.concurrency)).join(' ')}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
