// Installs the committed CRD files (crds/*.yaml) with server-side apply — what
// `kubectl apply --server-side -f crds/` does — and waits until each is Established.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

export const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

export async function readCrdFiles(dir = CRD_DIR): Promise<V1CustomResourceDefinition[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.yaml')).sort();
  const docs = await Promise.all(names.map(async (n) => loadAllYaml(await readFile(join(dir, n), 'utf8'))));
  return docs.flat() as V1CustomResourceDefinition[];
}

export async function installCrds(kc: KubeConfig, dir = CRD_DIR, timeoutMs = 30_000): Promise<string[]> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const crds = await readCrdFiles(dir);
  for (const crd of crds) {
    await objects.patch(crd, undefined, undefined, 'ferry-install', true, PatchStrategy.ServerSideApply);
  }
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names = crds.map((c) => c.metadata?.name ?? '');
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const current = await api.readCustomResourceDefinition({ name });
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return names;
}
