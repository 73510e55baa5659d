// A SecretStore reading the test bed's moto with static keys from a Secret of the same name: the
// setup every AWS benchmark and the demo-like scripts share.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { AwsAccess } from './moto.ts';

export async function createAwsStore(kc: KubeConfig, namespace: string, aws: AwsAccess, name = 'aws'): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name }, stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey } },
  });
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'ferry.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'secretstores',
    body: {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name },
      spec: {
        provider: {
          aws: {
            region: aws.region,
            auth: {
              secretRef: {
                accessKeyIDSecretRef: { name, key: 'id' },
                secretAccessKeySecretRef: { name, key: 'secret' },
              },
            },
          },
        },
      },
    },
  });
}

/** The ClusterSecretStore `name` reading the test bed's moto, with static keys in a Secret of the same name in `namespace` (which must exist). */
export async function createAwsClusterStore(
  kc: KubeConfig,
  aws: AwsAccess,
  namespace = 'ferry-system',
  name = 'aws',
): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name }, stringData: { id: aws.accessKeyId, secret: aws.secretAccessKey } },
  });
  const ref = (key: string) => ({ name, namespace, key });
  await kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
    group: 'ferry.dev',
    version: 'v1alpha1',
    plural: 'clustersecretstores',
    body: {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ClusterSecretStore',
      metadata: { name },
      spec: {
        provider: {
          aws: {
            region: aws.region,
            auth: { secretRef: { accessKeyIDSecretRef: ref('id'), secretAccessKeySecretRef: ref('secret') } },
          },
        },
      },
    },
  });
}
