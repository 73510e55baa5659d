// Sync benchmarks at cluster scale (issue #15), against the real API server and moto, with the
// controller as a separate process (`node dist/ferry/main.js controller`, the bundle the image runs) so its memory is its own.
//
//   npm run bench -- [scenario ...] [--objects N] [--keys K] [--sweep 10,50,200] [--concurrency C]
//                    [--s2-objects N] [--s2-interval 30s] [--noise N] [--noise-bytes B]
//
// Scenarios (default: all of them; then the CSI and node benchmarks, as before):
//   s1           cold start: N ExternalSecrets (default 10,000) over K keys (default N/10) in one
//                namespace, Ferry tuned (unthrottled client), against the fastest direct writer
//                (same Secret creates + status writes, concurrency swept, unthrottled); then a
//                forced re-sync of everything (`force` selects the same run)
//   s1-defaults  the same cold start with Ferry's default flags (what a user gets out of the box)
//   s2           steady refresh: N/10 objects (max 1,000) refreshing every 30 s, nothing changed
//   s3           fan-out through ClusterExternalSecret: run by npm run bench:ces (its own bed and controller)
//   s4           N refreshes due at once (after a restart) + 50 new ExternalSecrets
//   fairness     a cluster-wide controller with the chart's defaults starts with 5,000 ExternalSecrets of one
//                namespace (--fairness-objects) force-synced while it was down, and another namespace creates
//                one new object every 500 ms: how long the quiet namespace's new objects take to become Ready
//   s7           unrelated 1 MiB Secrets in the watched namespace: controller RSS growth
//   memory       a cluster-wide controller with a 256 MiB heap limit (--max-old-space-size=256) cold-
//                starting N ExternalSecrets while 5,000 unrelated 1 MiB Secrets are present
//                (--memory-noise): peak RSS, heap after GC, whether it was killed; --memory-namespaced
//                scopes the controller to the ExternalSecrets' namespace. The bed gets an 8 GiB etcd
//                quota and an API server without a watch cache for Secrets (see runSync) unless
//                --memory-watch-cache keeps the default cache, as real clusters run (the API server
//                then holds the 5 GiB decoded: ~12 GiB more memory); the other scenarios of the same
//                run share that bed.
// Every figure is printed, none passes or fails. Timings depend on the machine's load.

import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseDuration } from '../src/api/duration.ts';
import { startTestBed } from '../test/testbed/bed.ts';
import { freePort } from '../test/testbed/ports.ts';
import {
  type Bench,
  coldStart,
  createExternalSecrets,
  createNamespace,
  ensureKeys,
  FerryProcess,
  group,
  isReady,
  listExternalSecrets,
  live,
  machineLine,
  mib,
  minus,
  NODE_FLAGS,
  note,
  type ObjectSpec,
  objectsOf,
  openBench,
  pool,
  printTable,
  row,
  seconds,
  sleep,
  tunedFlags,
} from './sync-support.ts';

const SYNC_SCENARIOS = ['fairness', 's1', 'force', 's1-defaults', 's2', 's3', 's4', 's7', 'memory'] as const;
const OTHER_BENCHES = { csi: 'bench/csi.ts', 'csi-pods': 'bench/csi-pods.ts', node: 'bench/node.ts' } as const;

const { values: flags, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    objects: { type: 'string', default: '10000' },
    keys: { type: 'string' },
    sweep: { type: 'string', default: '10,50,200' },
    concurrency: { type: 'string', default: '50' },
    's2-objects': { type: 'string' },
    's2-interval': { type: 'string', default: '30s' },
    'fairness-objects': { type: 'string', default: '5000' },
    noise: { type: 'string', default: '1500' },
    'noise-bytes': { type: 'string', default: String(1024 * 1024 - 4096) },
    'memory-noise': { type: 'string', default: '5000' },
    'memory-writers': { type: 'string', default: '2' },
    'memory-heap': { type: 'string', default: '256' },
    'memory-namespaced': { type: 'boolean', default: false },
    'memory-watch-cache': { type: 'boolean', default: false },
  },
});
const wanted =
  positionals.length > 0 ? positionals.map((p) => p.toLowerCase()) : [...SYNC_SCENARIOS, 'csi', 'csi-pods', 'node'];
