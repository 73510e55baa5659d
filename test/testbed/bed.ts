// The whole test bed: etcd + kube-apiserver (+ moto, + OpenBao, + drongo), started together and stopped together.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Drongo, type GcpAccess, startDrongo } from './drongo.ts';
import { type Etcd, startEtcd } from './etcd.ts';
import { type KubeAccess, type KubeApiServer, startKubeApiServer } from './kube-apiserver.ts';
import { type AwsAccess, type Moto, startMoto } from './moto.ts';
import { under, unmountWhere } from './node/host-cleanup.ts';
import { type NodeInfo, type RunningNode, startNode } from './node/node.ts';
import { type OpenBao, startOpenBao, type VaultAccess } from './openbao.ts';
import { createPki, type Pki } from './pki.ts';

/** What a test needs to reach the bed; plain data so it can cross into test workers. */
export interface TestBedInfo {
  runDir: string;
  etcdUrl: string;
  pkiDir: string;
  kube: KubeAccess;
  aws?: AwsAccess;
  vault?: VaultAccess;
  gcp?: GcpAccess;
  /** Set when the bed runs a node (kubelet, containerd, kube-controller-manager, kube-scheduler). */
  node?: NodeInfo;
  /** Why the requested node did not start; the rest of the bed still runs. */
  nodeError?: string;
}

export interface TestBed {
  info: TestBedInfo;
  pki: Pki;
  etcd: Etcd;
  apiserver: KubeApiServer;
  moto?: Moto;
  openbao?: OpenBao;
  drongo?: Drongo;
  node?: RunningNode;
  stop(): Promise<void>;
}

/**
 * `node: true` adds a real node (test/testbed/node/) and the ServiceAccount admission plugin. A
 * node that cannot start (no root, no containerd) does not fail the bed: `info.nodeError` says
 * why, and whatever needs the node fails with that message.
 */
export async function startTestBed(
  opts: {
    moto?: boolean;
    openbao?: boolean;
    drongo?: boolean;
    runDir?: string;
    node?: boolean;
    /** More flags for etcd and for the kube-apiserver (benchmarks that store gigabytes). */
    etcdArgs?: string[];
    apiserverArgs?: string[];
    apiserverEnv?: Record<string, string>;
  } = {},
): Promise<TestBed> {
  const runDir = opts.runDir ?? join(tmpdir(), `ferry-testbed-${randomBytes(4).toString('hex')}`);
  await mkdir(runDir, { recursive: true });
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop();
  };
  const track = <T extends { process: { stop(): Promise<void> } }>(server: T): T => {
    started.push(server.process);
    return server;
  };
  try {
    // allSettled, not all: a server that finishes starting after another failed must still be stopped.
    const [pki, etcd, moto, openbao, drongo] = await settleAll([
      createPki(join(runDir, 'pki')),
      startEtcd(runDir, opts.etcdArgs).then(track),
      opts.moto ? startMoto(runDir).then(track) : Promise.resolve(undefined),
      opts.openbao ? startOpenBao(runDir).then(track) : Promise.resolve(undefined),
      opts.drongo ? startDrongo(runDir).then(track) : Promise.resolve(undefined),
    ] as const);
    const apiserver = track(
      await startKubeApiServer({
        runDir,
        pki,
        etcdUrl: etcd.url,
        serviceAccountAdmission: opts.node,
        extraArgs: opts.apiserverArgs,
        env: opts.apiserverEnv,
      }),
    );
    const info: TestBedInfo = {
      runDir,
      etcdUrl: etcd.url,
      pkiDir: pki.dir,
      kube: apiserver.access,
      aws: moto?.access,
      vault: openbao?.access,
      gcp: drongo?.access,
    };
    let node: RunningNode | undefined;
    if (opts.node) {
      try {
        node = await startNode({ runDir, pki, kube: apiserver.access });
        started.push(node); // stopped before the API server, as the node needs it to stop cleanly
        info.node = node.info;
      } catch (err) {
        info.nodeError = err instanceof Error ? err.message : String(err);
      }
    }
    return {
      info,
      pki,
      etcd,
      apiserver,
      moto,
      openbao,
      drongo,
      node,
      async stop() {
        await stopAll();
        await openbao?.admin.close();
        // CSI plugins run by tests mount their volumes' tmpfs under their own data directories.
        await unmountWhere(under(runDir));
        if (!process.env.FERRY_KEEP_TESTBED) await rm(runDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function settleAll<T extends readonly unknown[]>(
  promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
