// The chart's rule namespaced-store-egress at admission and its egress NetworkPolicy: rendered by
// the real helm binary and applied to a private kube-apiserver, which then admits or refuses
// SecretStores. The admission policy is fuzzed (fast-check) against the controller's own rule
// (src/providers/egress.ts) with random endpoints, allow-lists and auth blocks. The bed has no
// CNI that enforces NetworkPolicy: for it, what is proven is that the API server accepts the
// rendered policy and that it says what docs/security.md says, not that packets are dropped.
import { type KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EgressAllowList, EgressPolicy } from '../../src/providers/egress.ts';
import { ProviderError } from '../../src/providers/provider.ts';
import { type Manifest, renderChart } from '../support/helm.ts';
import { Objects } from '../support/objects.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const own = usePrivateApiServer();
const RELEASE_NS = 'ferry-system';
const ALLOWED = ['vault.vault.svc', '*.corp.example', '10.20.0.0/16', '192.168.7.7'];
let apps: Objects;
let objects: KubernetesObjectApi;
let rendered: Manifest[];

/** Creates a namespaced SecretStore; the API server's refusal message, or undefined when admitted. */
async function admit(provider: Record<string, unknown>, o: Objects = apps): Promise<string | undefined> {
  const name = uniqueName('s');
  try {
    await o.secretStore(name, provider);
  } catch (err) {
    const body = (err as { body?: string }).body;
    const message =
      typeof body === 'string' ? ((JSON.parse(body) as { message?: string }).message ?? body) : String(err);
    return message;
  }
  await o.delete('secretstores', name);
  return undefined;
}

const token = { tokenSecretRef: { name: 't', key: 'token' } };
const vaultAt = (server: string, auth: Record<string, unknown> = token) => ({ vault: { server, auth } });

beforeAll(async () => {
  const kc = own.get().kc;
  objects = kc.makeApiClient(KubernetesObjectApi);
  rendered = await renderChart(
    { 'networkPolicy.egress.enabled': true },
    {
      egress: { namespacedStoreAllowedHosts: ALLOWED },
      networkPolicy: {
        egress: { blockedCIDRs: ['10.0.0.0/8', 'fd00::/8'], allowTo: [{ ipBlock: { cidr: '10.96.0.1/32' } }] },
      },
    },
  );
  // This rule's objects (the chart renders other admission policies too, e.g. ambient identity).
  const admission = rendered.filter(
    (m) =>
      (m.kind.startsWith('ValidatingAdmissionPolicy') || m.kind === 'ConfigMap') &&
      m.metadata.name.endsWith('-namespaced-store-egress'),
  );
  expect(admission.map((m) => m.kind).sort()).toEqual([
    'ConfigMap',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
  ]);
  const core = new Objects(kc, RELEASE_NS).core;
  await core.createNamespace({ body: { metadata: { name: RELEASE_NS } } });
  for (const m of admission) await objects.create(m as KubernetesObject);
  apps = new Objects(kc, uniqueName('tenant'));
  await core.createNamespace({ body: { metadata: { name: apps.namespace } } });
  // The policy takes a moment to load: once the metadata endpoint is refused, it is in force.
  await eventually('the admission policy is in force', async () =>
    (await admit(vaultAt('http://169.254.169.254'))) ? true : undefined,
  );
});