for (const name of wanted) {
  if (!(SYNC_SCENARIOS as readonly string[]).includes(name) && !(name in OTHER_BENCHES)) {
    process.stderr.write(
      `unknown scenario "${name}"; known: ${[...SYNC_SCENARIOS, ...Object.keys(OTHER_BENCHES)].join(', ')}\n`,
    );
    process.exit(2);
  }
}
const OBJECTS = Number(flags.objects);
const KEYS = Number(flags.keys ?? Math.max(1, Math.round(OBJECTS / 10)));
const SWEEP = (flags.sweep ?? '')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const TUNED_CONCURRENCY = Number(flags.concurrency);
const S2_OBJECTS = Number(flags['s2-objects'] ?? Math.min(1000, Math.max(10, Math.round(OBJECTS / 10))));
const S2_KEYS = Math.max(1, Math.round(S2_OBJECTS / 10));
const S2_INTERVAL_MS = parseDuration(flags['s2-interval'] ?? '30s');
const NOISE = Number(flags.noise);
const NOISE_BYTES = Number(flags['noise-bytes']);
const MEMORY_NOISE = Number(flags['memory-noise']);
const MEMORY_WRITERS = Number(flags['memory-writers']);
/** The heap limit of the memory scenario's controller. */
const MEMORY_HEAP_MIB = Number(flags['memory-heap']);
/** The memory scenario's API server keeps its default watch cache of Secrets. */
const WATCH_CACHE = flags['memory-watch-cache'] === true;
/** Ferry tuned for the cold start: no client-side limit, so the API server's own limits apply. */
const TUNED = tunedFlags(TUNED_CONCURRENCY);
const NEW_OBJECTS = 50;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Stops what the running benchmark started (its controllers and test bed) on Ctrl-C or SIGTERM. */
let onSignal: (() => Promise<void>) | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    note(`${signal}: stopping the controllers and the test bed`);
    void (onSignal?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

// --- S1 cold start, forced re-sync --------------------------------------------------------------

let fastestDirectMs: number | undefined;

async function directWriter(b: Bench, namespace: string, objects: ObjectSpec[]): Promise<void> {
  const secretsNs = `${namespace}-direct`;
  await createNamespace(b, secretsNs);
  let best: { ms: number; c: number } | undefined;
  for (const c of SWEEP) {
    note(`direct writer: ${objects.length} Secret creates + ${objects.length} status writes, ${c} workers`);
    const t0 = Date.now();
    await pool(objects, c, async (o) => {
      await b.direct.createSecret({
        metadata: { name: `${o.name}-direct-${c}`, namespace: secretsNs },
        data: { value: Buffer.from(`v-${o.key}`).toString('base64') },
      });
      await b.direct.patchStatus('externalsecrets', namespace, o.name, {
        conditions: [
          {
            type: 'Ready',
            status: 'Unknown',
            reason: 'Pending',
            message: `baseline write ${c}`,
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      });
    });
    const ms = Date.now() - t0;
    row('S1 direct writer', `${c} workers, unthrottled`, seconds(ms));
    if (!best || ms < best.ms) best = { ms, c };
  }
  if (best) {
    fastestDirectMs = best.ms;
    row('S1 direct writer', 'fastest', `${seconds(best.ms)} (${best.c} workers)`);
  }
}

/** The S1 objects, synced by a running tuned controller (left running for S4). */
let s1: { namespace: string; objects: ObjectSpec[]; ferry: FerryProcess } | undefined;

/** The ratio of a cold start to the fastest direct writer, once it has run. */
const toFastestDirect = (target: string) => () =>
  fastestDirectMs === undefined ? undefined : { name: 'the fastest direct writer', ms: fastestDirectMs, target };

async function scenarioS1(b: Bench): Promise<void> {
  const namespace = 's1';
  const { ferry, objects, after } = await coldStart(b, {
    label: 'S1 cold start (tuned)',
    namespace,
    objects: OBJECTS,
    keys: KEYS,
    ferryArgs: TUNED,
    beforeStart: (o) => directWriter(b, namespace, o),
    baseline: toFastestDirect('≤ 1.3'),
  });
  s1 = { namespace, objects, ferry };

  note(`forced re-sync: annotating ${objects.length} ExternalSecrets`);
  const t0 = Date.now();
  await pool(objects, 200, (o) =>
    b.custom.patchNamespacedCustomObject(
      {
        ...group,
        plural: 'externalsecrets',
        namespace,
        name: o.name,
        body: { metadata: { annotations: { 'ferry.dev/force-sync': String(t0) } } },
      },
      merge,
    ),
  );
  const forced = minus(await ferry.waitSynced(2 * objects.length), after);
  const label = 'Forced re-sync (annotation on all)';
  row(label, 'time from first annotation to all re-synced', seconds(Date.now() - t0));
  row(
    label,
    `provider calls (${KEYS} unique keys)`,
    `${forced.reads + forced.batches} (${forced.batches} batch)`,
    `≤ ${KEYS}`,
  );
  row(label, 'keys read from the provider', String(forced.keysRead), `≤ ${KEYS}`);
  row(label, 'Secret writes', String(forced.secretWrites), '0');
  row(label, 'status writes', String(forced.statusWrites));
  row(label, 'controller peak RSS (VmHWM) so far', mib(ferry.peakRss()), '≤ 200 MiB');
}

async function scenarioS1Defaults(b: Bench): Promise<void> {
  const { ferry } = await coldStart(b, {
    label: 'S1 cold start (default flags)',
    namespace: 's1d',
    objects: OBJECTS,
    keys: KEYS,
    ferryArgs: [],
    baseline: toFastestDirect(''),
  });
  await ferry.stop();
}

// --- S2 steady refresh ---------------------------------------------------------------------------

async function scenarioS2(b: Bench): Promise<void> {
  const label = 'S2 steady refresh';
  const namespace = 's2';
  await ensureKeys(b, S2_KEYS);
  await createNamespace(b, namespace);
  const objects = objectsOf(S2_OBJECTS, S2_KEYS);
  const interval = `${S2_INTERVAL_MS / 1000}s`;
  note(`${label}: ${S2_OBJECTS} ExternalSecrets over ${S2_KEYS} keys, refreshInterval ${interval}`);
  await createExternalSecrets(b, namespace, objects, interval);
  const ferry = await FerryProcess.start(b.bed, ['--namespace', namespace, ...TUNED], namespace);
  const first = await ferry.waitSynced(S2_OBJECTS);
  const cycles = 3;
  note(`${label}: all synced; watching ${cycles} refresh cycles`);
  await sleep(cycles * S2_INTERVAL_MS);
  const d = minus(await ferry.scrape(), first);
  row(label, `objects / keys / refreshInterval`, `${S2_OBJECTS} / ${S2_KEYS} / ${interval}`);
  row(label, `refreshes in ${cycles} intervals`, String(d.synced), `~${cycles * S2_OBJECTS}`);
  row(label, 'provider calls per cycle', ((d.reads + d.batches) / cycles).toFixed(1), `≤ ${S2_KEYS}`);
  row(label, 'keys read per cycle', (d.keysRead / cycles).toFixed(1), `≤ ${S2_KEYS}`);
  row(label, 'Secret writes', String(d.secretWrites), '0');
  row(label, 'status writes per cycle (refreshTime)', (d.statusWrites / cycles).toFixed(1));
  await ferry.stop();
}

// --- S4 refresh storm + new objects -------------------------------------------------------------

async function scenarioS4(b: Bench): Promise<void> {
  const label = 'S4 storm + 50 new';
  if (!s1) await scenarioS1(b);
  const { namespace, objects, ferry } = s1 as NonNullable<typeof s1>;
  await ferry.stop();
  // Every object's last sync two hours ago: with a 1 h interval, all are due the moment the
  // controller starts.
  note(`${label}: marking ${objects.length} ExternalSecrets last synced 2 h ago`);
  const past = new Date(Date.now() - 2 * 3_600_000).toISOString();
  await pool(objects, 50, (o) => b.direct.patchStatus('externalsecrets', namespace, o.name, { refreshTime: past }));
  const started = await FerryProcess.start(b.bed, ['--namespace', namespace, ...TUNED], `${namespace}-storm`);
  const samples: { at: number; keys: number; calls: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const c = await started.scrape();
      samples.push({ at: Date.now(), keys: c.keysRead, calls: c.reads + c.batches });
      await sleep(1000);
    }
  })();
  await sleep(500);
  note(`${label}: creating ${NEW_OBJECTS} new ExternalSecrets during the storm`);
  const fresh = objectsOf(NEW_OBJECTS, KEYS, 'new');
  const createdAt = await createExternalSecrets(b, namespace, fresh, '1h', { 'bench/new': 'true' });
  const readyAt = new Map<string, number>();
  while (readyAt.size < NEW_OBJECTS) {
    for (const es of await listExternalSecrets(b, namespace, 'bench/new=true')) {
      if (isReady(es) && !readyAt.has(es.metadata.name)) readyAt.set(es.metadata.name, Date.now());
    }
    await sleep(100);
  }
  const latencies = fresh.map((o) => (readyAt.get(o.name) ?? 0) - (createdAt.get(o.name) ?? 0)).sort((x, y) => x - y);
  const pct = (p: number) => latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)] ?? 0;
  const end = await started.waitSynced(objects.length + NEW_OBJECTS);
  const stormMs = Date.now() - started.started;
  sampling = false;
  await sampler;
  const perSecond = (of: 'keys' | 'calls') =>
    samples.slice(1).map((s, i) => {
      const prev = samples[i] as (typeof samples)[number];
      return (s[of] - prev[of]) / ((s.at - prev.at) / 1000);
    });
  // The mean over the seconds from the first read to the last, quiet seconds between included.
  const peakAndMean = (rates: number[]) => {
    const first = rates.findIndex((r) => r > 0);
    const span = first < 0 ? [] : rates.slice(first, rates.length - [...rates].reverse().findIndex((r) => r > 0));
    const mean = span.length > 0 ? span.reduce((x, y) => x + y, 0) / span.length : 0;
    const peak = Math.max(0, ...rates);
    return `${peak.toFixed(0)} / ${mean.toFixed(1)} = ${(mean > 0 ? peak / mean : 0).toFixed(2)}`;
  };
  const rates = perSecond('keys');
  const callRates = perSecond('calls');
  row(
    label,
    `new objects Ready: p50 / p99 / max`,
    `${seconds(pct(0.5))} / ${seconds(pct(0.99))} / ${seconds(pct(1))}`,
    'p99 ≤ 5 s',
  );
  row(label, `all ${objects.length} refreshes + new done (from start)`, seconds(stormMs));
  row(
    label,
    'provider calls / keys read in the storm',
    `${end.reads + end.batches} / ${end.keysRead}`,
    `keys ≤ ${KEYS}`,
  );
  row(label, 'keys read per second: peak / mean from first read to last (1 s samples)', peakAndMean(rates), '≤ 2×');
  row(label, 'provider calls per second: peak / mean, the same way', peakAndMean(callRates));
  row(label, 'Secret writes', String(end.secretWrites), `${NEW_OBJECTS} (new only)`);
  row(label, 'controller peak RSS (VmHWM)', mib(started.peakRss()));
  note(`${label}: keys read in each 1 s sample: ${rates.map((r) => r.toFixed(0)).join(' ')}`);
  note(`${label}: provider calls in each 1 s sample: ${callRates.map((r) => r.toFixed(0)).join(' ')}`);
  await started.stop();
}

