// The chart's ValidatingAdmissionPolicy for the minimum refresh (controller.minRefreshInterval),
// rendered by the real helm binary and applied to the bed's real API server, scoped to this
// file's namespace: with Deny, an ExternalSecret refreshing more often than the minimum is
// refused naming the field and the value; 0, the minimum itself, longer intervals and the
// non-periodic policies are admitted. The default renders Warn; Off renders no policy.
import type {
  KubeConfig,
  V1ValidatingAdmissionPolicy,
  V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRunCreate } from '../support/eso-examples.ts';
import { applyChartPolicy, type Manifest, renderChart } from '../support/helm.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

let kc: KubeConfig;
let namespace: string;
let removePolicy: (() => Promise<void>) | undefined;

function ofKind<T>(objects: Manifest[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind && o.metadata.name.endsWith('-min-refresh')) as unknown as T[];
}

const admit = (spec: Record<string, unknown>, ns = namespace) =>
  dryRunCreate(
    kc,
    { group: 'ferry.dev', version: 'v1alpha1', plural: 'externalsecrets', scope: 'Namespaced' },
    {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExternalSecret',
      metadata: { name: uniqueName('adm') },
      spec: { secretStoreRef: { name: 's' }, data: [{ secretKey: 'k', remoteRef: { key: 'k' } }], ...spec },
    },
    ns,
  );

beforeAll(async () => {
  kc = kubeConfigFor(testbed().kube);
  namespace = await createNamespace(kc, 'min-refresh-adm');
  // Scoped to one namespace, as the chart scopes a namespace-scoped install: the bed is shared.
  const objects = await renderChart({
    'controller.watchNamespace': namespace,
    'controller.minRefreshInterval': '30s',
    'controller.minRefreshIntervalAdmission': 'Deny',
  });
  removePolicy = await applyChartPolicy(kc, objects, 'min-refresh');
  await eventually(
    'the policy in force',
    async () =>
      (await admit({ refreshInterval: '1s' }))?.includes('controller.minRefreshInterval') ? true : undefined,
    30_000,
  );
});

afterAll(async () => {
  await removePolicy?.();
});

describe("the chart's minimum-refresh admission policy", () => {
  it('refuses a shorter periodic refresh with Deny, naming the field, the minimum and the value', async () => {
    for (const interval of ['1ms', '500us', '1s', '29s', '29.9s', '0.4m']) {
      const message = await admit({ refreshInterval: interval });
      expect(message, interval).toContain(`spec.refreshInterval ${interval} is below this cluster's minimum (30s`);
      expect(message, interval).toContain('controller.minRefreshInterval');
    }
  });

  it('admits 0 (never refresh), the minimum, longer intervals, no interval and the non-periodic policies', async () => {
    for (const spec of [
      { refreshInterval: '0' },
      { refreshInterval: '30s' },
      { refreshInterval: '1h' },
      { refreshInterval: '1m30s' },
      {},
      { refreshInterval: '1s', refreshPolicy: 'OnChange' },
      { refreshInterval: '1s', refreshPolicy: 'CreatedOnce' },
    ]) {
      expect(await admit(spec), JSON.stringify(spec)).toBeUndefined();
    }
    // Another namespace is not governed by this (namespace-scoped) binding.
    const other = await createNamespace(kc, 'min-refresh-other');
    expect(await admit({ refreshInterval: '1s' }, other)).toBeUndefined();
  });

  it('renders Warn by default, the value as chosen, and nothing with Off', async () => {
    const defaults = await renderChart();
    const [binding] = ofKind<V1ValidatingAdmissionPolicyBinding>(defaults, 'ValidatingAdmissionPolicyBinding');
    expect(binding?.spec?.validationActions).toEqual(['Warn']);
    expect(binding?.spec?.matchResources).toBeUndefined();
    const [policy] = ofKind<V1ValidatingAdmissionPolicy>(defaults, 'ValidatingAdmissionPolicy');
    expect(JSON.stringify(policy?.spec?.validations)).toContain("duration('10s')");
    const off = await renderChart({ 'controller.minRefreshIntervalAdmission': 'Off' });
    expect(ofKind(off, 'ValidatingAdmissionPolicy')).toEqual([]);
  });
});
