// Starts the shared test bed (etcd, kube-apiserver, moto, OpenBao, drongo, and a real node:
// kubelet, containerd, kube-controller-manager, kube-scheduler) once per run and stops it at the
// end, on failure too. Tests reach it through inject('testbed'); a node that cannot start fails
// only the tests that need it (requireNode in test/support/pods.ts).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { CANARY_PATTERN, emittedDir } from './support/emitted.ts';
import { kubeConfigFor } from './support/kubeconfig.ts';
import { startTestBed, type TestBed, type TestBedInfo } from './testbed/bed.ts';
import { installCrds } from './testbed/install-crds.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestBedInfo;
  }
}

let bed: TestBed | undefined;

export async function setup(project: TestProject): Promise<void> {
  // FERRY_TESTBED_NODE=off leaves the node out (a development shortcut: only one node can run per
  // machine, so parallel work on other features can run its tests beside a run that holds it).
  // The node's tests then fail, saying so; CI never sets it.
  const node = process.env.FERRY_TESTBED_NODE !== 'off';
  bed = await startTestBed({ moto: true, openbao: true, drongo: true, node });
  if (!node) bed.info.nodeError = 'the node was left out with FERRY_TESTBED_NODE=off (never set in CI)';
  await installCrds(kubeConfigFor(bed.info.kube));
  project.provide('testbed', bed.info);
}

export async function teardown(): Promise<void> {
  try {
    if (bed) await scanForCanaries(bed.info);
  } finally {
    await bed?.stop();
  }
}

/** A read the API server may answer 429 while a CRD's storage is still initializing (short runs). */
async function retrying<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if ((err as { code?: number }).code !== 429 || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * The suite-wide canary scan: every log line the in-process controllers and CSI plugins wrote,
 * every Event and every Ferry object's status left in the cluster at the end of the run. A value
 * shaped like a canary (see test/support/emitted.ts) anywhere there fails the run.
 */
async function scanForCanaries(info: TestBedInfo): Promise<void> {
  const hits: string[] = [];
  const dir = emittedDir(info.runDir);
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const f of files) {
    const text = await readFile(join(dir, f), 'utf8');
    const m = CANARY_PATTERN.exec(text);
    if (m) hits.push(`log ${f}: ${text.slice(Math.max(0, m.index - 200), m.index + 40)}`);
  }
  const kc = kubeConfigFor(info.kube);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const e of (await retrying(() => core.listEventForAllNamespaces())).items) {
    if (CANARY_PATTERN.test(`${e.message} ${e.reason}`))
      hits.push(`Event ${e.metadata?.namespace}/${e.metadata?.name}: ${e.message}`);
  }
  let objects = 0;
  for (const plural of ['externalsecrets', 'secretstores', 'clustersecretstores', 'clusterexternalsecrets']) {
    const list = (await retrying(() =>
      custom.listClusterCustomObject({ group: 'ferry.dev', version: 'v1alpha1', plural }),
    )) as {
      items: { metadata?: { namespace?: string; name?: string }; status?: unknown }[];
    };
    for (const o of list.items) {
      objects++;
      if (CANARY_PATTERN.test(JSON.stringify(o.status ?? {})))
        hits.push(`${plural} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}: ${JSON.stringify(o.status)}`);
    }
  }
  process.stdout.write(
    `Canary scan over the whole suite: ${files.length} component logs, every Event and ${objects} Ferry objects' status: ${hits.length} hits\n`,
  );
  if (hits.length > 0) throw new Error(`a canary value was emitted:\n${hits.join('\n')}`);
}