// --- Fairness: one namespace force-syncs everything, another creates new objects -----------------

async function scenarioFairness(b: Bench): Promise<void> {
  const label = 'Fairness';
  const floodCount = Number(flags['fairness-objects']);
  const quietCount = 20;
  const keys = Math.max(1, Math.round(floodCount / 10));
  await ensureKeys(b, keys);
  const flood = 'fair-flood';
  const quiet = 'fair-quiet';
  await createNamespace(b, flood);
  await createNamespace(b, quiet);
  const objects = objectsOf(floodCount, keys);
  await createExternalSecrets(b, flood, objects, '1h');
  // Cluster-wide, with the chart's defaults (no tuning): the install a tenant would meet.
  const first = await FerryProcess.start(b.bed, [], 'fairness-sync');
  await first.waitSynced(floodCount);
  await first.stop();
  // Every object of one namespace force-synced while the controller is down (a rollout, a
  // restart): it starts with all of them queued as changed, and another namespace's new objects
  // arrive behind them.
  note(`${label}: ${floodCount} synced; forcing every one of them, then starting the controller`);
  await pool(objects, 50, (o) =>
    b.custom.patchNamespacedCustomObject(
      {
        ...group,
        plural: 'externalsecrets',
        namespace: flood,
        name: o.name,
        body: { metadata: { annotations: { 'ferry.dev/force-sync': String(Date.now()) } } },
      },
      merge,
    ),
  );
  const ferry = await FerryProcess.start(b.bed, [], 'fairness');
  const startedAt = Date.now();
  const createdAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  const fresh = objectsOf(quietCount, keys, 'quiet');
  const creating = (async () => {
    for (const o of fresh) {
      for (const [name, at] of await createExternalSecrets(b, quiet, [o], '1h')) createdAt.set(name, at);
      await sleep(500);
    }
  })();
  while (readyAt.size < quietCount) {
    for (const es of await listExternalSecrets(b, quiet)) {
      if (isReady(es) && !readyAt.has(es.metadata.name)) readyAt.set(es.metadata.name, Date.now());
    }
    await sleep(100);
  }
  await creating;
  await ferry.waitSynced(floodCount + quietCount);
  const allMs = Date.now() - startedAt;
  const latencies = fresh.map((o) => (readyAt.get(o.name) ?? 0) - (createdAt.get(o.name) ?? 0)).sort((x, y) => x - y);
  const pct = (p: number) => latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)] ?? 0;
  row(
    label,
    `another namespace's new objects Ready: p50 / max (${quietCount}, one per 500 ms from the start)`,
    `${seconds(pct(0.5))} / ${seconds(pct(1))}`,
  );
  row(label, `${floodCount} forced objects and the new ones synced (from the start)`, seconds(allMs));
  row(label, 'controller peak RSS (VmHWM)', mib(ferry.peakRss()));
  await ferry.stop();
}

