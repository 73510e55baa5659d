// Least privilege, as a real identity: a ServiceAccount bound to the chart's rendered ClusterRole
// runs the controller through a scenario that touches every rule; then each rule is removed in
// turn and the test shows what breaks. Rules whose users need a real provider login (Vault CA
// ConfigMaps, workload-identity ServiceAccounts and their tokens) are shown by the very API call
// the provider makes through the controller's client being refused.
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { renderChart } from '../support/helm.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { createNamespace, kubeConfigFor, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';
import type { KubeAccess } from '../testbed/kube-apiserver.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../testbed/loopback-servers.ts';

// A private API server (fresh etcd prefix): controllers of other test files running at the same
// time watch ClusterSecretStores cluster-wide on the shared one and would write the status these
// scenarios check, hiding a missing rule.
const own = usePrivateApiServer();
let admin: KubeConfig;
let rules: V1PolicyRule[];
let identityNs: string;

beforeAll(async () => {
  admin = own.get().kc;
  const role = (await renderChart()).find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('-controller'));
  rules = (role?.rules ?? []) as V1PolicyRule[];
  identityNs = await createNamespace(admin, 'lp');
});

const label = (r: V1PolicyRule) => `${r.apiGroups?.join(',') || 'core'}/${r.resources?.join(',')}`;

/** A fresh ServiceAccount bound to exactly `granted`, and a kubeconfig that authenticates as it. */
async function identityWith(
  granted: V1PolicyRule[],
  on: { admin: KubeConfig; access: KubeAccess; namespace: string } = {
    admin,
    access: own.get().server.access,
    namespace: identityNs,
  },
): Promise<KubeConfig> {
  const name = uniqueName('ferry-lp');
  const core = on.admin.makeApiClient(CoreV1Api);
  const rbac = on.admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: on.namespace, body: { metadata: { name } } });
  await rbac.createClusterRole({ body: { metadata: { name }, rules: granted } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: on.namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    namespace: on.namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return kubeConfigFor({ ...on.access, token: token.status?.token ?? '' });
}

/** A controller running as `kc`, watching `namespace` or (without it) every namespace. */
function runController(kc: KubeConfig, namespace?: string) {
  const controller = new Controller(
    kc,
    {
      namespace,
      concurrency: 4,
      kubeQps: 100,
      kubeBurst: 200,
      providerQps: 100,
      providerBurst: 200,
      shareWindowMs: 60_000,
      namespacedStoreAllowedHosts: BED_LOOPBACK_ALLOWED_HOSTS,
    },
    pino({ level: 'silent' }),
    new Metrics(),
  );
  const stop = new AbortController();
  return { controller, stop, done: controller.run(stop.signal) };
}

/** Whether `check` comes true within `ms`. */
function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  return eventually('outcome', async () => ((await check()) ? true : undefined), ms).catch(() => false);
}

interface Outcome {
  ready: boolean;
  secret: boolean;
  esStatus: boolean;
  storeStatus: boolean;
  clusterStoreStatus: boolean;
  viaClusterStore: boolean;
  events: boolean;
}

/**
 * Runs the controller as `kc` over a SecretStore, a ClusterSecretStore admitting namespaces by
 * label, and an ExternalSecret on each, and reports what a user would see.
 */
