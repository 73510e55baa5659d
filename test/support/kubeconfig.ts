// A KubeConfig for the test bed's admin identity.
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeAccess } from '../testbed/kube-apiserver.ts';

export function kubeConfigFor(access: KubeAccess): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'bed', server: access.server, caData: Buffer.from(access.caPem).toString('base64') }],
    users: [{ name: 'admin', token: access.token }],
    contexts: [{ name: 'bed', cluster: 'bed', user: 'admin' }],
    currentContext: 'bed',
  });
  return kc;
}