// --- S7 unrelated Secrets ------------------------------------------------------------------------

async function scenarioS7(b: Bench): Promise<void> {
  const label = 'S7 unrelated Secrets';
  const namespace = 's7';
  await ensureKeys(b, 10);
  await createNamespace(b, namespace);
  await createExternalSecrets(b, namespace, objectsOf(100, 10), '1h');
  const ferry = await FerryProcess.start(b.bed, ['--namespace', namespace, ...TUNED], namespace);
  await ferry.waitSynced(100);
  const before = await ferry.memoryAfterGc();
  const peakBefore = ferry.peakRss();
  note(`${label}: writing ${NOISE} unrelated Secrets of ${mib(NOISE_BYTES)} into the watched namespace`);
  const t0 = Date.now();
  const retries = await writeUnrelatedSecrets(b, namespace, NOISE, MEMORY_WRITERS);
  note(`${label}: written in ${seconds(Date.now() - t0)} (${retries} retried)`);
  await sleep(5000);
  const after = await ferry.memoryAfterGc();
  row(label, 'unrelated Secrets in the namespace', `${NOISE} × ${mib(NOISE_BYTES)}`, '5,000 × 1 MiB');
  row(
    label,
    'RSS after GC: before → after',
    `${mib(before.rss)} → ${mib(after.rss)} (${mib(after.rss - before.rss)})`,
    '≤ +10 MiB',
  );
  row(label, 'V8 heap after GC: before → after', `${mib(before.heapUsed)} → ${mib(after.heapUsed)}`);
  row(label, 'peak RSS (VmHWM): before → after', `${mib(peakBefore)} → ${mib(ferry.peakRss())}`);
  await ferry.stop();
  // A controller started with them already there (its first list).
  const restarted = await FerryProcess.start(b.bed, ['--namespace', namespace, ...TUNED], `${namespace}-restart`);
  await sleep(2000);
  const cold = await restarted.memoryAfterGc();
  row(
    label,
    'controller started with them present: RSS after GC / peak',
    `${mib(cold.rss)} / ${mib(restarted.peakRss())}`,
  );
  await restarted.stop();
}

