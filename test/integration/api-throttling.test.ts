// API Priority and Fairness on the real API server: a ServiceAccount whose FlowSchema leads to a
// priority level with a seat or two that rejects (429) instead of queueing. Ferry's client must
// wait out the Retry-After and retry, so every request still succeeds.
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1Secret,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

const flowcontrol = { group: 'flowcontrol.apiserver.k8s.io', version: 'v1' };
let admin: KubeConfig;
let namespace: string;
let name: string;

beforeAll(async () => {
  admin = kubeConfigFor(testbed().kube);
  namespace = await createNamespace(admin, 'apf');
  name = uniqueName('ferry-apf');
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: { metadata: { name }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  // The smallest share there is, nothing borrowed, and rejection rather than queueing.
  await custom.createClusterCustomObject({
    ...flowcontrol,
    plural: 'prioritylevelconfigurations',
    body: {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'PriorityLevelConfiguration',
      metadata: { name },
      spec: {
        type: 'Limited',
        limited: {
          nominalConcurrencyShares: 1,
          lendablePercent: 0,
          borrowingLimitPercent: 0,
          limitResponse: { type: 'Reject' },
        },
      },
    },
  });
  await custom.createClusterCustomObject({
    ...flowcontrol,
    plural: 'flowschemas',
    body: {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'FlowSchema',
      metadata: { name },
      spec: {
        priorityLevelConfiguration: { name },
        matchingPrecedence: 100,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [{ kind: 'ServiceAccount', serviceAccount: { name, namespace } }],
            resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'] }],
          },
        ],
      },
    },
  });
});

afterAll(async () => {
  const custom = admin?.makeApiClient(CustomObjectsApi);
  await custom?.deleteClusterCustomObject({ ...flowcontrol, plural: 'flowschemas', name }).catch(() => {});
  await custom
    ?.deleteClusterCustomObject({ ...flowcontrol, plural: 'prioritylevelconfigurations', name })
    .catch(() => {});
});

async function serviceAccountConfig(): Promise<KubeConfig> {
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return kubeConfigFor({ ...testbed().kube, token: token.status?.token ?? '' });
}

describe('API Priority and Fairness', () => {
  it('waits out 429 Too Many Requests and retries, so a burst far above the seats all succeeds', async () => {
    const kc = await serviceAccountConfig();
    const metrics = new Metrics();
    const client = new KubeClient(kc, { qps: 1e6, burst: 1e6, metrics });
    // The priority level may take a moment to be in force: keep bursting until it answers 429.
    let created = 0;
    for (let round = 0; round < 5; round++) {
      const burst = Array.from({ length: 40 }, (_, i) => `s-${round}-${i}`);
      const results = await Promise.all(
        burst.map(async (secret): Promise<V1Secret | undefined> => {
          await client.createSecret({ metadata: { name: secret, namespace }, stringData: { k: 'v' } });
          return client.readSecret(namespace, secret);
        }),
      );
      created += results.filter((s) => s?.metadata?.name).length;
      expect(results.every((s, i) => s?.metadata?.name === burst[i])).toBe(true);
      const throttled = (await metrics.kubeThrottled.get()).values.reduce((sum, v) => sum + v.value, 0);
      if (throttled > 0) {
        expect(created).toBe(40 * (round + 1));
        return;
      }
    }
    throw new Error('the API server never answered 429: the FlowSchema did not take effect');
  }, 300_000);
});
