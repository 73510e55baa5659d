// `ferry render` as a user runs it, against moto: ESO manifests (store with static keys in a
// Secret manifest, ExternalSecret with a template), values redacted unless --show-values, provider
// errors named without values, unsupported fields refused with exit 3.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runFerry } from '../support/cli.ts';
import { testbed, uniqueName } from '../support/testbed.ts';

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
