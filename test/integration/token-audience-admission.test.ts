// The rule "a SecretStore never asks for the API server's own audience" is written twice: as a CEL
// rule in the CRDs (admission) and in code (isWellKnownApiAudience, for stores admitted before the
// rule). Generated audiences (fast-check) are dry-run against the real API server in every place a
// SecretStore names one; the API server refuses exactly those the code refuses, naming the field,
// and a ClusterSecretStore is refused none of them.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isWellKnownApiAudience } from '../../src/kube/api-audiences.ts';
import { dryRunCreate } from '../support/eso-examples.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

const kc = kubeConfigFor(testbed().kube);
let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace(kc, 'audience-fuzz');
});

/** Near-misses of the API server's names as often as random text. */
const audience = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', 'https://', 'http://', 'HTTPS://', ' '),
      fc.constantFrom(
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
        'kubernetes.default.svc.cluster',
        'kubernetes-default',
        'Kubernetes',
        'api',
        'k3s',
        'vault',
        'sts.amazonaws.com',
        '',
      ),
      fc.constantFrom('', '/', '//', ' ', '/x', '.', '\t'),
    )
    .map(([a, b, c]) => a + b + c),
  fc.constantFrom(' ', '\t', '\n', '\u00a0', 'api ', ' k3s'),
  fc.string({ maxLength: 40 }),
);

/** Every place a store names token audiences, with the field the API server must name. */
const places: [string, (a: string[]) => Record<string, unknown>, RegExp][] = [
  [
    'vault jwt',
    (audiences) => ({
      vault: {
        server: 'https://vault:8200',
        auth: { jwt: { kubernetesServiceAccountToken: { serviceAccountRef: { name: 'sa' }, audiences } } },
      },
    }),
    /kubernetesServiceAccountToken\.audiences/,
  ],
  [
    'vault kubernetes',
    (audiences) => ({
      vault: {
        server: 'https://vault:8200',
        auth: { kubernetes: { role: 'r', serviceAccountRef: { name: 'sa', audiences } } },
      },
    }),
    /serviceAccountRef\.audiences/,
  ],
  [
    'aws jwt',
    (audiences) => ({ aws: { region: 'eu-west-1', auth: { jwt: { serviceAccountRef: { name: 'sa', audiences } } } } }),
    /serviceAccountRef\.audiences/,
  ],
  [
    'gcp workload identity',
    (audiences) => ({
      gcpsm: {
        projectID: 'p',
        auth: {
          workloadIdentity: {
            serviceAccountRef: { name: 'sa', audiences },
            clusterLocation: 'europe-west1',
            clusterName: 'c',
            clusterProjectID: 'p',
          },
        },
      },
    }),
    /serviceAccountRef\.audiences/,
  ],
  [
    'azure workload identity',
    (audiences) => ({
      azurekv: {
        vaultUrl: 'https://v.vault.azure.net',
        authType: 'WorkloadIdentity',
        serviceAccountRef: { name: 'sa', audiences },
      },
    }),
    /serviceAccountRef\.audiences/,
  ],
];

/** Seven audiences the rule refuses and seven it admits, whatever the random draw adds. */
const SURE_EXAMPLES: [string][] = [
  'kubernetes',
  'https://kubernetes.default.svc',
  'kubernetes.default',
  'https://kubernetes.default.svc.cluster.local/',
  'kubernetes.default.svc',
  'api',
  'k3s',
  'vault',
  'sts.amazonaws.com',
  'api://AzureADTokenExchange',
  'https://vault.example.com',
  'my-audience',
  'aud-1',
  'tenant.example',
].map((a) => [a]);

function store(kind: 'SecretStore' | 'ClusterSecretStore', provider: Record<string, unknown>) {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind,
    metadata: { name: uniqueName('aud') },
    spec: { provider },
  };
}

describe('token audiences at admission and in code', () => {
  it.for(places)('%s: the API server refuses exactly what the code refuses', async ([, provider, field]) => {
    const seen = { refused: 0, admitted: 0 };
    await fc.assert(
      fc.asyncProperty(audience, async (a) => {
        const refusedByCode = isWellKnownApiAudience(a);
        const message = await dryRunCreate(
          kc,
          { group: 'ferry.dev', version: 'v1alpha1', plural: 'secretstores', scope: 'Namespaced' },
          store('SecretStore', provider([a])),
          namespace,
        );
        if (refusedByCode) {
          expect(message, JSON.stringify(a)).toMatch(field);
          expect(message).toMatch(/API server's own/);
          seen.refused++;
        } else {
          expect(message, JSON.stringify(a)).toBeUndefined();
          seen.admitted++;
        }
        const cluster = await dryRunCreate(
          kc,
          { group: 'ferry.dev', version: 'v1alpha1', plural: 'clustersecretstores', scope: 'Cluster' },
          store('ClusterSecretStore', provider([a])),
          namespace,
        );
        expect(cluster, JSON.stringify(a)).toBeUndefined();
      }),
      // Random audiences decide the property; these examples (run as well) make sure both
      // outcomes are met every run, so the counts below never depend on the draw.
      { numRuns: 60, examples: SURE_EXAMPLES },
    );
    // Both outcomes were exercised, so neither half of the property holds vacuously.
    expect(seen.refused).toBeGreaterThan(5);
    expect(seen.admitted).toBeGreaterThan(5);
  });
});
