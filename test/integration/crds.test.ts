// The CRD files under crds/ as the real API server enforces them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException, ApiextensionsV1Api, CustomObjectsApi, loadYaml } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { installCrds, readCrdFiles } from '../testbed/install-crds.ts';

const fixtures = new URL('../fixtures/crds/', import.meta.url).pathname;
const plurals: Record<string, string> = {
  ExternalSecret: 'externalsecrets',
  SecretStore: 'secretstores',
  ClusterSecretStore: 'clustersecretstores',
  ClusterExternalSecret: 'clusterexternalsecrets',
};

interface Sample {
  file: string;
  body: { kind: string; metadata: { name: string; namespace?: string }; spec: unknown };
  field?: string;
  message?: string;
}

function samples(dir: string): Sample[] {
  return readdirSync(join(fixtures, dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((file) => {
      const text = readFileSync(join(fixtures, dir, file), 'utf8');
      return {
        file,
        body: loadYaml(text) as Sample['body'],
        field: /^# field: (.+)$/m.exec(text)?.[1],
        message: /^# message: (.+)$/m.exec(text)?.[1],
      };
    });
}

async function create(body: Sample['body'], namespace: string): Promise<{ spec: unknown }> {
  const api = kubeConfigFor(testbed().kube).makeApiClient(CustomObjectsApi);
  const plural = plurals[body.kind];
  if (!plural) throw new Error(`unknown kind ${body.kind}`);
  const common = { group: 'ferry.dev', version: 'v1alpha1', plural, fieldValidation: 'Strict' };
  if (body.kind === 'ClusterSecretStore' || body.kind === 'ClusterExternalSecret') {
    const named = { ...body, metadata: { ...body.metadata, name: uniqueName(body.metadata.name) } };
    return api.createClusterCustomObject({ ...common, body: named });
  }
  return api.createNamespacedCustomObject({ ...common, namespace, body });
}

describe('CRDs on the real API server', () => {
  let namespace: string;
  beforeAll(async () => {
    namespace = await createNamespace(kubeConfigFor(testbed().kube));
  });

  it('are Established with short names, the ferry category and a status subresource', async () => {
    const api = kubeConfigFor(testbed().kube).makeApiClient(ApiextensionsV1Api);
    const expected = {
      externalsecrets: 'es',
      secretstores: 'ss',
      clustersecretstores: 'css',
      clusterexternalsecrets: 'ces',
    };
    for (const [plural, short] of Object.entries(expected)) {
      const crd = await api.readCustomResourceDefinition({ name: `${plural}.ferry.dev` });
      expect(crd.spec.names.shortNames).toEqual([short]);
      expect(crd.spec.names.categories).toEqual(['ferry']);
      expect(crd.spec.versions[0]?.subresources?.status).toEqual({});
      expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    }
  });

  it('re-applying the committed files is idempotent', async () => {
    const names = await installCrds(kubeConfigFor(testbed().kube));
    expect(names.sort()).toEqual((await readCrdFiles()).map((c) => c.metadata?.name).sort());
  });

  it.each(samples('valid'))('accepts $file and stores the spec unchanged (no server-side defaults)', async (s) => {
    const created = await create(s.body, namespace);
    expect(created.spec).toEqual(s.body.spec);
  });

  it.each(samples('invalid'))('rejects $file, naming $field', async (s) => {
    expect(s.field && s.message, `${s.file} must declare "# field:" and "# message:"`).toBeTruthy();
    const err = await create(s.body, namespace).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, `${s.file} was accepted`).toBeInstanceOf(ApiException);
    const { code, body } = err as ApiException<string>;
    const message = (JSON.parse(body) as { message: string }).message;
    expect([400, 422]).toContain(code);
    expect(message).toContain(s.field);
    expect(message).toContain(s.message);
  });
});