// --- Memory: a heap limit, 10,000 objects and 5,000 unrelated 1 MiB Secrets ---------------------

/**
 * Creates `count` unrelated Secrets of NOISE_BYTES in `namespace` with `writers` at a time,
 * retrying creates a loaded API server or etcd failed. Returns how many attempts were retried.
 */
async function writeUnrelatedSecrets(b: Bench, namespace: string, count: number, writers: number): Promise<number> {
  const blob = Buffer.alloc(NOISE_BYTES, 7).toString('base64');
  let done = 0;
  return pool([...Array(count).keys()], writers, async (i) => {
    await b.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: `unrelated-${i}`, labels: { app: 'other' } }, data: { blob } },
    });
    if (++done % 500 === 0) note(`unrelated Secrets: ${done} / ${count}`);
  });
}

async function scenarioMemory(b: Bench): Promise<void> {
  const label = `Memory (${MEMORY_HEAP_MIB} MiB heap limit)`;
  const namespace = 'mem';
  await ensureKeys(b, KEYS);
  await createNamespace(b, namespace);
  await createNamespace(b, 'unrelated');
  // The ExternalSecrets first: 10,000 creates against an etcd already holding 5 GiB on a loaded
  // machine timed out ("etcdserver: request timed out").
  const objects = objectsOf(OBJECTS, KEYS);
  note(`${label}: creating ${OBJECTS} ExternalSecrets over ${KEYS} keys`);
  await createExternalSecrets(b, namespace, objects, '1h');
  note(`${label}: writing ${MEMORY_NOISE} unrelated Secrets of ${mib(NOISE_BYTES)}, ${MEMORY_WRITERS} at a time`);
  const t0 = Date.now();
  const retries = await writeUnrelatedSecrets(b, 'unrelated', MEMORY_NOISE, MEMORY_WRITERS);
  row(
    label,
    'unrelated Secrets present (namespace "unrelated")',
    `${MEMORY_NOISE} × ${mib(NOISE_BYTES)}, written in ${seconds(Date.now() - t0)} (${retries} retried)`,
    '5,000 × 1 MiB',
  );
  // Cluster-wide, as installed by the chart: its Secret list and watch cover every namespace,
  // so the API server filters the unrelated Secrets out of them by label. Without a watch cache
  // that filtering reads all 5 GiB from etcd for each list, which this test bed's API server did
  // not finish within its 60 s request timeout; with --memory-watch-cache the API server serves
  // the list from its cache. --memory-namespaced scopes the controller to the ExternalSecrets'
  // namespace, whose Secret list does not cover the unrelated ones.
  const scope = flags['memory-namespaced'] ? ['--namespace', namespace] : [];
  const nodeFlags = [...NODE_FLAGS, `--max-old-space-size=${MEMORY_HEAP_MIB}`];
  const args = [...scope, ...TUNED];
  note(`${label}: starting the controller (node ${nodeFlags.join(' ')}; ${args.join(' ')})`);
  const ferry = new FerryProcess(b.bed, await freePort(), args, 'memory', {}, nodeFlags);
  let failure: string | undefined;
  try {
    await ferry.waitSynced(OBJECTS);
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  }
  const readyMs = Date.now() - ferry.started;
  const ready = (await listExternalSecrets(b, namespace)).filter(isReady).length;
  const peak = ferry.peakRss();
  const mem = ferry.running ? await ferry.memoryAfterGc().catch(() => undefined) : undefined;
  row(
    label,
    'controller',
    `${scope.length > 0 ? `namespace ${namespace}` : 'cluster-wide'}, node ${nodeFlags.join(' ')}, ${TUNED.join(' ')}; API server ${WATCH_CACHE ? 'with' : 'without'} a watch cache of Secrets`,
  );
  row(label, 'ExternalSecrets Ready', `${ready} / ${OBJECTS}`, `${OBJECTS}`);
  row(label, 'time to all Ready (from process start)', failure ? `not reached: ${failure}` : seconds(readyMs));
  row(label, 'controller peak RSS (VmHWM)', mib(peak));
  row(label, 'controller RSS / V8 heap after GC', mem ? `${mib(mem.rss)} / ${mib(mem.heapUsed)}` : 'no answer');
  row(label, 'controller process at the end', ferry.exitText(), 'running (not killed)');
  await ferry.stop();
}

