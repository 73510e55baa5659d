// `ferry render` as a user runs it, against moto: ESO manifests (store with static keys in a
// Secret manifest, ExternalSecret with a template), values redacted unless --show-values, provider
// errors named without values, unsupported fields refused with exit 3.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import { runFerry } from '../support/cli.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

const CANARY = 'canary-render-9f3b7c';

let dir: string;
let key: string;

function render(args: string[]) {
  const aws = testbed().aws;
  if (!aws) throw new Error('the test bed has no moto');
  return runFerry(['render', ...args], {
    env: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
      AWS_ENDPOINT_URL_STS: aws.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
}

const store = (region: string) => `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: aws
spec:
  provider:
    aws:
      service: SecretsManager
      region: ${region}
      auth:
        secretRef:
          accessKeyIDSecretRef: {name: aws-creds, key: id}
          secretAccessKeySecretRef: {name: aws-creds, key: secret}
---
apiVersion: v1
kind: Secret
metadata:
  name: aws-creds
stringData:
  id: test
  secret: test
`;

const externalSecret = (remote: string, extra = '') => `apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db
  namespace: app
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: aws
    kind: SecretStore
  target:
    name: db-secret
    template:
      engineVersion: v2
      data:
        url: "postgres://{{ .user }}:{{ .password }}@db:5432"
  data:
    - secretKey: user
      remoteRef: {key: ${remote}, property: user}
    - secretKey: password
      remoteRef: {key: ${remote}, property: password}
${extra}`;

beforeAll(async () => {
  const aws = testbed().aws;
  if (!aws) throw new Error('the test bed has no moto');
  key = uniqueName('render/db');
  const sm = new SecretsManagerClient({
    region: aws.region,
    endpoint: aws.endpoint,
    credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
  });
  await sm.send(
    new CreateSecretCommand({ Name: key, SecretString: JSON.stringify({ user: 'app', password: CANARY }) }),
  );
  dir = await mkdtemp(join(tmpdir(), 'ferry-render-'));
  await writeFile(join(dir, 'store.yaml'), store(aws.region));
  await writeFile(join(dir, 'es.yaml'), externalSecret(key));
  await writeFile(join(dir, 'missing.yaml'), externalSecret(`${key}-gone`));
  await writeFile(join(dir, 'broken.yaml'), externalSecret(`${key}-broken`));
  await writeFile(
    join(dir, 'bad-template.yaml'),
    externalSecret(key).replace('"postgres://{{ .user }}:{{ .password }}@db:5432"', '"{{ .password | fromJson }}"'),
  );
  await writeFile(
    join(dir, 'unsupported.yaml'),
    externalSecret(key, '  dataFrom:\n    - sourceRef: {generatorRef: {kind: Password, name: p}}\n'),
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ferry render against moto', () => {
  it('prints the Secret the controller would write, values redacted', async () => {
    const r = await render([join(dir, 'es.yaml'), '--store', join(dir, 'store.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db-secret', namespace: 'app' },
      type: 'Opaque',
      data: { url: '[redacted]' },
    });
    expect(r.stdout).not.toContain(CANARY);
    expect(r.stdout).not.toContain(Buffer.from(`postgres://app:${CANARY}@db:5432`).toString('base64'));
  });

  it('--show-values prints the rendered values as a Secret holds them (base64)', async () => {
    const r = await render([join(dir, 'es.yaml'), '--store', join(dir, 'store.yaml'), '--show-values']);
    expect(r.code).toBe(0);
    const secret = parse(r.stdout) as { data: Record<string, string> };
    expect(Buffer.from(secret.data.url ?? '', 'base64').toString()).toBe(`postgres://app:${CANARY}@db:5432`);
  });

  it('names a missing remote key and exits 1, with no value anywhere', async () => {
    const r = await render([join(dir, 'missing.yaml'), '--store', join(dir, 'store.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`remote key "${key}-gone": NotFound`);
    expect(r.stderr).not.toContain(CANARY);
  });

  it('keeps the value out of every failure it reports (not JSON, a template that fails on it)', async () => {
    for (const file of ['broken.yaml', 'bad-template.yaml']) {
      const r = await render([join(dir, file), '--store', join(dir, 'store.yaml')]);
      expect(r.code, file).toBe(1);
      expect(r.stderr, file).toMatch(/^error: /);
      expect(`${r.stdout}${r.stderr}`, file).not.toContain(CANARY);
    }
  });

  it('refuses a manifest with fields Ferry does not support, naming them (exit 3)', async () => {
    const r = await render([join(dir, 'unsupported.yaml'), '--store', join(dir, 'store.yaml')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('spec.dataFrom[0].sourceRef.generatorRef (generators are not supported by Ferry');
  });

  it('says which store is missing', async () => {
    const r = await render([join(dir, 'es.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SecretStore "aws" does not exist in namespace "app"');
  });
});

describe('ferry render and the controller, side by side on the real API server', () => {
  let o: Objects;
  let ctl: RunningController;
  let files: string;
  let storesFile: string;
  const shared = uniqueName('render-shared');

  type Doc = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: Record<string, unknown> };

  const stores = (namespace: string): Doc[] => [
    {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name: 'team', namespace },
      spec: {
        provider: { fake: { data: [{ key: 'app-db', value: JSON.stringify({ user: 'app', password: 'p-1' }) }] } },
      },
    },
    {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ClusterSecretStore',
      metadata: { name: shared },
      spec: {
        provider: {
          fake: {
            data: [
              { key: `${namespace}-token`, value: 'tok-1' },
              { key: 'other-token', value: 'theirs' },
            ],
          },
        },
        conditions: [{ namespaceSelector: { matchLabels: { 'render-team': 'a' } } }],
        remoteKeyPolicy: { rules: [{ allow: ['{namespace}-*'] }] },
      },
    },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'render-team': 'a' } } },
  ];

  /** An ExternalSecret whose token comes from the shared ClusterSecretStore (its own sourceRef.storeRef). */
  const externalSecret = (name: string, tokenKey: string): Doc => ({
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: o.namespace },
    spec: {
      secretStoreRef: { name: 'team' },
      target: {
        template: {
          type: 'Opaque',
          metadata: { labels: { app: 'db' }, annotations: { 'render.ferry.dev/user': '{{ .user }}' } },
          data: { url: 'postgres://{{ .user }}:{{ .password }}@db/{{ .token }}' },
          mergePolicy: 'Merge',
        },
      },
      data: [
        { secretKey: 'user', remoteRef: { key: 'app-db', property: 'user' } },
        { secretKey: 'password', remoteRef: { key: 'app-db', property: 'password' } },
        {
          secretKey: 'token',
          remoteRef: { key: tokenKey },
          sourceRef: { storeRef: { name: shared, kind: 'ClusterSecretStore' } },
        },
      ],
    },
  });

  /** Applies the ExternalSecret to the bed and writes it for `ferry render`; returns the file. */
  async function apply(es: Doc): Promise<string> {
    const path = join(files, `${String(es.metadata.name)}.yaml`);
    await writeFile(path, stringify(es));
    await o.externalSecret(String(es.metadata.name), es.spec as ExternalSecretSpec);
    return path;
  }

  beforeAll(async () => {
    const kc = kubeConfigFor(testbed().kube);
    o = new Objects(kc, await createNamespace(kc, 'render'));
    await kc
      .makeApiClient(CoreV1Api)
      .patchNamespace(
        { name: o.namespace, body: { metadata: { labels: { 'render-team': 'a' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    files = await mkdtemp(join(tmpdir(), 'ferry-render-bed-'));
    const docs = stores(o.namespace);
    storesFile = join(files, 'stores.yaml');
    await writeFile(storesFile, docs.map((d) => stringify(d)).join('---\n'));
    const [team, css] = docs;
    await o.secretStore('team', (team?.spec?.provider ?? {}) as Record<string, unknown>);
    await o.clusterSecretStore(shared, css?.spec ?? {});
    ctl = await startController(testbed().kube, { namespace: o.namespace });
  });

  afterAll(async () => {
    await ctl?.stop();
    await o?.delete('clustersecretstores', shared).catch(() => undefined);
    if (files) await rm(files, { recursive: true, force: true });
  });

  it('renders an ExternalSecret whose items name their own stores, under a remoteKeyPolicy, exactly as the controller writes it', async () => {
    const path = await apply(externalSecret('combined', `${o.namespace}-token`));
    const written = await o.waitForSecret('combined', (d) => d.token === 'tok-1', 'the Secret the controller writes');
    const r = await runFerry(['render', path, '--store', storesFile, '--show-values']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rendered = parse(r.stdout) as {
      metadata: Record<string, unknown>;
      type: string;
      data: Record<string, string>;
    };
    expect(Object.keys(rendered.data).sort()).toEqual(['password', 'token', 'url', 'user']);
    expect(rendered.data).toEqual(written.data);
    expect(rendered.type).toBe(written.type);
    expect(rendered.metadata.labels).toEqual({ app: 'db' });
    expect(written.metadata?.labels?.app).toBe('db');
    expect(rendered.metadata.annotations).toEqual({ 'render.ferry.dev/user': 'app' });
    expect(written.metadata?.annotations?.['render.ferry.dev/user']).toBe('app');
  });

  it("refuses a key the shared store's remoteKeyPolicy does not allow, with the controller's message", async () => {
    const path = await apply(externalSecret('refused', 'other-token'));
    const { ready } = await o.waitForReady('refused', { status: 'False', message: /not allowed/ });
    const message = ready.message ?? '';
    expect(message).toMatch(/spec\.data\[2\]\.remoteRef\.key: remote key "other-token" is not allowed/);
    const r = await runFerry(['render', path, '--store', storesFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${message}\n`);
  });
});
