// A single-member etcd 3.6 on loopback, data in the run directory, fsync off (tests only).
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { httpOk } from './probes.ts';
import { ServerProcess } from './server-process.ts';
import { toolPath } from './tools.ts';

export interface Etcd {
  url: string;
  process: ServerProcess;
}

/** `extraArgs`: more etcd flags after the defaults (a benchmark bounds the raft log it keeps in memory). */
export async function startEtcd(runDir: string, extraArgs: string[] = []): Promise<Etcd> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = new ServerProcess({
    name: 'etcd',
    command: toolPath('etcd'),
    args: [
      '--name=default',
      `--data-dir=${join(runDir, 'etcd-data')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--unsafe-no-fsync=true',
      // Benchmarks that store gigabytes (5,000 Secrets of 1 MiB) raise etcd's 2 GiB default.
      ...(process.env.FERRY_TESTBED_ETCD_QUOTA_BYTES
        ? [`--quota-backend-bytes=${Number(process.env.FERRY_TESTBED_ETCD_QUOTA_BYTES)}`]
        : []),
      '--log-level=warn',
      ...extraArgs,
    ],
    logFile: join(runDir, 'etcd.log'),
    probe: httpOk(`${url}/readyz`),
    readyTimeoutMs: 30_000,
  });
  await proc.start();
  return { url, process: proc };
}