async function runSync(selected: string[]): Promise<void> {
  process.stdout.write(
    `Ferry sync benchmarks: ${selected.join(', ')}; ${OBJECTS} ExternalSecrets, ${KEYS} keys; ${new Date().toISOString()}\n`,
  );
  const memory = selected.includes('memory');
  const bigNoise = selected.includes('s7') && NOISE * NOISE_BYTES > 1024 ** 3;
  if (memory || bigNoise) {
    // 5,000 Secrets of 1 MiB need more than etcd's 2 GiB default quota.
    process.env.FERRY_TESTBED_ETCD_QUOTA_BYTES ??= String(8 * 1024 ** 3);
  }
  const bed = await startTestBed({
    moto: true,
    // The memory scenario measures the controller, so the servers' own memory is kept bounded:
    // etcd keeps fewer 1 MiB raft entries in memory (10,000 + 5,000 by default, all of them),
    // and the API server holds no watch cache of Secrets (it would keep all 5 GiB decoded once
    // more) unless --memory-watch-cache asks for it. Without it, lists of Secrets are read from
    // etcd, in pages the API server grows up to 2,000.
    // The API server still keeps every Secret in its own informer (one cluster-wide watch of
    // Secrets from itself: ~1 MiB held per 1 MiB Secret, measured), so its Go heap is capped
    // near that to keep garbage from doubling it on a shared machine.
    // S7 writes 1 MiB Secrets too: the same etcd bound, or 5,000 of them would all stay in etcd's
    // memory (an S7 run with --noise 5000 and without it died with everything else on the machine).
    etcdArgs: memory || bigNoise ? ['--snapshot-count=500', '--snapshot-catchup-entries=500'] : [],
    apiserverArgs: memory && !WATCH_CACHE ? ['--watch-cache-sizes=secrets#0'] : [],
    apiserverEnv:
      memory || bigNoise
        ? { GOMEMLIMIT: process.env.BENCH_APISERVER_GOMEMLIMIT ?? (WATCH_CACHE || bigNoise ? '14GiB' : '7GiB') }
        : undefined,
  });
  let failed = false;
  onSignal = async () => {
    for (const p of [...live]) await p.stop().catch(() => p.kill());
    await bed.stop().catch(() => {});
  };
  try {
    const b = await openBench(bed);
    const has = (name: string) => selected.includes(name);
    // First: its controller watches every namespace, and the bed is still empty.
    if (has('fairness')) await scenarioFairness(b);
    if (has('s1') || has('force')) await scenarioS1(b);
    if (has('s1-defaults')) await scenarioS1Defaults(b);
    if (has('s2')) await scenarioS2(b);
    if (has('s3'))
      row(
        'S3 fan-out (ClusterExternalSecret)',
        '1 key into 1,000 namespaces',
        'measured by npm run bench:ces (BENCH_NAMESPACES=1000): see docs/performance.md',
        '1 read per refresh',
      );
    if (has('s4')) await scenarioS4(b);
    if (has('s7')) await scenarioS7(b);
    if (memory) await scenarioMemory(b);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // Whatever failed: every controller still running (the S1 one kept for S4, one a scenario
    // left when it threw), then the bed; what was measured until then is still printed.
    for (const p of [...live]) await p.stop().catch(() => p.kill());
    await bed.stop().catch((err: unknown) => note(`stopping the test bed failed: ${String(err)}`));
    if (failed) process.stdout.write('\nThe benchmark failed; the figures measured until then:\n');
    printTable();
  }
  process.stdout.write(`\n${machineLine()}\n`);
}

async function main(): Promise<void> {
  const sync = wanted.filter((n) => (SYNC_SCENARIOS as readonly string[]).includes(n));
  if (sync.length > 0) await runSync(sync);
  for (const [name, script] of Object.entries(OTHER_BENCHES)) {
    if (!wanted.includes(name)) continue;
    const code = await new Promise<number>((resolve) =>
      spawn(process.execPath, [script], { stdio: 'inherit' }).on('exit', (c) => resolve(c ?? 1)),
    );
    if (code !== 0) process.exitCode = code;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
