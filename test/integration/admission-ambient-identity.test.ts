// The chart's ValidatingAdmissionPolicy for the ambient-identity rule, rendered by the real helm
// binary and applied to the bed's real API server: while the chart value namespacedAmbientIdentity
// is off, a SecretStore that would authenticate as Ferry itself is refused at admission, naming
// the field and the value; ClusterSecretStores and stores with their own credentials are admitted.
// A fuzz over random auth blocks shows admission and Ferry's own check (store-identity.ts) agree.
import type {
  KubeConfig,
  V1ValidatingAdmissionPolicy,
  V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderSpec } from '../../src/api/v1alpha1/secret-store.ts';
import type { AnyStore } from '../../src/api/v1alpha1/types.ts';
import { ambientIdentityRefusal } from '../../src/pipeline/store-identity.ts';
import { selectProvider } from '../../src/providers/registry.ts';
import { AMBIENT_STORES, OWN_STORES, randomProviderSpec } from '../support/ambient-stores.ts';
import { dryRunCreate } from '../support/eso-examples.ts';
import { applyChartPolicy, type Manifest, renderChart } from '../support/helm.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const VALUE = /chart value namespacedAmbientIdentity/;
let kc: KubeConfig;
let namespace: string;
let other: string;
let removePolicy: (() => Promise<void>) | undefined;

/** Objects of `kind`; of the admission policies, this rule's only (the chart renders others, e.g. egress). */
function ofKind<T>(objects: Manifest[], kind: string): T[] {
  const ours = (o: Manifest) =>
    !o.kind.startsWith('ValidatingAdmissionPolicy') || o.metadata.name.endsWith('-ambient-identity');
  return objects.filter((o) => o.kind === kind && ours(o)) as unknown as T[];
}

const admit = (kind: AnyStore['kind'], provider: ProviderSpec, ns = namespace) =>
  dryRunCreate(
    kc,
    {
      group: 'ferry.dev',
      version: 'v1alpha1',
      plural: kind === 'SecretStore' ? 'secretstores' : 'clustersecretstores',
      scope: kind === 'SecretStore' ? 'Namespaced' : 'Cluster',
    },
    { apiVersion: 'ferry.dev/v1alpha1', kind, metadata: { name: uniqueName('adm') }, spec: { provider } },
    ns,
  );

beforeAll(async () => {
  kc = kubeConfigFor(testbed().kube);
  namespace = await createNamespace(kc, 'ambient-adm');
  other = await createNamespace(kc, 'ambient-adm-other');
  // Scoped to one namespace, as the chart scopes a namespace-scoped install: the bed is shared.
  const objects = await renderChart({ 'controller.watchNamespace': namespace });
  removePolicy = await applyChartPolicy(kc, objects, 'ambient-identity');
  // The API server compiles a new policy in the background: wait until it is in force.
  await eventually(
    'the policy in force',
    async () => (VALUE.test((await admit('SecretStore', { aws: { region: 'eu-west-1' } })) ?? '') ? true : undefined),
    30_000,
  );
});

afterAll(async () => {
  await removePolicy?.();
});

describe("the chart's ambient-identity admission policy", () => {
  it('is rendered while namespacedAmbientIdentity is off (cluster-wide, or for watchNamespace), never when on', async () => {
    const off = await renderChart();
    const [binding] = ofKind<V1ValidatingAdmissionPolicyBinding>(off, 'ValidatingAdmissionPolicyBinding');
    const [policy] = ofKind<V1ValidatingAdmissionPolicy>(off, 'ValidatingAdmissionPolicy');
    expect(ofKind(off, 'ValidatingAdmissionPolicy')).toHaveLength(1);
    // Cluster-scoped: named after the release and its namespace, so two namespace-scoped installs never collide.
    expect(policy?.metadata?.name).toBe('ferry-ferry-system-ambient-identity');
    expect(binding?.spec?.policyName).toBe(policy?.metadata?.name);
    expect(binding?.spec?.matchResources).toBeUndefined();
    expect(binding?.spec?.validationActions).toEqual(['Deny']);
    const scoped = await renderChart({ 'controller.watchNamespace': 'apps' });
    expect(
      ofKind<V1ValidatingAdmissionPolicyBinding>(scoped, 'ValidatingAdmissionPolicyBinding')[0]?.spec?.matchResources,
    ).toEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'apps' } } });
    const on = await renderChart({ namespacedAmbientIdentity: true });
    expect([...ofKind(on, 'ValidatingAdmissionPolicy'), ...ofKind(on, 'ValidatingAdmissionPolicyBinding')]).toEqual([]);
    // The processes get the value as their flag.
    const args = (objects: Manifest[], kind: string) =>
      JSON.stringify((ofKind<{ spec: unknown }>(objects, kind)[0] as { spec: unknown } | undefined)?.spec);
    expect(args(off, 'Deployment')).toContain('--namespaced-ambient-identity=off');
    expect(args(on, 'Deployment')).toContain('--namespaced-ambient-identity=on');
    const csiOn = await renderChart({ namespacedAmbientIdentity: true, 'csiNode.enabled': true });
    expect(args(csiOn, 'DaemonSet')).toContain('--namespaced-ambient-identity=on');
  });

  it('admits stores with their own credentials, and ClusterSecretStores with any', async () => {
    for (const [name, provider] of OWN_STORES) expect(await admit('SecretStore', provider), name).toBeUndefined();
    for (const [name, provider] of AMBIENT_STORES) {
      expect(await admit('ClusterSecretStore', provider), name).toBeUndefined();
      // Outside the namespace the binding selects, the same store is admitted (the install's scope).
      expect(await admit('SecretStore', provider, other), name).toBeUndefined();
    }
  });

  it.each(AMBIENT_STORES)(
    'refuses a SecretStore that would use Ferry’s own identity: %s',
    async (_, provider, field) => {
      const message = await admit('SecretStore', provider);
      expect(message).toMatch(VALUE);
      expect(message).toMatch(new RegExp(field.source.split(' ')[0] ?? ''));
    },
  );

  it('agrees with the check Ferry makes itself, on random auth blocks', async () => {
    let judged = 0;
    await fc.assert(
      fc.asyncProperty(randomProviderSpec, async (provider) => {
        const message = await admit('SecretStore', provider);
        // A spec the CRD itself refuses says nothing about this policy.
        if (message && !VALUE.test(message)) return;
        judged++;
        const { provider: p, spec } = await selectProvider(provider);
        const store = { kind: 'SecretStore', metadata: { name: 's', namespace }, spec: { provider } } as AnyStore;
        expect(message !== undefined, JSON.stringify(provider)).toBe(
          ambientIdentityRefusal(store, p, spec, false) !== undefined,
        );
      }),
      { numRuns: 60 },
    );
    expect(judged).toBeGreaterThan(40);
  });
});