describe('the chart’s admission policy for namespaced SecretStores (rule namespaced-store-egress)', () => {
  it('refuses loopback, link-local, private and cluster-internal servers, naming the field and the rule', async () => {
    for (const server of [
      'http://127.0.0.1:8200',
      'http://localhost:8200',
      'http://[::1]:8200',
      'http://169.254.169.254',
      'http://[::ffff:169.254.169.254]',
      'http://[fe80::1]',
      'http://10.96.0.10:8200',
      'http://172.20.0.5',
      'http://100.64.1.1',
      'http://0x7f000001',
      'http://127.1',
      'http://0.0.0.0',
    ]) {
      const refused = await admit(vaultAt(server));
      expect(refused, server).toMatch(
        /spec\.provider\.vault\.server: a SecretStore may not make Ferry connect to .*namespaced-store-egress/,
      );
    }
  });

  it('admits public hosts, host names, and the admin’s allow-listed hosts and CIDRs', async () => {
    for (const server of [
      'https://vault.example.com:8200',
      'https://8.8.8.8',
      'http://vault.vault.svc:8200',
      'https://team.corp.example',
      'http://10.20.3.4:8200',
      'http://192.168.7.7',
    ]) {
      expect(await admit(vaultAt(server)), server).toBeUndefined();
    }
  });

  it('admits endpoint overrides only to allow-listed hosts', async () => {
    const gcp = (endpoint: string) => ({ gcpsm: { projectID: 'p', endpoint } });
    expect(await admit(gcp('https://secretmanager.googleapis.com'))).toMatch(
      /spec\.provider\.gcpsm\.endpoint: .*allow-listed/,
    );
    expect(await admit(gcp('https://sm.corp.example'))).toBeUndefined();
    const azure = (extra: Record<string, unknown>, vaultUrl = 'https://kv.vault.azure.net') => ({
      azurekv: { vaultUrl, authType: 'ManagedIdentity', ...extra },
    });
    const stack = {
      environmentType: 'AzureStackCloud',
      customCloudConfig: { activeDirectoryEndpoint: 'https://login.corp.example' },
    };
    expect(await admit(azure(stack))).toMatch(/spec\.provider\.azurekv\.environmentType \(AzureStackCloud: vaultUrl\)/);
    expect(await admit(azure(stack, 'https://kv.corp.example'))).toBeUndefined();
    expect(
      await admit(azure({ customCloudConfig: { activeDirectoryEndpoint: 'https://login.evil.example' } })),
    ).toMatch(/customCloudConfig\.activeDirectoryEndpoint/);
    const iam = (vaultAwsIamServerID: string) => ({ iam: { vaultRole: 'r', vaultAwsIamServerID } });
    expect(await admit(vaultAt('https://vault.example.com', iam('vault.example.com')))).toMatch(/vaultAwsIamServerID/);
    expect(await admit(vaultAt('https://vault.example.com', iam('vault.corp.example')))).toBeUndefined();
  });

  it('passes the same allow-list to the controller and the CSI plugin, and none by default', async () => {
    type Workload = Manifest & { spec: { template: { spec: { containers: { name: string; args?: string[] }[] } } } };
    const argsOf = (objects: Manifest[], kind: string) =>
      (objects.find((m) => m.kind === kind) as Workload | undefined)?.spec.template.spec.containers[0]?.args ?? [];
    const flag = `--namespaced-store-allowed-hosts=${ALLOWED.join(',')}`;
    const withCsi = await renderChart(
      { 'csiNode.enabled': true },
      { egress: { namespacedStoreAllowedHosts: ALLOWED } },
    );
    expect(argsOf(withCsi, 'Deployment')).toContain(flag);
    expect(argsOf(withCsi, 'DaemonSet')).toContain(flag);
    const defaults = await renderChart({ 'csiNode.enabled': true });
    for (const kind of ['Deployment', 'DaemonSet']) {
      expect(argsOf(defaults, kind).some((a) => a.startsWith('--namespaced-store-allowed-hosts'))).toBe(false);
    }
  });

  it('binds the policy cluster-wide, or to the watched namespace of a namespace-scoped install', async () => {
    type Binding = Manifest & { spec: { matchResources?: unknown } };
    const bindingOf = (objects: Manifest[]) =>
      objects.find(
        (m) => m.kind === 'ValidatingAdmissionPolicyBinding' && m.metadata.name.endsWith('-namespaced-store-egress'),
      ) as Binding | undefined;
    expect(bindingOf(rendered)?.spec.matchResources).toBeUndefined();
    const scoped = bindingOf(await renderChart({ 'controller.watchNamespace': 'apps' }));
    expect(scoped?.spec.matchResources).toEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'apps' } },
    });
    const off = await renderChart({ 'egress.admissionPolicy.enabled': false });
    expect(off.some((m) => m.metadata.name.endsWith('-namespaced-store-egress'))).toBe(false);
  });

  it('leaves ClusterSecretStores alone (admin-written)', async () => {
    const name = uniqueName('css');
    await apps.clusterSecretStore(name, { provider: vaultAt('http://169.254.169.254') });
    expect((await apps.getClusterSecretStore(name)).metadata?.name).toBe(name);
  });

  it('fuzz: admits a random Vault server and allow-list exactly when the controller’s rule would (canonical IPs), and never when it would not', async () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const hex = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    // Public addresses and, as often, addresses inside the blocked ranges.
    const address = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc
        .tuple(fc.constantFrom(10, 127, 169, 172, 192, 100, 0), octet, octet, octet)
        .map(([a, b, c, d]) =>
          a === 169
            ? `169.254.${c}.${d}`
            : a === 172
              ? `172.${16 + (b % 16)}.${c}.${d}`
              : a === 192
                ? `192.168.${c}.${d}`
                : a === 100
                  ? `100.${64 + (b % 64)}.${c}.${d}`
                  : `${a}.${b}.${c}.${d}`,
        ),
      fc
        .tuple(fc.constantFrom('fe80', 'fc00', 'fd12', '::ffff:a9fe'), hex)
        .map(([p, h]) => (p.startsWith('::') ? `${p}:${h}` : `${p}::${h}`)),
    );
    const listed = fc.subarray(['10.0.0.0/8', '127.0.0.1', '169.254.0.0/16', 'fc00::/7', '::1', '172.16.0.0/12']);
    const seen = { admitted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(address, listed, async (ip, list) => {
        await objects.patch(
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'ferry-namespaced-store-egress', namespace: RELEASE_NS },
            data: { allowedHosts: list.join(',') },
          },
          undefined,
          undefined,
          undefined,
          undefined,
          'application/merge-patch+json' as never,
        );
        const server = `https://${ip.includes(':') ? `[${ip}]` : ip}:8200`;
        const policy = new EgressPolicy(new EgressAllowList(list));
        let code = true;
        try {
          policy.checkUrl('spec.provider.vault.server', server);
        } catch (err) {
          if (!(err instanceof ProviderError)) throw err;
          code = false;
        }
        // IPv6 forms that embed an IPv4 address are refused at admission whatever they embed
        // (stricter); the controller judges the embedded address. Elsewhere the two agree.
        const embedded = /^(::ffff:|::[0-9a-f]+(\.|:[0-9a-f]+$)|::[0-9a-f]+$|64:ff9b::)/i.test(
          new URL(server).hostname.replace(/^\[|\]$/g, ''),
        );
        // The parameter is read on each admission, but its informer may lag the patch a moment.
        const admitted = await eventually(
          `admission of ${server} with [${list.join(',')}] to agree with the controller (${code})`,
          async () => {
            const result = (await admit(vaultAt(server))) === undefined;
            return embedded || result === code ? result : undefined;
          },
          5_000,
        );
        seen[admitted ? 'admitted' : 'refused']++;
        if (admitted) expect(code, `${server} admitted but the controller would refuse it`).toBe(true);
      }),
      { numRuns: 80 },
    );
    // Both outcomes were exercised, not one of them only.
    expect(seen.admitted).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(10);
  });
});

