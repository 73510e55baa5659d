// moto server: a local AWS API (Secrets Manager, STS) on loopback.
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { httpOk } from './probes.ts';
import { ServerProcess } from './server-process.ts';
import { toolPath } from './tools.ts';

export interface AwsAccess {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Moto {
  access: AwsAccess;
  process: ServerProcess;
}

export async function startMoto(runDir: string): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = new ServerProcess({
    name: 'moto',
    command: toolPath('moto'),
    args: ['-H', '127.0.0.1', '-p', String(port)],
    logFile: join(runDir, `moto-${port}.log`),
    probe: httpOk(`${endpoint}/moto-api/`),
    readyTimeoutMs: 60_000,
  });
  await proc.start();
  return {
    access: { endpoint, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' },
    process: proc,
  };
}

/** Wipes every resource moto holds. */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

/** Turns moto's IAM enforcement on (every request checked) or off (every request allowed). */
export async function enforceMotoAuth(endpoint: string, on: boolean): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: on ? '0' : 'inf' });
  if (!res.ok) throw new Error(`moto reset-auth failed: HTTP ${res.status}`);
}