async function scenario(kc: KubeConfig): Promise<Outcome> {
  const ns = await createNamespace(admin, 'lp-app');
  await admin
    .makeApiClient(CoreV1Api)
    .patchNamespace(
      { name: ns, body: { metadata: { labels: { 'lp-team': 'a' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const o = new Objects(admin, ns);
  const css = uniqueName('lp-css');
  const fake = { fake: { data: [{ key: 'k', value: 'v' }] } };
  await o.secretStore('store', fake);
  await o.clusterSecretStore(css, {
    provider: fake,
    conditions: [{ namespaceSelector: { matchLabels: { 'lp-team': 'a' } } }],
  });
  await o.externalSecret('direct', {
    secretStoreRef: { name: 'store' },
    data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
  });
  await o.externalSecret('shared', {
    secretStoreRef: { name: css, kind: 'ClusterSecretStore' },
    data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
  });
  const { controller, stop, done } = runController(kc, ns);
  try {
    const ready = await within(5000, async () => controller.ready);
    if (!ready) {
      // Caches never synced: nothing is reconciled (checked once, not waited on per outcome).
      const secret = (await o.secretText('direct')) !== undefined;
      return {
        ready,
        secret,
        esStatus: false,
        storeStatus: false,
        clusterStoreStatus: false,
        viaClusterStore: false,
        events: false,
      };
    }
    const custom = admin.makeApiClient(CustomObjectsApi);
    const readyCondition = async (plural: string, name: string, namespace?: string) => {
      const group = { group: 'ferry.dev', version: 'v1alpha1', plural, name };
      const obj = (
        namespace
          ? await custom.getNamespacedCustomObject({ ...group, namespace })
          : await custom.getClusterCustomObject(group)
      ) as { status?: { conditions?: { type: string; status: string }[] } };
      return obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    };
    const secret = await within(5000, async () => (await o.secretText('direct'))?.k === 'v');
    const viaClusterStore = await within(3000, async () => (await o.secretText('shared'))?.k === 'v');
    const esStatus = await within(3000, () => readyCondition('externalsecrets', 'direct', ns));
    const storeStatus = await within(3000, () => readyCondition('secretstores', 'store', ns));
    const clusterStoreStatus = await within(3000, () => readyCondition('clustersecretstores', css));
    const events = await within(3000, async () => (await o.events()).length > 0);
    return { ready, secret, esStatus, storeStatus, clusterStoreStatus, viaClusterStore, events };
  } finally {
    stop.abort();
    await done;
  }
}

describe('the chart ClusterRole as a real identity', () => {
  it('with every rule, the controller syncs through both kinds of store, reports status and records events', async () => {
    expect(rules.length).toBeGreaterThan(5);
    expect(await scenario(await identityWith(rules))).toEqual({
      ready: true,
      secret: true,
      esStatus: true,
      storeStatus: true,
      clusterStoreStatus: true,
      viaClusterStore: true,
      events: true,
    });
  });

  // What a user sees break without each rule of the scenario (resources → outcome that fails).
  const breaks: Record<string, (o: Outcome) => boolean> = {
    'ferry.dev/externalsecrets,secretstores': (o) => !o.ready && !o.secret,
    'ferry.dev/externalsecrets/status,secretstores/status': (o) => o.secret && !o.esStatus && !o.storeStatus,
    'ferry.dev/clustersecretstores': (o) => !o.ready && !o.secret,
    'ferry.dev/clustersecretstores/status': (o) => o.viaClusterStore && !o.clusterStoreStatus,
    'core/secrets': (o) => !o.ready && !o.secret,
    'core/namespaces': (o) => o.secret && !o.viaClusterStore,
    'core/events': (o) => o.secret && o.esStatus && !o.events,
  };

  it.each(Object.keys(breaks))(
    'without %s something breaks',
    async (which) => {
      const without = rules.filter((r) => label(r) !== which);
      expect(without.length, `rule ${which} is in the chart`).toBe(rules.length - 1);
      const outcome = await scenario(await identityWith(without));
      expect(breaks[which]?.(outcome), JSON.stringify(outcome)).toBe(true);
    },
    60_000,
  );

  it('without configmaps, serviceaccounts, tokens or workload rules, the calls providers and rollouts make are refused', async () => {
    const ns = await createNamespace(admin, 'lp-reads');
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'vault-ca' }, data: { ca: 'x' } },
    });
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'app' } } });
    const client = (kc: KubeConfig) => new KubeClient(kc, { qps: 50, burst: 50, metrics: new Metrics() });
    const calls: Record<string, (k: KubeClient) => Promise<unknown>> = {
      'core/configmaps': (k) => k.readConfigMap(ns, 'vault-ca'),
      'core/serviceaccounts': (k) => k.readServiceAccount(ns, 'app'),
      'core/serviceaccounts/token': (k) => k.requestToken(ns, 'app', ['vault'], 600),
      'apps/deployments,statefulsets,daemonsets': (k) => k.listWorkloads('Deployment', ns),
      'apps/replicasets': (k) => k.listPodTemplates(ns),
      'core/pods': (k) => k.listPodTemplates(ns),
    };
    const full = client(await identityWith(rules));
    for (const [which, call] of Object.entries(calls)) {
      await expect(call(full), `${which} with every rule`).resolves.toBeTruthy();
      const without = rules.filter((r) => label(r) !== which);
      expect(without.length, `rule ${which} is in the chart`).toBe(rules.length - 1);
      await expect(call(client(await identityWith(without))), which).rejects.toThrow(/403|forbidden/i);
    }
  });

  it('every rule of the ClusterRole is covered above', () => {
    const covered = [
      ...new Set([...Object.keys(breaks), ...Object.keys(cesBreaks)]),
      'core/configmaps',
      'core/serviceaccounts',
      'core/serviceaccounts/token',
      'apps/deployments,statefulsets,daemonsets',
      'apps/replicasets',
      'core/pods',
    ].sort();
    expect(rules.map(label).sort()).toEqual(covered);
  });
});

