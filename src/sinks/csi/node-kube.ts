// What the node plugin asks of the API server for stores, and no more: credentials Secrets and
// ConfigMaps where the chart grants reading them (csiNode.credentialNamespaces), ServiceAccount
// annotations, and never a ServiceAccount token: a store that logs in with one uses the token
// kubelet minted for the pod that mounts the volume.
import { ApiException } from '@kubernetes/client-node';
import type { KubeClient } from '../../kube/client.ts';
import type { StoreClientsOptions } from '../../pipeline/store-clients.ts';
import { ProviderError } from '../../providers/provider.ts';

function refusedAs(what: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof ApiException && err.code === 403) {
      throw new ProviderError(
        'Denied',
        `the CSI node plugin may not read ${what}: it reads store credentials only in the namespaces of the chart value csiNode.credentialNamespaces (docs/csi.md)`,
      );
    }
    throw err;
  };
}

export function nodeScopedKube(kube: KubeClient): StoreClientsOptions['kube'] {
  return {
    readSecret: (namespace, name) => kube.readSecret(namespace, name).catch(refusedAs(`Secret ${namespace}/${name}`)),
    readConfigMap: (namespace, name) =>
      kube.readConfigMap(namespace, name).catch(refusedAs(`ConfigMap ${namespace}/${name}`)),
    readServiceAccount: (namespace, name) => kube.readServiceAccount(namespace, name),
    requestToken: async (namespace, name) => {
      throw new ProviderError(
        'Invalid',
        `the CSI node plugin mints no ServiceAccount tokens (asked for ${namespace}/${name}): in a volume a store logs in with the token kubelet gives the pod`,
      );
    },
  };
}
