// `npm run demo`: Ferry's main job on an embedded default. A local control plane, moto and OpenBao
// from the test bed, the CRDs, the controller; then a Secret synced and rotated from the built-in
// fake provider, from AWS Secrets Manager (moto) and from Vault's API (OpenBao). Everything is
// stopped at the end.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import pino from 'pino';
import type { ExternalSecret } from '../../src/api/v1alpha1/types.ts';
import { Controller } from '../../src/controller/controller.ts';
import { startTestBed } from '../testbed/bed.ts';
import { installCrds } from '../testbed/install-crds.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../testbed/loopback-servers.ts';
import { showPodReadingFiles } from './demo-csi.ts';
import { showPodReadingSecret } from './demo-pod.ts';

const NAMESPACE = 'demo';
const REFRESH = '5s';
const group = { group: 'ferry.dev', version: 'v1alpha1', namespace: NAMESPACE };

function step(text: string): void {
  process.stdout.write(`\n==> ${text}\n`);
}

function say(text: string): void {
  process.stdout.write(`    ${text}\n`);
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Syncs and rotates Secrets on a local control plane it starts and stops itself; the exit code. */
async function runDemo(): Promise<number> {
  step(
    'Starting a local control plane (etcd + kube-apiserver), moto (a local AWS), OpenBao (a local Vault) and a node (kubelet + containerd)',
  );
  const bed = await startTestBed({ moto: true, openbao: true, node: true });
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  try {
    const aws = bed.info.aws;
    if (!aws) throw new Error('the test bed started without moto');
    say(`API server  ${bed.info.kube.server}`);
    say(`kubeconfig  ${bed.info.kube.kubeconfigPath}  (kubectl --kubeconfig … get es -A, while the demo runs)`);
    say(`moto        ${aws.endpoint}`);
    const openbao = bed.openbao;
    if (!openbao) throw new Error('the test bed started without OpenBao');
    say(`OpenBao     ${openbao.access.address}  (root token "${openbao.access.rootToken}", dev mode)`);
    say(bed.info.node ? `node        ${bed.info.node.name} (Ready)` : `node        not started: ${bed.info.nodeError}`);
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);

    step('Applying the CRDs from crds/');
    for (const name of await installCrds(kc)) say(`established ${name}`);

    step('Starting the Ferry controller');
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = aws.endpoint;
    process.env.AWS_ENDPOINT_URL_STS = aws.endpoint;
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    const logFile = join(bed.info.runDir, 'controller.log');
    const controller = new Controller(
      kc,
      {
        concurrency: 10,
        kubeQps: 50,
        kubeBurst: 100,
        providerQps: 20,
        providerBurst: 40,
        shareWindowMs: 2000,
        namespacedStoreAllowedHosts: BED_LOOPBACK_ALLOWED_HOSTS,
      },
      pino({ level: 'info' }, createWriteStream(logFile)),
    );
    running = controller.run(stop.signal);
    await waitFor('the controller to start', async () => (controller.ready ? true : undefined));
    say(`ready; its JSON logs go to ${logFile}`);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });

    const secretValue = async (name: string, key: string) => {
      const s = await core.readNamespacedSecret({ namespace: NAMESPACE, name });
      const v = s.data?.[key];
      return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
    };
    const showRotation = async (
      name: string,
      key: string,
      from: string,
      to: string,
      change: () => Promise<void>,
      note = '',
    ) => {
      const t0 = Date.now();
      await change();
      say(`changed the source: ${from} -> ${to}`);
      await waitFor(`Secret ${name} to show ${to}`, async () =>
        (await secretValue(name, key)) === to ? true : undefined,
      );
      say(
        `Secret ${NAMESPACE}/${name}  ${key}=${to}   (arrived after ${((Date.now() - t0) / 1000).toFixed(1)}s; refreshInterval ${REFRESH}${note})`,
      );
    };
    const externalSecret = (
      name: string,
      store: string,
      key: string,
      property?: string,
      target?: Record<string, unknown>,
    ) =>
      custom.createNamespacedCustomObject({
        ...group,
        plural: 'externalsecrets',
        fieldValidation: 'Strict',
        body: {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'ExternalSecret',
          metadata: { name },
          spec: {
            secretStoreRef: { name: store },
            refreshInterval: REFRESH,
            target,
            data: [{ secretKey: 'password', remoteRef: { key, property } }],
          },
        },
      });

    const secretStore = (name: string, provider: Record<string, unknown>) =>
      custom.createNamespacedCustomObject({
        ...group,
        plural: 'secretstores',
        fieldValidation: 'Strict',
        body: { apiVersion: 'ferry.dev/v1alpha1', kind: 'SecretStore', metadata: { name }, spec: { provider } },
      });

    step(`Built-in fake provider: SecretStore "fake-store" and ExternalSecret "app-db" (refreshInterval ${REFRESH})`);
    const fakeData = (value: string) => ({ fake: { data: [{ key: 'db/password', value }] } });
    await secretStore('fake-store', fakeData('demo-password-v1'));
    await externalSecret('app-db', 'fake-store', 'db/password');
    await waitFor('Secret app-db', async () => ((await secretValue('app-db', 'password')) ? true : undefined));
    say(`Secret ${NAMESPACE}/app-db  password=${await secretValue('app-db', 'password')}`);
    await showRotation(
      'app-db',
      'password',
      'demo-password-v1',
      'demo-password-v2',
      async () => {
        await custom.patchNamespacedCustomObject(
          {
            ...group,
            plural: 'secretstores',
            name: 'fake-store',
            body: { spec: { provider: fakeData('demo-password-v2') } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      },
      '; a changed store re-syncs its ExternalSecrets at once',
    );

    step(
      'AWS Secrets Manager (moto): secret "prod/api", a SecretStore with keys from a Secret, ExternalSecret "app-api"',
    );
    const sm = new SecretsManagerClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    });
    await sm.send(
      new CreateSecretCommand({ Name: 'prod/api', SecretString: JSON.stringify({ password: 'aws-password-v1' }) }),
    );
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'aws-credentials' },
        stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey },
      },
    });
    await secretStore('aws-store', {
      aws: {
        region: aws.region,
        auth: {
          secretRef: {
            accessKeyIDSecretRef: { name: 'aws-credentials', key: 'id' },
            secretAccessKeySecretRef: { name: 'aws-credentials', key: 'secret' },
          },
        },
      },
    });
    await externalSecret('app-api', 'aws-store', 'prod/api', 'password');
    await waitFor('Secret app-api', async () => ((await secretValue('app-api', 'password')) ? true : undefined));
    say(`Secret ${NAMESPACE}/app-api  password=${await secretValue('app-api', 'password')}`);
    await showRotation('app-api', 'password', 'aws-password-v1', 'aws-password-v2', async () => {
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'prod/api',
          SecretString: JSON.stringify({ password: 'aws-password-v2' }),
        }),
      );
    });

    step(
      'OpenBao (Vault API): KV v2 secret "prod/web", a SecretStore logging in with AppRole, ExternalSecret "app-web"',
    );
    const bao = openbao.admin;
    await bao.writeKv2('secret', 'prod/web', { password: 'vault-password-v1' });
    await bao.policy('demo-reader', 'path "secret/data/prod/*" { capabilities = ["read"] }');
    const { roleId, secretId } = await bao.appRole('demo', ['demo-reader']);
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: 'vault-approle' }, stringData: { 'secret-id': secretId } },
    });
    await secretStore('vault-store', {
      vault: {
        server: openbao.access.address,
        path: 'secret',
        auth: { appRole: { roleId, secretRef: { name: 'vault-approle', key: 'secret-id' } } },
      },
    });
    await externalSecret('app-web', 'vault-store', 'prod/web', 'password');
    await waitFor('Secret app-web', async () => ((await secretValue('app-web', 'password')) ? true : undefined));
    say(`Secret ${NAMESPACE}/app-web  password=${await secretValue('app-web', 'password')}`);
    await showRotation('app-web', 'password', 'vault-password-v1', 'vault-password-v2', async () => {
      await bao.writeKv2('secret', 'prod/web', { password: 'vault-password-v2' });
    });
    const logins = await controller.metrics.total(controller.metrics.providerLogins, { provider: 'vault' });
    say(`Vault logins so far: ${logins} (one token for the store, renewed in the background, revoked at shutdown)`);
    await showPodReadingSecret(kc, bed.info, {
      namespace: NAMESPACE,
      secret: 'app-api',
      key: 'password',
      refresh: REFRESH,
      from: 'aws-password-v2',
      to: 'aws-password-v3',
      rotate: async (to) => {
        await sm.send(
          new PutSecretValueCommand({ SecretId: 'prod/api', SecretString: JSON.stringify({ password: to }) }),
        );
      },
      step,
      say,
    });
    await externalSecret('app-files', 'vault-store', 'prod/web', 'password', { creationPolicy: 'None' });
    await showPodReadingFiles(kc, bed.info, {
      namespace: NAMESPACE,
      externalSecret: 'app-files',
      key: 'password',
      refresh: REFRESH,
      from: 'vault-password-v2',
      to: 'vault-password-v3',
      rotate: async (to) => {
        await bao.writeKv2('secret', 'prod/web', { password: to });
      },
      logger: pino({ level: 'info' }, createWriteStream(join(bed.info.runDir, 'csi-node.log'))),
      step,
      say,
    });

    step('Status, as `kubectl get externalsecrets -n demo` shows it');
    const list = (await custom.listNamespacedCustomObject({ ...group, plural: 'externalsecrets' })) as {
      items: ExternalSecret[];
    };
    say(`${'NAME'.padEnd(10)}${'STORE'.padEnd(12)}${'REFRESH'.padEnd(9)}${'STATUS'.padEnd(15)}READY`);
    for (const es of list.items) {
      const ready = es.status?.conditions?.find((c) => c.type === 'Ready');
      say(
        `${(es.metadata.name ?? '').padEnd(10)}${(es.spec.secretStoreRef?.name ?? '').padEnd(12)}${(es.spec.refreshInterval ?? '').padEnd(9)}${(ready?.reason ?? '').padEnd(15)}${ready?.status ?? ''}`,
      );
    }
    const calls = await controller.metrics.total(controller.metrics.providerCalls);
    say(`provider calls so far: ${calls} (reads and store validations)`);

    step('The API server rejects an invalid ExternalSecret at admission');
    try {
      await custom.createNamespacedCustomObject({
        ...group,
        plural: 'externalsecrets',
        body: {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'ExternalSecret',
          metadata: { name: 'bad' },
          spec: {
            secretStoreRef: { name: 'fake-store' },
            target: { creationPolicy: 'Orphan', deletionPolicy: 'Delete' },
            data: [{ secretKey: 'password', remoteRef: { key: 'db/password' } }],
          },
        },
      });
      say('unexpectedly accepted');
      return 1;
    } catch (err) {
      if (!(err instanceof ApiException)) throw err;
      say((JSON.parse(String(err.body)) as { message: string }).message);
    }

    step(`Done: stopping the controller, ${bed.info.node ? 'the node, ' : ''}the API server, etcd, moto and OpenBao`);
    return 0;
  } finally {
    stop.abort();
    await running;
    await bed.stop();
  }
}

runDemo().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