describe('the chart’s egress NetworkPolicy for the controller', () => {
  it('allows DNS, then everything but the metadata endpoint and the admin’s CIDRs, and is accepted by the API server', async () => {
    const egress = rendered.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name.endsWith('-controller-egress')) as
      | (Manifest & {
          spec: {
            policyTypes: string[];
            egress: { ports?: unknown[]; to?: { ipBlock?: { cidr: string; except?: string[] } }[] }[];
          };
        })
      | undefined;
    if (!egress) throw new Error('the chart rendered no egress NetworkPolicy');
    expect(egress.spec.policyTypes).toEqual(['Egress']);
    const [dns, open, extra] = egress.spec.egress;
    expect(dns?.ports).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    expect(open?.to).toEqual([
      { ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32', '10.0.0.0/8'] } },
      { ipBlock: { cidr: '::/0', except: ['fd00:ec2::254/128', 'fd00::/8'] } },
    ]);
    expect(extra?.to).toEqual([{ ipBlock: { cidr: '10.96.0.1/32' } }]);
    const created = await objects.create({
      ...egress,
      metadata: { ...egress.metadata, namespace: RELEASE_NS },
    } as KubernetesObject);
    expect(created.metadata?.uid).toBeDefined();
    // Off by default.
    expect((await renderChart()).some((m) => m.metadata.name.endsWith('-controller-egress'))).toBe(false);
  });
});
