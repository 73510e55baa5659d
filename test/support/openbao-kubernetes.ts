// OpenBao's Kubernetes auth against the test bed's real API server: a reviewer ServiceAccount
// bound to system:auth-delegator, whose token OpenBao presents in its TokenReviews (test-bed.md §5).
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { KubeAccess } from '../testbed/kube-apiserver.ts';
import type { OpenBaoAdmin } from '../testbed/openbao.ts';
import { kubeConfigFor } from './kubeconfig.ts';
import type { Objects } from './objects.ts';
import { uniqueName } from './testbed.ts';

/** Enables auth/kubernetes on `bao`, reviewing through a ServiceAccount `reviewer` in `namespace`. */
export async function enableKubernetesAuth(bao: OpenBaoAdmin, kube: KubeAccess, namespace: string): Promise<void> {
  const kc = kubeConfigFor(kube);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reviewer' } } });
  await kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
    body: {
      metadata: { name: uniqueName('vault-reviewer') },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'reviewer', namespace }],
    },
  });
  const reviewer = await core.createNamespacedServiceAccountToken({
    namespace,
    name: 'reviewer',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  await bao.enableAuth('kubernetes', 'kubernetes');
  await bao.must('POST', 'auth/kubernetes/config', {
    kubernetes_host: kube.server,
    kubernetes_ca_cert: kube.caPem,
    token_reviewer_jwt: reviewer.status?.token,
    disable_local_ca_jwt: true,
  });
}

/**
 * Two teams: ServiceAccounts team-a and team-b, each with a role that reads only secret/team-<x>,
 * a SecretStore vault-<x> logging in with that role, and a files-only ExternalSecret team-<x>. The
 * ServiceAccount named in the stores is not used for pods: each pod logs in as itself.
 */
export async function twoTeams(bao: OpenBaoAdmin, kube: KubeAccess, o: Objects, server: string): Promise<void> {
  const { namespace } = o;
  const core = kubeConfigFor(kube).makeApiClient(CoreV1Api);
  await enableKubernetesAuth(bao, kube, namespace);
  for (const team of ['a', 'b']) {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: `team-${team}` } } });
    await bao.policy(`team-${team}`, `path "secret/data/team-${team}" { capabilities = ["read"] }`);
    await bao.must('POST', `auth/kubernetes/role/team-${team}`, {
      bound_service_account_names: [`team-${team}`],
      bound_service_account_namespaces: [namespace],
      audience: 'vault',
      token_policies: [`team-${team}`],
    });
    await bao.writeKv2('secret', `team-${team}`, { v: `secret-of-${team}` });
    const reviewer = { name: 'reviewer', audiences: ['vault'] };
    await o.secretStore(`vault-${team}`, {
      vault: { server, path: 'secret', auth: { kubernetes: { role: `team-${team}`, serviceAccountRef: reviewer } } },
    });
    await o.externalSecret(`team-${team}`, {
      secretStoreRef: { name: `vault-${team}` },
      target: { creationPolicy: 'None' },
      data: [{ secretKey: 'v', remoteRef: { key: `team-${team}`, property: 'v' } }],
    });
  }
}
