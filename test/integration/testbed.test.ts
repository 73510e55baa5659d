// The test bed itself: every later test rests on these servers behaving like the real thing.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import { startKubeApiServer } from '../testbed/kube-apiserver.ts';
import { loadPki } from '../testbed/pki.ts';
import { ServerProcess } from '../testbed/server-process.ts';
import { toolPath } from '../testbed/tools.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function getReadyz(server: string, caPem: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server}/readyz`, { ca: caPem }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kube-apiserver + etcd', () => {
  it('answers /readyz over TLS signed by the bed CA', async () => {
    const { kube } = testbed();
    const res = await getReadyz(kube.server, kube.caPem);
    expect(res).toEqual({ status: 200, body: 'ok' });
  });

  it('round-trips a Secret through etcd', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = await createNamespace(kc);
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'round-trip' }, stringData: { password: 'p4ss' } },
    });
    const read = await core.readNamespacedSecret({ namespace, name: 'round-trip' });
    expect(Buffer.from(read.data?.password ?? '', 'base64').toString()).toBe('p4ss');
  });

  it('issues ServiceAccount tokens with TokenRequest that TokenReview accepts', async () => {
    const kc = kubeConfigFor(testbed().kube);
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = await createNamespace(kc);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'app' } } });
    const minted = await core.createNamespacedServiceAccountToken({
      namespace,
      name: 'app',
      body: { spec: { audiences: ['vault'], expirationSeconds: 600 } },
    });
    const token = minted.status?.token;
    expect(token).toBeTruthy();

    const review = await kc
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token: token as string, audiences: ['vault'] } } });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${namespace}:app`);

    const wrongAudience = await kc
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token: token as string, audiences: ['someone-else'] } } });
    expect(wrongAudience.status?.authenticated).toBeFalsy();
  });

  it('keeps serving the same data after the API server restarts', async () => {
    const bed = testbed();
    const pki = await loadPki(bed.pkiDir);
    const own = await startKubeApiServer({ runDir: bed.runDir, pki, etcdUrl: bed.etcdUrl });
    try {
      const kc = kubeConfigFor(own.access);
      const core = kc.makeApiClient(CoreV1Api);
      const namespace = await createNamespace(kc);
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'before' }, data: { a: '1' } } });

      await own.process.restart();

      const read = await core.readNamespacedConfigMap({ namespace, name: 'before' });
      expect(read.data).toEqual({ a: '1' });
    } finally {
      await own.process.stop();
    }
  });
});

describe('moto (AWS Secrets Manager)', () => {
  it('stores and returns a secret through the AWS SDK with an explicit endpoint', async () => {
    const aws = testbed().aws;
    if (!aws) throw new Error('the shared test bed has no moto');
    const client = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    });
    const name = uniqueName('bed/sdk');
    await client.send(new CreateSecretCommand({ Name: name, SecretString: '{"user":"ferry"}' }));
    const got = await client.send(new GetSecretValueCommand({ SecretId: name }));
    expect(got.SecretString).toBe('{"user":"ferry"}');
    expect(got.VersionStages).toContain('AWSCURRENT');
  });

  it('is reached through AWS_ENDPOINT_URL_SECRETS_MANAGER, the standard SDK setting', async () => {
    const aws = testbed().aws;
    if (!aws) throw new Error('the shared test bed has no moto');
    const name = uniqueName('bed/env');
    const script = `
      import { SecretsManagerClient, CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
      const c = new SecretsManagerClient({});
      await c.send(new CreateSecretCommand({ Name: ${JSON.stringify(name)}, SecretString: 'via-env' }));
      const v = await c.send(new GetSecretValueCommand({ SecretId: ${JSON.stringify(name)} }));
      process.stdout.write(v.SecretString);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? '',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
        AWS_REGION: aws.region,
        AWS_ACCESS_KEY_ID: aws.accessKeyId,
        AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    expect(stdout).toBe('via-env');
  });
});

describe('bad input', () => {
  it('fails fast, naming the tool and its log, when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const logDir = await mkdtemp(join(tmpdir(), 'ferry-bad-'));
    onTestFinished(() => rm(logDir, { recursive: true, force: true }));
    const logFile = join(logDir, 'moto.log');
    const proc = new ServerProcess({
      name: 'moto',
      command: toolPath('moto'),
      args: ['-H', '127.0.0.1', '-p', String(port)],
      logFile,
      probe: async () => false,
      readyTimeoutMs: 60_000,
    });
    const started = Date.now();
    try {
      await expect(proc.start()).rejects.toThrow(new RegExp(`moto exited .*Read ${logFile}`, 's'));
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(proc.running).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('names the tool and its build log when a tool cannot be built', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'ferry-cache-'));
    onTestFinished(() => rm(cache, { recursive: true, force: true }));
    const result = await promisify(execFile)('bash', ['test/testbed/provision.sh', 'etcd'], {
      env: { ...process.env, FERRY_CACHE: cache, ETCD_VERSION: 'v3.6.999' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`FAILED to build etcd. Read ${cache}/logs/build-etcd-v3.6.999.log`);
  });

  it('leaves no server running when the process that started it is killed', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'ferry-orphan-'));
    onTestFinished(() => rm(runDir, { recursive: true, force: true }));
    const script = `
      const { startEtcd } = await import(${JSON.stringify(new URL('../testbed/etcd.ts', import.meta.url).pathname)});
      const etcd = await startEtcd(${JSON.stringify(runDir)});
      process.stdout.write(String(etcd.process.pid) + '\\n');
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
    });
    expect(isAlive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await eventually('etcd to die with its parent', async () => (isAlive(pid) ? undefined : true), 10_000);
  });

  it('says how to provision a tool that is missing', () => {
    const saved = process.env.FERRY_CACHE;
    process.env.FERRY_CACHE = '/nonexistent/ferry-cache';
    try {
      expect(() => toolPath('kube-apiserver')).toThrow(/kube-apiserver is not provisioned .*npm run testbed:setup/);
    } finally {
      if (saved === undefined) delete process.env.FERRY_CACHE;
      else process.env.FERRY_CACHE = saved;
    }
  });
});
