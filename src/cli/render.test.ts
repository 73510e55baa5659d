import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderOffline } from './render.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-render-unit-'));
  await writeFile(
    join(dir, 'store.yaml'),
    `apiVersion: ferry.dev/v1alpha1
kind: ClusterSecretStore
metadata: {name: fake}
spec:
  conditions: [{namespaces: [team-a]}]
  provider:
    fake:
      data:
        - {key: db, value: '{"user":"admin","password":"hunter2"}'}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tpl, namespace: team-a}
data:
  config.ini: "user={{ .user }}"
`,
  );
  await writeFile(
    join(dir, 'es.yaml'),
    `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: app}
spec:
  secretStoreRef: {name: fake, kind: ClusterSecretStore}
  target:
    immutable: true
    template:
      metadata: {annotations: {owner: "{{ .user }}"}}
      templateFrom:
        - configMap: {name: tpl, items: [{key: config.ini}]}
      data:
        pw: "{{ .password | b64enc }}"
  dataFrom:
    - extract: {key: db}
`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('renderOffline (fake provider)', () => {
  it('runs templateFrom from a local ConfigMap and the template data, and redacts values', async () => {
    const { secret } = await renderOffline(join(dir, 'es.yaml'), [join(dir, 'store.yaml')], { namespace: 'team-a' });
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'app', namespace: 'team-a', annotations: { owner: 'admin' } },
      type: 'Opaque',
      immutable: true,
      data: { 'config.ini': '[redacted]', pw: '[redacted]' },
    });
  });

  it('shows values on request', async () => {
    const { secret } = await renderOffline(join(dir, 'es.yaml'), [join(dir, 'store.yaml')], {
      namespace: 'team-a',
      showValues: true,
    });
    const data = secret.data as Record<string, string>;
    expect(Buffer.from(data['config.ini'] ?? '', 'base64').toString()).toBe('user=admin');
    expect(Buffer.from(data.pw ?? '', 'base64').toString()).toBe(Buffer.from('hunter2').toString('base64'));
  });

  it("applies the ClusterSecretStore's namespace conditions", async () => {
    await expect(
      renderOffline(join(dir, 'es.yaml'), [join(dir, 'store.yaml')], { namespace: 'team-b' }),
    ).rejects.toThrow('ClusterSecretStore "fake" does not allow namespace "team-b"');
  });
});