interface CesOutcome {
  ready: boolean;
  copy: boolean;
  cesStatus: boolean;
  followsLabels: boolean;
}

// What a user sees break without each rule ClusterExternalSecrets need (resources → outcome that fails).
const cesBreaks: Record<string, (o: CesOutcome) => boolean> = {
  'ferry.dev/clusterexternalsecrets': (o) => !o.ready && !o.copy,
  'ferry.dev/clusterexternalsecrets/status': (o) => o.copy && !o.cesStatus,
  'ferry.dev/externalsecrets': (o) => o.ready && !o.copy && !o.followsLabels,
  'core/namespaces': (o) => !o.ready && !o.copy,
};

// ClusterExternalSecrets are served only by a controller watching every namespace; like the rest
// of this file they run on the private API server, where no other test's objects live.
describe('the chart ClusterRole as a real identity, for ClusterExternalSecrets', () => {
  let ownAdmin: KubeConfig;
  let ownIdentityNs: string;

  beforeAll(async () => {
    ownAdmin = own.get().kc;
    ownIdentityNs = await createNamespace(ownAdmin, 'lp');
  });

  /** Runs a cluster-wide controller as `kc` over a ClusterExternalSecret selecting namespaces by label. */
  async function cesScenario(kc: KubeConfig): Promise<CesOutcome> {
    const team = uniqueName('team');
    const core = ownAdmin.makeApiClient(CoreV1Api);
    const custom = ownAdmin.makeApiClient(CustomObjectsApi);
    const first = await createNamespace(ownAdmin, 'lp-ces');
    const second = await createNamespace(ownAdmin, 'lp-ces');
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const labelled = (ns: string) => core.patchNamespace({ name: ns, body: { metadata: { labels: { team } } } }, merge);
    await labelled(first);
    const group = { group: 'ferry.dev', version: 'v1alpha1' };
    const css = uniqueName('lp-css');
    await new Objects(ownAdmin, first).clusterSecretStore(css, {
      provider: { fake: { data: [{ key: 'k', value: 'v' }] } },
    });
    const name = uniqueName('lp-ces');
    await custom.createClusterCustomObject({
      ...group,
      plural: 'clusterexternalsecrets',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'ClusterExternalSecret',
        metadata: { name },
        spec: {
          externalSecretSpec: {
            secretStoreRef: { name: css, kind: 'ClusterSecretStore' },
            data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
          },
          namespaceSelectors: [{ matchLabels: { team } }],
          refreshTime: '1h',
        },
      },
    });
    const { controller, stop, done } = runController(kc);
    const copyIn = (ns: string) => async () =>
      (await custom
        .getNamespacedCustomObject({ ...group, plural: 'externalsecrets', namespace: ns, name })
        .then(() => true)
        .catch(() => false)) as boolean;
    try {
      const ready = await within(5000, async () => controller.ready);
      const copy = await within(ready ? 5000 : 500, copyIn(first));
      const cesStatus = await within(ready ? 3000 : 500, async () => {
        const ces = (await custom.getClusterCustomObject({ ...group, plural: 'clusterexternalsecrets', name })) as {
          status?: { conditions?: { type: string; status: string }[] };
        };
        return ces.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      });
      await labelled(second);
      const followsLabels = await within(ready ? 3000 : 500, copyIn(second));
      return { ready, copy, cesStatus, followsLabels };
    } finally {
      stop.abort();
      await done;
    }
  }

  const on = () => ({ admin: ownAdmin, access: own.get().server.access, namespace: ownIdentityNs });

  it('with every rule, copies appear in selected namespaces, follow label changes, and status is reported', async () => {
    expect(await cesScenario(await identityWith(rules, on()))).toEqual({
      ready: true,
      copy: true,
      cesStatus: true,
      followsLabels: true,
    });
  });

  it.each(Object.keys(cesBreaks))(
    'without %s something breaks',
    async (which) => {
      const without = rules.filter((r) => label(r) !== which);
      expect(without.length, `rule ${which} is in the chart`).toBe(rules.length - 1);
      const outcome = await cesScenario(await identityWith(without, on()));
      expect(cesBreaks[which]?.(outcome), JSON.stringify(outcome)).toBe(true);
    },
    60_000,
  );
});
