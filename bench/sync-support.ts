// What the sync benchmarks share (bench/sync.ts, and bench/eso.ts that runs S1 next to ESO): the
// controller as a separate process with its metrics and memory, the bench's clients and store,
// the ExternalSecrets of a scenario, the S1 cold start and the printed table.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../src/kube/client.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { createAwsClusterStore } from '../test/testbed/aws-store.ts';
import type { TestBed } from '../test/testbed/bed.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { freePort } from '../test/testbed/ports.ts';

/** Node flags of the controller process: what the Dockerfile and the ferry bin use ($BENCH_NODE_FLAGS overrides). */
/** The controller entry the benchmarks run: the production bundle (FERRY_BENCH_MAIN overrides). */
export const FERRY_MAIN = process.env.FERRY_BENCH_MAIN ?? 'dist/ferry/main.js';
export const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=4 --optimize-for-size')
  .split(' ')
  .filter(Boolean);
/** Ferry tuned for the cold start: no client-side limit, so the API server's own limits apply. */
export const tunedFlags = (concurrency: number) => [
  '--kube-qps',
  '100000',
  '--kube-burst',
  '100000',
  '--concurrency',
  String(concurrency),
];
export const LOG_DIR = join(tmpdir(), `ferry-bench-${process.pid}`);

/** A controller's log file under LOG_DIR, made on first use (benches that only import helpers make none). */
export function logStream(name: string): WriteStream {
  mkdirSync(LOG_DIR, { recursive: true });
  return createWriteStream(join(LOG_DIR, `${name}.log`));
}

export const group = { group: 'ferry.dev', version: 'v1alpha1' };
const MiB = 1024 * 1024;

export interface Row {
  scenario: string;
  measure: string;
  value: string;
  target: string;
}
export const rows: Row[] = [];
export const row = (scenario: string, measure: string, value: string, target = '') =>
  rows.push({ scenario, measure, value, target });
export const note = (text: string) =>
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `work` over `items` with `n` workers. A failure a loaded test bed gives (a dropped
 * connection, 429, a 5xx such as "etcdserver: request timed out") is retried, up to 8 attempts;
 * returns how many retries were made.
 */
export async function pool<T>(items: T[], n: number, work: (item: T, i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  let retries = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        for (let attempt = 1; ; attempt++) {
          try {
            await work(items[i] as T, i);
            break;
          } catch (err) {
            // A create whose answer was lost may have been made: on a retry, "exists" is done.
            if (attempt > 1 && (err as { code?: number })?.code === 409) break;
            if (attempt >= 8 || !transient(err)) throw err;
            retries++;
            await sleep(1000 * attempt);
          }
        }
      }
    }),
  );
  return retries;
}

function transient(err: unknown): boolean {
  const code = (err as { code?: number })?.code;
  return (
    (err instanceof TypeError && /fetch failed|terminated/.test(err.message)) ||
    code === 429 ||
    (code !== undefined && code >= 500)
  );
}

export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The counters each scenario reports, from one /metrics scrape. */
export function counters(text: string) {
  const kube = (labels: Record<string, string>) => metric(text, 'ferry_kube_requests_total', labels);
  return {
    synced: metric(text, 'ferry_reconcile_total', { kind: 'ExternalSecret', result: 'synced' }),
    reads: metric(text, 'ferry_provider_calls_total', { operation: 'read' }),
    batches: metric(text, 'ferry_provider_calls_total', { operation: 'read_many' }),
    keysRead: metric(text, 'ferry_shared_reads_total', { served: 'call' }),
    secretWrites: ['create', 'update', 'apply', 'delete'].reduce(
      (sum, verb) => sum + kube({ resource: 'secrets', verb }),
      0,
    ),
    statusWrites: kube({ resource: 'externalsecrets/status' }),
    gets: kube({ verb: 'get' }),
    throttled: metric(text, 'ferry_kube_throttled_total'),
  };
}
export type Counters = ReturnType<typeof counters>;
export const minus = (a: Counters, b: Counters): Counters =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - b[k as keyof Counters]])) as Counters;

export interface Memory {
  rss: number;
  heapUsed: number;
}

