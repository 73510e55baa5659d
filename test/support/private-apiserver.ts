// A kube-apiserver owned by one test file, on the bed's etcd under a fresh prefix (an empty
// cluster) with Ferry's CRDs installed: for a controller that watches every namespace and must
// not see other test files' objects.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { installCrds } from '../testbed/install-crds.ts';
import { type KubeApiServer, startKubeApiServer } from '../testbed/kube-apiserver.ts';
import { loadPki } from '../testbed/pki.ts';
import { kubeConfigFor, testbed } from './testbed.ts';

/** `extraArgs`: more kube-apiserver flags (e.g. a short --min-request-timeout). */
export function usePrivateApiServer(extraArgs: string[] = []): { get(): { server: KubeApiServer; kc: KubeConfig } } {
  let server: KubeApiServer | undefined;
  let kc: KubeConfig | undefined;
  beforeAll(async () => {
    server = await startKubeApiServer({
      runDir: testbed().runDir,
      pki: await loadPki(testbed().pkiDir),
      etcdUrl: testbed().etcdUrl,
      extraArgs,
    });
    kc = kubeConfigFor(server.access);
    await installCrds(kc);
  });
  afterAll(async () => {
    await server?.process.stop();
  });
  return {
    get() {
      if (!server || !kc) throw new Error('private API server is not started yet (use it inside a test or hook)');
      return { server, kc };
    },
  };
}
