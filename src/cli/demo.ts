// `ferry demo`: a local control plane from the test bed, Ferry's CRDs applied, and sample
// objects created, so a newcomer sees Ferry's API enforced by a real API server.
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { startTestBed } from '../testbed/bed.ts';
import { installCrds } from '../testbed/install-crds.ts';

function step(text: string): void {
  process.stdout.write(`\n==> ${text}\n`);
}

function say(text: string): void {
  process.stdout.write(`    ${text}\n`);
}

export const command = {
  summary: 'run Ferry against a local control plane it starts and stops itself',
  async run(): Promise<number> {
    step('Starting a local control plane (etcd + kube-apiserver from the test bed)');
    const bed = await startTestBed();
    try {
      say(`API server: ${bed.info.kube.server}`);
      say(`kubeconfig: ${bed.info.kube.kubeconfigPath} (valid while the demo runs)`);
      const kc = new KubeConfig();
      kc.loadFromFile(bed.info.kube.kubeconfigPath);

      step('Applying the CRDs from crds/');
      for (const name of await installCrds(kc)) say(`established ${name}`);

      const namespace = 'demo';
      await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
      const custom = kc.makeApiClient(CustomObjectsApi);
      const group = { group: 'ferry.dev', version: 'v1alpha1', namespace, fieldValidation: 'Strict' };

      step('Creating a SecretStore with the built-in fake provider, and an ExternalSecret');
      await custom.createNamespacedCustomObject({
        ...group,
        plural: 'secretstores',
        body: {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'SecretStore',
          metadata: { name: 'demo' },
          spec: { provider: { fake: { data: [{ key: 'db/password', value: 'demo-password-v1' }] } } },
        },
      });
      await custom.createNamespacedCustomObject({
        ...group,
        plural: 'externalsecrets',
        body: {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'ExternalSecret',
          metadata: { name: 'db' },
          spec: {
            secretStoreRef: { name: 'demo' },
            refreshInterval: '10s',
            data: [{ secretKey: 'password', remoteRef: { key: 'db/password' } }],
          },
        },
      });
      say('secretstore.ferry.dev/demo created');
      say('externalsecret.ferry.dev/db created');

      step('Submitting an invalid ExternalSecret (deletionPolicy Delete without creationPolicy Owner)');
      try {
        await custom.createNamespacedCustomObject({
          ...group,
          plural: 'externalsecrets',
          body: {
            apiVersion: 'ferry.dev/v1alpha1',
            kind: 'ExternalSecret',
            metadata: { name: 'bad' },
            spec: {
              secretStoreRef: { name: 'demo' },
              target: { creationPolicy: 'Orphan', deletionPolicy: 'Delete' },
              data: [{ secretKey: 'password', remoteRef: { key: 'db/password' } }],
            },
          },
        });
        say('unexpectedly accepted');
        return 1;
      } catch (err) {
        if (!(err instanceof ApiException)) throw err;
        say(`rejected by the API server: ${(JSON.parse(String(err.body)) as { message: string }).message}`);
      }
      step('Done; stopping the control plane');
      return 0;
    } finally {
      await bed.stop();
    }
  },
};