/** Peak resident set size of a running process so far (VmHWM). */
export function peakRss(pid: number): number {
  return 1024 * Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** Controllers started and not yet stopped: killed whatever way the benchmark process ends. */
export const live = new Set<FerryProcess>();
process.on('exit', () => {
  for (const p of live) p.kill();
});

/** One `ferry controller` process with a metrics port and the heap probe. */
export class FerryProcess {
  readonly started = Date.now();
  private readonly child: ChildProcess;
  private readonly probeFile: string;
  private exited = false;
  /** How it ended, when it did: exit code or signal. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The highest VmHWM read so far (readable after the process is gone). */
  private peak = 0;

  readonly port: number;

  /** `env` adds to or overrides the controller's environment (e.g. a counting proxy as the AWS endpoint). */
  constructor(
    bed: TestBed,
    port: number,
    args: string[],
    logName: string,
    env: NodeJS.ProcessEnv = {},
    nodeFlags: string[] = NODE_FLAGS,
  ) {
    this.port = port;
    live.add(this);
    const aws = bed.info.aws;
    this.probeFile = join(bed.info.runDir, `${logName}.probe.json`);
    this.child = spawn(
      process.execPath,
      [
        ...nodeFlags,
        '--expose-gc',
        '--import',
        './bench/heap-probe.ts',
        FERRY_MAIN,
        'controller',
        '--kubeconfig',
        bed.info.kube.kubeconfigPath,
        '--metrics-addr',
        `127.0.0.1:${port}`,
        '--log-level',
        'warn',
        ...args,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          FERRY_BENCH_PROBE: this.probeFile,
          // As the image and the ferry bin set it ($MALLOC_ARENA_MAX overrides).
          MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: aws?.endpoint,
          AWS_ENDPOINT_URL_STS: aws?.endpoint,
          AWS_EC2_METADATA_DISABLED: 'true',
          ...env,
        },
      },
    );
    // Warnings go to a log file, not into the table.
    this.child.stderr?.pipe(logStream(logName));
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.exit = { code, signal };
      live.delete(this);
    });
  }

  static async start(bed: TestBed, args: string[], logName: string, env?: NodeJS.ProcessEnv): Promise<FerryProcess> {
    const p = new FerryProcess(bed, await freePort(), args, logName, env);
    try {
      await p.ready();
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** SIGKILL, synchronously (process exit). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  exitText(): string {
    if (!this.exit) return 'running';
    return this.exit.signal ? `killed by ${this.exit.signal}` : `exit code ${this.exit.code}`;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async scrape(): Promise<Counters> {
    const text = await fetch(`http://127.0.0.1:${this.port}/metrics`)
      .then((r) => r.text())
      .catch(() => '');
    return counters(text);
  }

  async ready(timeoutMs = 300_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.exited) throw new Error('the controller exited before it was ready');
      const ok = await fetch(`http://127.0.0.1:${this.port}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return;
      await sleep(100);
    }
    throw new Error('the controller did not become ready');
  }

  /** Waits until `synced` reconciles have succeeded in this process; returns the counters then. */
  async waitSynced(synced: number, timeoutMs = 1_800_000): Promise<Counters> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.scrape();
      this.peakRss();
      if (c.synced >= synced) return c;
      if (this.exited) throw new Error(`the controller exited (${this.exitText()})`);
      if (Date.now() > until) throw new Error(`only ${c.synced} of ${synced} synced in time`);
      await sleep(200);
    }
  }

  /** Peak resident set size so far (VmHWM); once the process is gone, the last one read. */
  peakRss(): number {
    try {
      this.peak = Math.max(this.peak, peakRss(this.pid));
    } catch {
      // Gone: keep the last reading.
    }
    return this.peak;
  }

  /** RSS and V8 heap after a full garbage collection in the process. */
  async memoryAfterGc(): Promise<Memory> {
    rmSync(this.probeFile, { force: true });
    this.child.kill('SIGUSR2');
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      if (existsSync(this.probeFile)) {
        try {
          const m = JSON.parse(readFileSync(this.probeFile, 'utf8')) as Memory;
          return { rss: m.rss, heapUsed: m.heapUsed };
        } catch {
          // Partly written; read again.
        }
      }
    }
    throw new Error('the heap probe did not answer');
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }
}

export interface Bench {
  bed: TestBed;
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** An unthrottled client for setup and the direct writer. */
  direct: KubeClient;
  sm: SecretsManagerClient;
  keysCreated: number;
}

export async function ensureKeys(b: Bench, n: number): Promise<void> {
  if (n <= b.keysCreated) return;
  const from = b.keysCreated;
  await pool([...Array(n - from).keys()], 16, async (i) => {
    const command = new CreateSecretCommand({
      Name: `bench/key-${from + i}`,
      SecretString: JSON.stringify({ value: `v-${from + i}` }),
    });
    // moto on a loaded machine sometimes answers with an error page: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await b.sm.send(command);
      } catch (err) {
        if (attempt >= 5 || (err as Error).name === 'ResourceExistsException') throw err;
        await sleep(500 * attempt);
      }
    }
  });
  b.keysCreated = n;
}

export interface ObjectSpec {
  name: string;
  key: number;
}

/** The API an ExternalSecret is created in and the ClusterSecretStore it names: Ferry's, or ESO's for bench/eso.ts. */
export interface EsApi {
  group: string;
  version: string;
  store: string;
}
const FERRY_API: EsApi = { ...group, store: 'aws' };

export async function createExternalSecrets(
  b: Bench,
  namespace: string,
  objects: ObjectSpec[],
  refreshInterval: string,
  labels?: Record<string, string>,
  api: EsApi = FERRY_API,
): Promise<Map<string, number>> {
  const createdAt = new Map<string, number>();
  await pool(objects, 50, async (o) => {
    await b.custom.createNamespacedCustomObject({
      group: api.group,
      version: api.version,
      plural: 'externalsecrets',
      namespace,
      body: {
        apiVersion: `${api.group}/${api.version}`,
        kind: 'ExternalSecret',
        metadata: { name: o.name, labels },
        spec: {
          secretStoreRef: { name: api.store, kind: 'ClusterSecretStore' },
          refreshInterval,
          target: { name: `${o.name}-secret` },
          data: [{ secretKey: 'value', remoteRef: { key: `bench/key-${o.key}`, property: 'value' } }],
        },
      },
    });
    createdAt.set(o.name, Date.now());
  });
  return createdAt;
}

export const objectsOf = (n: number, keys: number, prefix = 'es'): ObjectSpec[] =>
  Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i}`, key: i % keys }));

export type EsList = {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
  metadata: { continue?: string };
};

export async function listExternalSecrets(
  b: Bench,
  namespace: string,
  labelSelector?: string,
): Promise<EsList['items']> {
  const items: EsList['items'] = [];
  let token: string | undefined;
  do {
    const page = (await b.custom.listNamespacedCustomObject({
      ...group,
      plural: 'externalsecrets',
      namespace,
      limit: 1000,
      _continue: token,
      labelSelector,
    })) as EsList;
    items.push(...page.items);
    token = page.metadata.continue || undefined;
  } while (token);
  return items;
}

export const isReady = (es: EsList['items'][number]) =>
  Boolean(es.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

export async function createNamespace(b: Bench, name: string): Promise<void> {
  await b.core.createNamespace({ body: { metadata: { name } } });
}

/** How one S1 cold start runs: its table label, namespace, N objects over K keys and the controller's flags. */
export interface ColdStart {
  label: string;
  namespace: string;
  objects: number;
  keys: number;
  ferryArgs: string[];
  /** Runs after the objects exist, before the controller starts (the direct writer of bench/sync.ts). */
  beforeStart?: (objects: ObjectSpec[]) => Promise<void>;
  /** A baseline to print the ratio of time to all Ready against, once known. */
  baseline?: () => { name: string; ms: number; target: string } | undefined;
  /** Added to the controller's environment. */
  env?: NodeJS.ProcessEnv;
}

/** S1: N ExternalSecrets over K keys created first, then one controller started; measured until all are synced. */
export async function coldStart(b: Bench, run: ColdStart) {
  const { label, namespace, objects: n, keys, ferryArgs, env } = run;
  await ensureKeys(b, keys);
  await createNamespace(b, namespace);
  const scoped = ['--namespace', namespace, ...ferryArgs];
  // The same controller with nothing to do: the heap every object adds to is measured from here.
  const idle = await FerryProcess.start(b.bed, scoped, `${namespace}-idle`, env);
  const idleMem = await idle.memoryAfterGc();
  await idle.stop();

  const objects = objectsOf(n, keys);
  note(`${label}: creating ${n} ExternalSecrets over ${keys} keys`);
  await createExternalSecrets(b, namespace, objects, '1h');
  await run.beforeStart?.(objects);

  note(`${label}: starting the controller (${ferryArgs.join(' ') || 'default flags'})`);
  const ferry = new FerryProcess(b.bed, await freePort(), scoped, namespace, env);
  const after = await ferry.waitSynced(n);
  const readyMs = Date.now() - ferry.started;
  const ready = (await listExternalSecrets(b, namespace)).filter(isReady).length;
  const peak = ferry.peakRss();
  const mem = await ferry.memoryAfterGc();
  const perObject = (mem.heapUsed - idleMem.heapUsed) / n;
  row(label, 'ExternalSecrets Ready', `${ready} / ${n}`);
  row(label, 'time to all Ready (from process start)', seconds(readyMs));
  const baseline = run.baseline?.();
  if (baseline) row(label, `ratio to ${baseline.name}`, (readyMs / baseline.ms).toFixed(2), baseline.target);
  row(
    label,
    'provider calls: GetSecretValue + BatchGetSecretValue',
    `${after.reads} + ${after.batches}`,
    '≤ 50 batch calls',
  );
  row(label, 'keys read from the provider', String(after.keysRead), `≤ ${keys}`);
  row(label, 'API writes: Secrets + statuses', `${after.secretWrites} + ${after.statusWrites}`, `${n} + ${n}`);
  row(label, 'API GETs / 429 answers', `${after.gets} / ${after.throttled}`);
  row(label, 'controller peak RSS (VmHWM)', mib(peak), '≤ 200 MiB');
  row(label, 'controller RSS / V8 heap after GC', `${mib(mem.rss)} / ${mib(mem.heapUsed)}`);
  row(label, 'V8 heap per ExternalSecret (vs idle, after GC)', `${(perObject / 1024).toFixed(2)} KiB`);
  row(label, 'idle controller RSS / heap after GC', `${mib(idleMem.rss)} / ${mib(idleMem.heapUsed)}`);
  return { ferry, objects, after, readyMs, peak };
}

export function printTable(): void {
  const widths = [0, 0, 0, 0];
  const header = { scenario: 'Scenario', measure: 'Measure', value: 'Value', target: 'Target' };
  const all = [header, ...rows];
  for (const r of all) {
    [r.scenario, r.measure, r.value, r.target].forEach((v, i) => {
      widths[i] = Math.max(widths[i] ?? 0, v.length);
    });
  }
  const line = (r: Row) =>
    `| ${[r.scenario, r.measure, r.value, r.target].map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

/** The machine and the controller's runtime, printed under the table. */
export function machineLine(): string {
  return `Machine: ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB; controller: MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? 2} node ${NODE_FLAGS.join(' ')} ${FERRY_MAIN}; controller logs in ${LOG_DIR}.`;
}

/** The clients of a bench on a started bed, Ferry's CRDs, and the ClusterSecretStore `aws` reading moto. */
export async function openBench(bed: TestBed): Promise<Bench> {
  const aws = bed.info.aws;
  if (!aws) throw new Error('no moto');
  const kc = new KubeConfig();
  kc.loadFromFile(bed.info.kube.kubeconfigPath);
  const b: Bench = {
    bed,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    direct: new KubeClient(kc, { qps: 1e9, burst: 1e9, metrics: new Metrics() }),
    sm: new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    }),
    keysCreated: 0,
  };
  await installCrds(kc);
  await createNamespace(b, 'ferry-system');
  await createAwsClusterStore(b.kc, aws);
  return b;
}
