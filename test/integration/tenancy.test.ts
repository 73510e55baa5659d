// Tenancy on the real API server: a namespace cannot reach another namespace's SecretStore, a
// ClusterSecretStore's conditions and a store's remoteKeyPolicy are enforced before any provider
// call, and dataFrom[].find results a tenant may not read are left out unread. Each denial must
// show in the status (field named), as a TenancyDenied Event and in ferry_tenancy_denials_total.
//
// The controller is scoped to the tenant's namespace, like every controller in these tests (a
// cluster-wide one would act on other files' objects). Provider calls are counted with the
// controller's own ferry_provider_calls_total, leaving out store validations ('validate': a
// store's own credential check, made whether or not any ExternalSecret uses it).
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { SecretWriter } from '../../src/sinks/secret/secret-writer.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

let ctl: RunningController;
let tenant: Objects;
let other: Objects;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const a = await createNamespace(kc, 'tenant');
  const b = await createNamespace(kc, 'other');
  await kc
    .makeApiClient(CoreV1Api)
    .patchNamespace(
      { name: a, body: { metadata: { labels: { 'tenancy-test': a } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  tenant = new Objects(kc, a);
  other = new Objects(kc, b);
  ctl = await startController(testbed().kube, { namespace: a });
});

afterAll(async () => {
  await ctl?.stop();
});

const fake = (data: { key: string; value: string }[]) => ({ fake: { data } });

/**
 * Calls made to the fake provider on behalf of ExternalSecrets (reads, listings). Every store here
 * is fake, which has no login; other files' ClusterSecretStores (validated, with logins, by this
 * controller too, since those are cluster-wide) never count.
 */
async function providerCalls(): Promise<number> {
  const { values } = await ctl.controller.metrics.providerCalls.get();
  return values
    .filter((v) => v.labels.provider === 'fake' && v.labels.operation !== 'validate')
    .reduce((n, v) => n + v.value, 0);
}

async function reads(): Promise<number> {
  const m = ctl.controller.metrics;
  return m.total(m.providerCalls, { provider: 'fake', operation: 'read' });
}

async function denials(store: string, reason: string): Promise<number> {
  const m = ctl.controller.metrics;
  return m.total(m.tenancyDenials, { store, reason });
}

async function deniedEvent(name: string, message: RegExp): Promise<void> {
  await eventually(`a TenancyDenied Event for ${name}`, async () =>
    (await tenant.events()).some(
      (e) =>
        e.involved === name && e.type === 'Warning' && e.reason === 'TenancyDenied' && message.test(e.message ?? ''),
    )
      ? true
      : undefined,
  );
}

describe('a namespace and SecretStores of other namespaces', () => {
  it('cannot name another namespace, and a store name resolves in its own namespace only', async () => {
    const store = uniqueName('theirs');
    const key = uniqueName('their-key');
    await other.secretStore(store, fake([{ key, value: 'other-tenant-value' }]));
    const before = await providerCalls();

    // secretStoreRef has no namespace field: a strict client is refused at admission.
    const refused = await tenant.custom
      .createNamespacedCustomObject({
        group: 'ferry.dev',
        version: 'v1alpha1',
        namespace: tenant.namespace,
        plural: 'externalsecrets',
        fieldValidation: 'Strict',
        body: {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'ExternalSecret',
          metadata: { name: uniqueName('strict') },
          spec: {
            secretStoreRef: { name: store, namespace: other.namespace },
            data: [{ secretKey: 'k', remoteRef: { key } }],
          },
        },
      })
      .then(
        () => 'accepted',
        (e: unknown) => String((e as { body?: string }).body ?? e),
      );
    expect(refused).toMatch(/strict decoding error: unknown field \W+spec\.secretStoreRef\.namespace/);

    // A lenient client has the field pruned: the name is looked up in the tenant's namespace.
    const name = uniqueName('cross');
    await tenant.custom.createNamespacedCustomObject({
      group: 'ferry.dev',
      version: 'v1alpha1',
      namespace: tenant.namespace,
      plural: 'externalsecrets',
      body: {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'ExternalSecret',
        metadata: { name },
        spec: {
          secretStoreRef: { name: store, namespace: other.namespace },
          data: [{ secretKey: 'k', remoteRef: { key } }],
        },
      },
    });
    const stored = await tenant.getExternalSecret(name);
    expect(stored.spec.secretStoreRef).toEqual({ name: store });
    await tenant.waitForReady(name, {
      status: 'False',
      message: new RegExp(`SecretStore "${store}" does not exist in namespace "${tenant.namespace}"`),
    });
    await ctl.controller.idle();
    expect(await tenant.secret(name)).toBeUndefined();
    expect(await providerCalls()).toBe(before);
  });
});

describe('ClusterSecretStore conditions', () => {
  const rows = [
    { field: 'namespaces', admits: (ns: string) => ({ namespaces: [ns] }), refuses: { namespaces: ['elsewhere'] } },
    {
      field: 'namespaceRegexes',
      admits: (ns: string) => ({ namespaceRegexes: [`^${ns}$`] }),
      refuses: { namespaceRegexes: ['^elsewhere-'] },
    },
    {
      field: 'namespaceSelector',
      admits: (ns: string) => ({ namespaceSelector: { matchLabels: { 'tenancy-test': ns } } }),
      refuses: { namespaceSelector: { matchLabels: { 'tenancy-test': 'elsewhere' } } },
    },
  ];

  it.each(rows)('$field: a refused namespace costs no provider call; an admitted one syncs', async (row) => {
    const refusing = uniqueName('css-no');
    const admitting = uniqueName('css-yes');
    const key = uniqueName('shared-key');
    await tenant.clusterSecretStore(refusing, { provider: fake([{ key, value: 'v' }]), conditions: [row.refuses] });
    await tenant.clusterSecretStore(admitting, {
      provider: fake([{ key, value: 'v' }]),
      conditions: [row.admits(tenant.namespace)],
    });
    const spec = (store: string): ExternalSecretSpec => ({
      secretStoreRef: { name: store, kind: 'ClusterSecretStore' },
      data: [{ secretKey: 'k', remoteRef: { key } }],
    });

    const before = await providerCalls();
    const denied = uniqueName('denied');
    await tenant.externalSecret(denied, spec(refusing));
    const { ready } = await tenant.waitForReady(denied, { status: 'False', message: /does not allow namespace/ });
    expect(ready.message).toBe(
      `spec.secretStoreRef: ClusterSecretStore "${refusing}" does not allow namespace "${tenant.namespace}" (see its spec.conditions)`,
    );
    await deniedEvent(denied, /spec\.conditions/);
    expect(await denials(`ClusterSecretStore/${refusing}`, 'namespace_not_allowed')).toBeGreaterThanOrEqual(1);
    await ctl.controller.idle();
    expect(await providerCalls()).toBe(before);
    expect(await tenant.secret(denied)).toBeUndefined();

    const allowed = uniqueName('allowed');
    await tenant.externalSecret(allowed, spec(admitting));
    await tenant.waitForSecret(allowed, (d) => d.k === 'v', 'the admitted namespace synced');
    expect(await providerCalls()).toBeGreaterThan(before);
  });
});

describe('remoteKeyPolicy', () => {
  it('refuses keys outside the pattern before any provider call, naming the field', async () => {
    const ns = tenant.namespace;
    const store = uniqueName('policy');
    await tenant.secretStore(
      store,
      fake([
        { key: `apps/${ns}/db`, value: 'mine' },
        { key: 'apps/someone-else/db', value: 'theirs' },
      ]),
      { remoteKeyPolicy: { rules: [{ allow: ['apps/{namespace}/*'] }] } },
    );
    const cases: { spec: Omit<ExternalSecretSpec, 'secretStoreRef'>; field: string; key: string }[] = [
      {
        spec: { data: [{ secretKey: 'k', remoteRef: { key: 'apps/someone-else/db' } }] },
        field: 'spec.data[0].remoteRef.key',
        key: 'apps/someone-else/db',
      },
      {
        spec: {
          data: [{ secretKey: 'ok', remoteRef: { key: `apps/${ns}/db` } }],
          dataFrom: [{ extract: { key: 'apps/someone-else/db' } }],
        },
        field: 'spec.dataFrom[0].extract.key',
        key: 'apps/someone-else/db',
      },
      {
        spec: {
          data: [
            { secretKey: 'ok', remoteRef: { key: `apps/${ns}/db` } },
            { secretKey: 'k', remoteRef: { key: `apps/${ns}/../someone-else/db` } },
          ],
        },
        field: 'spec.data[1].remoteRef.key',
        key: `apps/${ns}/../someone-else/db`,
      },
    ];
    const before = await providerCalls();
    const deniedBefore = await denials(`SecretStore/${ns}/${store}`, 'remote_key_not_allowed');
    for (const c of cases) {
      const name = uniqueName('refused');
      await tenant.externalSecret(name, { secretStoreRef: { name: store }, ...c.spec });
      const { ready } = await tenant.waitForReady(name, { status: 'False', message: /spec\.remoteKeyPolicy/ });
      expect(ready.message).toBe(
        `${c.field}: remote key "${c.key}" is not allowed in namespace "${ns}" by SecretStore "${store}" (spec.remoteKeyPolicy)`,
      );
      await deniedEvent(name, /spec\.remoteKeyPolicy/);
      expect(await tenant.secret(name)).toBeUndefined();
    }
    await ctl.controller.idle();
    expect(await providerCalls()).toBe(before);
    expect(await denials(`SecretStore/${ns}/${store}`, 'remote_key_not_allowed')).toBeGreaterThanOrEqual(
      deniedBefore + cases.length,
    );

    const allowed = uniqueName('allowed');
    await tenant.externalSecret(allowed, {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'k', remoteRef: { key: `apps/${ns}/db` } }],
    });
    await tenant.waitForSecret(allowed, (d) => d.k === 'mine', 'the allowed key synced');
  });

  it('applies per-namespace rules of a ClusterSecretStore', async () => {
    const ns = tenant.namespace;
    const store = uniqueName('css-policy');
    await tenant.clusterSecretStore(store, {
      provider: fake([
        { key: 'shared/ops-only', value: 'ops' },
        { key: `apps/${ns}/db`, value: 'mine' },
      ]),
      remoteKeyPolicy: {
        rules: [{ allow: ['apps/{namespace}/*'] }, { namespaces: ['ops'], allow: ['shared/*'] }],
      },
    });
    const refused = uniqueName('refused');
    await tenant.externalSecret(refused, {
      secretStoreRef: { name: store, kind: 'ClusterSecretStore' },
      data: [{ secretKey: 'k', remoteRef: { key: 'shared/ops-only' } }],
    });
    await tenant.waitForReady(refused, {
      status: 'False',
      message: new RegExp(
        `spec\\.data\\[0\\]\\.remoteRef\\.key: remote key "shared/ops-only" is not allowed in namespace "${ns}" by ClusterSecretStore "${store}"`,
      ),
    });
    expect(await denials(`ClusterSecretStore/${store}`, 'remote_key_not_allowed')).toBeGreaterThanOrEqual(1);
    const allowed = uniqueName('allowed');
    await tenant.externalSecret(allowed, {
      secretStoreRef: { name: store, kind: 'ClusterSecretStore' },
      data: [{ secretKey: 'k', remoteRef: { key: `apps/${ns}/db` } }],
    });
    await tenant.waitForSecret(allowed, (d) => d.k === 'mine', 'the allowed key synced');
  });

  it('leaves out, unread, the names dataFrom[].find lists that the policy refuses', async () => {
    const ns = tenant.namespace;
    const store = uniqueName('find-policy');
    await tenant.secretStore(
      store,
      fake([
        { key: `${ns}-db`, value: 'mine-db' },
        { key: `${ns}-api`, value: 'mine-api' },
        { key: 'someone-else-db', value: 'theirs' },
        { key: 'someone-else-api', value: 'theirs' },
      ]),
      { remoteKeyPolicy: { rules: [{ allow: ['{namespace}-*'] }] } },
    );
    const name = uniqueName('find');
    const readsBefore = await reads();
    await tenant.externalSecret(name, {
      secretStoreRef: { name: store },
      dataFrom: [{ find: { name: { regexp: '.*' } } }],
    });
    await tenant.waitForSecret(name, () => true, 'the found keys synced');
    expect(await tenant.secretText(name)).toEqual({ [`${ns}-db`]: 'mine-db', [`${ns}-api`]: 'mine-api' });
    // Two names allowed: two reads; the two refused names were never read.
    expect((await reads()) - readsBefore).toBe(2);
    const { ready } = await tenant.waitForReady(name, { status: 'True', reason: 'SecretSynced' });
    // How many names were refused is counted in the metric only: status and Events say nothing
    // of them (it would tell the tenant how many of others' secrets match a pattern).
    expect(ready.message).toBe(`2 keys written to Secret "${name}"`);
    expect(await denials(`SecretStore/${ns}/${store}`, 'find_result_filtered')).toBe(2);
    const events = await tenant.core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.name=${name}`,
    });
    expect(events.items.map((e) => e.message ?? '').filter((m) => /listed|left out|not allowed/.test(m))).toEqual([]);
    // Nothing in the metric labels names a key.
    const exposition = await ctl.controller.metrics.registry.metrics();
    expect(exposition).not.toContain('someone-else');
  });

  it('refuses a target of type kubernetes.io/service-account-token at admission, and in the writer', async () => {
    const store = uniqueName('sa-token');
    await tenant.secretStore(store, fake([{ key: 'k', value: 'v' }]));
    const spec = (type: string): ExternalSecretSpec => ({
      secretStoreRef: { name: store },
      target: { template: { type } },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
    });
    // The setup works: another type is admitted and written.
    await tenant.externalSecret(uniqueName('tls'), spec('example.com/custom'));
    const err = await tenant
      .externalSecret(uniqueName('token'), spec('kubernetes.io/service-account-token'))
      .catch((e: unknown) => e);
    expect(String((err as { body?: string }).body ?? err)).toMatch(
      /spec\.target\.template\.type: Invalid value: .*kubernetes\.io\/service-account-token is refused/,
    );
    // An object admitted before the rule existed meets the same refusal in the writer, and no
    // Secret is made.
    const writer = new SecretWriter(
      new KubeClient(kubeConfigFor(testbed().kube), { qps: 1e6, burst: 1e6, metrics: new Metrics() }),
    );
    const name = uniqueName('token');
    const refused = await writer
      .write(
        {
          namespace: tenant.namespace,
          name,
          creationPolicy: 'Owner',
          immutable: false,
          type: 'kubernetes.io/service-account-token',
          labels: {},
          annotations: { 'kubernetes.io/service-account.name': 'default' },
          externalSecretName: name,
          fieldManager: `ferry-${name}`,
        },
        new Map(),
        undefined,
      )
      .catch((e: unknown) => e);
    expect(String(refused)).toMatch(/spec\.target\.template\.type: kubernetes\.io\/service-account-token is refused/);
    expect(await tenant.secret(name)).toBeUndefined();
  });
});
