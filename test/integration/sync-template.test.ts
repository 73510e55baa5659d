// target.template end to end on the fake provider, against the real API server: ESO manifests
// that template their Secret (data, templateFrom, metadata, mergePolicy) sync the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

const CANARY = 'canary-41c7-template';
let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'template');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
});

async function store(): Promise<string> {
  const name = uniqueName('tpl');
  await o.secretStore(name, {
    fake: {
      data: [
        { key: 'db', value: '{"user":"app","pass":"s3cret","host":"db.internal","port":5432}' },
        { key: 'canary', value: CANARY },
        {
          key: 'cert',
          value: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64'),
        },
      ],
    },
  });
  return name;
}

describe('target.template', () => {
  it('renders data, type, labels and annotations from the fetched keys (mergePolicy Replace)', async () => {
    await o.externalSecret('tpl-data', {
      secretStoreRef: { name: await store() },
      target: {
        template: {
          engineVersion: 'v2',
          type: 'kubernetes.io/tls',
          metadata: { labels: { user: '{{ .user }}' }, annotations: { 'example.com/host': '{{ .host | upper }}' } },
          data: {
            'tls.crt': '{{ .cert | b64dec }}',
            'tls.key': 'k',
            url: 'postgres://{{ .user }}:{{ .pass | urlquery }}@{{ .host }}:{{ .port }}/app',
            'config.json': '{{ dict "user" .user "port" (.port | atoi) | toJson }}',
          },
        },
      },
      data: [{ secretKey: 'cert', remoteRef: { key: 'cert' } }],
      dataFrom: [{ extract: { key: 'db' } }],
    });
    const secret = await o.waitForSecret('tpl-data', (d) => d.url !== undefined, 'the templated Secret');
    expect(await o.secretText('tpl-data')).toEqual({
      'tls.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      'tls.key': 'k',
      url: 'postgres://app:s3cret@db.internal:5432/app',
      'config.json': '{"port":5432,"user":"app"}',
    });
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata?.labels).toMatchObject({ user: 'app' });
    expect(secret.metadata?.annotations).toMatchObject({ 'example.com/host': 'DB.INTERNAL' });
  });

  it('mergePolicy Merge keeps the fetched keys under the rendered ones; templateFrom reads ConfigMaps and Secrets', async () => {
    await o.core.createNamespacedConfigMap({
      namespace: o.namespace,
      body: {
        metadata: { name: 'tpl-cm' },
        data: {
          dsn: '{{ .user }}@{{ .host }}',
          more: 'extra: "{{ .port }}"\nuser: overridden-by-data',
          labels: 'tier: "{{ .user }}"',
        },
      },
    });
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: 'tpl-secret' }, stringData: { 'from-secret': '{{ .pass | b64enc }}' } },
    });
    await o.externalSecret('tpl-merge', {
      secretStoreRef: { name: await store() },
      target: {
        template: {
          mergePolicy: 'Merge',
          templateFrom: [
            { configMap: { name: 'tpl-cm', items: [{ key: 'dsn' }, { key: 'more', templateAs: 'KeysAndValues' }] } },
            { secret: { name: 'tpl-secret', items: [{ key: 'from-secret' }] } },
            {
              configMap: { name: 'tpl-cm', items: [{ key: 'labels', templateAs: 'KeysAndValues' }] },
              target: 'Labels',
            },
            { literal: 'lit: "{{ .host }}"' },
          ],
          data: { user: '{{ .user | upper }}' },
        },
      },
      dataFrom: [{ extract: { key: 'db' } }],
    });
    const secret = await o.waitForSecret('tpl-merge', (d) => d.dsn !== undefined, 'the merged Secret');
    expect(await o.secretText('tpl-merge')).toEqual({
      user: 'APP',
      pass: 's3cret',
      host: 'db.internal',
      port: '5432',
      dsn: 'app@db.internal',
      extra: '5432',
      'from-secret': Buffer.from('s3cret').toString('base64'),
      lit: 'db.internal',
    });
    expect(secret.metadata?.labels).toMatchObject({ tier: 'app' });
  });

  it.each([
    [
      'an unknown function',
      { data: { v: '{{ .canary | nosuch }}' } },
      /template\.data\["v"\]: template: v:1: function "nosuch" not defined/,
    ],
    ['a parse error', { data: { v: '{{ if .canary }}' } }, /template\.data\["v"\]: .*unexpected EOF/],
    ['a missing key', { data: { v: '{{ .nope }}' } }, /map has no entry for key "nope"/],
    ['a failing function', { data: { v: '{{ .canary | b64dec }}' } }, /error calling b64dec: illegal base64 data/],
    // Templates that would exhaust the controller stop at its limits (docs/templates.md).
    ['a range past the step limit', { data: { v: '{{ range 4000000000 }}{{ end }}' } }, /range over too many elements/],
    [
      'a value over 1 MiB',
      { data: { v: '{{ .canary | repeat 2000000 }}' } },
      /template\.data\["v"\]: .*error calling repeat: repeat: result over 1048576 bytes/,
    ],
    [
      'a value that is no label',
      { metadata: { labels: { l: '{{ .canary }}!' } } },
      /label "l" is not a valid label value/,
    ],
    [
      'a missing templateFrom ConfigMap',
      { templateFrom: [{ configMap: { name: 'absent', items: [{ key: 'k' }] } }] },
      /ConfigMap "absent" does not exist/,
    ],
  ])(
    'reports %s as a status error naming the key, writes nothing and never shows the value',
    async (_, template, message) => {
      const name = uniqueName('tpl-bad');
      await o.externalSecret(name, {
        secretStoreRef: { name: await store() },
        target: { template },
        data: [{ secretKey: 'canary', remoteRef: { key: 'canary' } }],
      });
      const { ready } = await o.waitForReady(name, { status: 'False', reason: 'SecretSyncedError' });
      expect(ready.message).toMatch(message);
      expect(ready.message).not.toContain(CANARY);
      expect(await o.secret(name)).toBeUndefined();
      expect(ctl.logs.join('')).not.toContain(CANARY);
      const events = await o.events();
      expect(
        events
          .filter((e) => e.involved === name)
          .map((e) => e.message)
          .join(''),
      ).not.toContain(CANARY);
    },
  );
});
