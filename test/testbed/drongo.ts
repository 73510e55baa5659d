// drongo (PyPI): a local server for the Google Cloud Secret Manager REST API, on a free loopback
// port it picks itself and prints on its first line. The admin helpers below drive it over that
// REST API, for tests and the demo. It checks no credentials and serves no gRPC.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { httpOk } from './probes.ts';
import { ServerProcess } from './server-process.ts';
import { toolPath } from './tools.ts';

export interface GcpAccess {
  /** Base URL, e.g. http://127.0.0.1:41234 (a store's spec.provider.gcpsm.endpoint). */
  endpoint: string;
}

export interface Drongo {
  access: GcpAccess;
  process: ServerProcess;
  admin: DrongoAdmin;
}

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

export async function startDrongo(runDir: string): Promise<Drongo> {
  const logFile = join(runDir, `drongo-${process.pid}-${Date.now()}.log`);
  let endpoint: string | undefined;
  // The port is known only once drongo printed it, so the probe reads the log first.
  const probe = async () => {
    endpoint ??= LISTENING.exec(await readFile(logFile, 'utf8').catch(() => ''))?.[1];
    if (!endpoint) return false;
    const health = await fetch(`${endpoint}/drongo/health`).catch(() => undefined);
    const body = (await health?.json().catch(() => undefined)) as { services?: string[] } | undefined;
    return health?.ok === true && body?.services?.includes('secretmanager') === true;
  };
  const proc = new ServerProcess({
    name: 'drongo',
    command: toolPath('drongo'),
    args: ['0'],
    env: { PYTHONUNBUFFERED: '1' },
    logFile,
    probe,
    readyTimeoutMs: 30_000,
  });
  await proc.start();
  if (!endpoint) throw new Error(`drongo became ready without printing its port; read ${logFile}`);
  // A restart must keep the port: stores point at it, and would never recover on another one.
  proc.spec.args = [new URL(endpoint).port];
  proc.spec.probe = httpOk(`${endpoint}/drongo/health`);
  const access = { endpoint };
  return { access, process: proc, admin: new DrongoAdmin(access) };
}

/** REST calls to a drongo server: create secrets and versions, change version states, reset. */
export class DrongoAdmin {
  readonly access: GcpAccess;

  constructor(access: GcpAccess) {
    this.access = access;
  }

  private async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.access.endpoint}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`drongo ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  async reset(): Promise<void> {
    await this.call('POST', '/drongo/reset');
  }

  async createSecret(project: string, id: string): Promise<void> {
    await this.call('POST', `/v1/projects/${project}/secrets?secretId=${encodeURIComponent(id)}`, {
      replication: { automatic: {} },
    });
  }

  /** Adds a version; returns its number. */
  async addVersion(project: string, id: string, value: string | Buffer): Promise<string> {
    const data = Buffer.from(value).toString('base64');
    const answer = await this.call('POST', `/v1/projects/${project}/secrets/${id}:addVersion`, { payload: { data } });
    const version = /\/versions\/(\d+)$/.exec(String(answer.name))?.[1];
    if (!version) throw new Error(`drongo added a version to ${id} but named none`);
    return version;
  }

  /** Creates a secret with one version holding `value`. */
  async secret(project: string, id: string, value: string | Buffer): Promise<string> {
    await this.createSecret(project, id);
    return this.addVersion(project, id, value);
  }

  async setVersionState(project: string, id: string, version: string, to: 'enable' | 'disable' | 'destroy') {
    await this.call('POST', `/v1/projects/${project}/secrets/${id}/versions/${version}:${to}`, {});
  }

  async deleteSecret(project: string, id: string): Promise<void> {
    await this.call('DELETE', `/v1/projects/${project}/secrets/${id}`);
  }
}
