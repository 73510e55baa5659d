// Store specs for the ambient-identity rule (src/pipeline/store-identity.ts), valid under the
// CRDs so the same ones serve the unit tests and admission on the real API server: stores that
// would authenticate as Ferry itself, stores with credentials of their own, and random auth blocks.
import fc from 'fast-check';
import type { ProviderSpec } from '../../src/api/v1alpha1/secret-store.ts';

const keys = {
  accessKeyIDSecretRef: { name: 'aws', key: 'id' },
  secretAccessKeySecretRef: { name: 'aws', key: 'secret' },
};
const sa = { serviceAccountRef: { name: 'app' } };
const vault = (iam: object) => ({
  vault: { server: 'https://vault.example', auth: { iam: { vaultRole: 'r', ...iam } } },
});
const ROLE = 'arn:aws:iam::123456789012:role/r';

/** Stores that would authenticate as the process, and the field a refusal must name. */
export const AMBIENT_STORES: [string, ProviderSpec, RegExp][] = [
  [
    'gcpsm without auth',
    { gcpsm: { projectID: 'p' } },
    /spec\.provider\.gcpsm\.auth .*Application Default Credentials/,
  ],
  ['gcpsm with an empty auth', { gcpsm: { projectID: 'p', auth: {} } }, /spec\.provider\.gcpsm\.auth/],
  ['aws without auth', { aws: { region: 'eu-west-1' } }, /spec\.provider\.aws\.auth .*default credential chain/],
  [
    'aws without auth, assuming roles on top',
    { aws: { region: 'eu-west-1', role: ROLE, additionalRoles: [ROLE] } },
    /spec\.provider\.aws\.auth .*role and additionalRoles/,
  ],
  [
    'azurekv ManagedIdentity',
    { azurekv: { vaultUrl: 'https://v.vault.azure.net', authType: 'ManagedIdentity', identityId: 'any' } },
    /spec\.provider\.azurekv\.authType.*ManagedIdentity/,
  ],
  ['vault auth.iam without keys or jwt', vault({}), /spec\.provider\.vault\.auth\.iam .*sts:GetCallerIdentity/],
  ['vault auth.iam with a role to assume', vault({ role: ROLE }), /spec\.provider\.vault\.auth\.iam/],
];

/** The same providers with credentials of the store's own. */
export const OWN_STORES: [string, ProviderSpec][] = [
  [
    'gcpsm with a key',
    { gcpsm: { projectID: 'p', auth: { secretRef: { secretAccessKeySecretRef: keys.secretAccessKeySecretRef } } } },
  ],
  [
    'gcpsm with workload identity',
    { gcpsm: { projectID: 'p', auth: { workloadIdentity: { ...sa, clusterLocation: 'l', clusterName: 'c' } } } },
  ],
  ['aws with keys', { aws: { region: 'eu-west-1', auth: { secretRef: keys }, role: ROLE } }],
  ['aws with a ServiceAccount token', { aws: { region: 'eu-west-1', auth: { jwt: sa }, role: ROLE } }],
  [
    'azurekv ServicePrincipal',
    {
      azurekv: {
        vaultUrl: 'https://v.vault.azure.net',
        tenantId: 't',
        authSecretRef: { clientId: { name: 'a', key: 'id' }, clientSecret: { name: 'a', key: 's' } },
      },
    },
  ],
  [
    'azurekv WorkloadIdentity',
    {
      azurekv: {
        vaultUrl: 'https://v.vault.azure.net',
        authType: 'WorkloadIdentity',
        serviceAccountRef: { name: 'app' },
      },
    },
  ],
  ['vault auth.iam with keys', vault({ secretRef: keys })],
  ['vault auth.iam with a ServiceAccount token', vault({ jwt: sa })],
  [
    'vault token',
    { vault: { server: 'https://vault.example', auth: { tokenSecretRef: { name: 't', key: 'token' } } } },
  ],
  ['fake', { fake: { data: [] } }],
];

const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const roles = { role: maybe(fc.constant(ROLE)), additionalRoles: maybe(fc.array(fc.constant(ROLE), { maxLength: 2 })) };

/** Random auth blocks (and the endpoints beside them) for the four providers that have ambient methods. */
export const randomProviderSpec: fc.Arbitrary<ProviderSpec> = fc.oneof(
  fc.record({
    aws: fc.record(
      {
        region: fc.constant('eu-west-1'),
        auth: fc.constantFrom(undefined, {}, { secretRef: keys }, { jwt: sa }),
        ...roles,
      },
      { requiredKeys: ['region'] },
    ),
  }),
  fc.record({
    gcpsm: fc.record(
      {
        projectID: fc.constant('p'),
        endpoint: maybe(fc.constantFrom('https://secretmanager.example', 'https://127.0.0.1:8443')),
        auth: fc.constantFrom(
          undefined,
          {},
          { secretRef: { secretAccessKeySecretRef: keys.secretAccessKeySecretRef } },
          { workloadIdentity: { ...sa, clusterLocation: 'l', clusterName: 'c' } },
        ),
      },
      { requiredKeys: ['projectID'] },
    ),
  }),
  fc.record({
    azurekv: fc.record(
      {
        vaultUrl: fc.constant('https://v.vault.azure.net'),
        authType: maybe(fc.constantFrom('ManagedIdentity' as const, 'WorkloadIdentity' as const)),
        identityId: maybe(fc.constantFrom('00000000-0000-0000-0000-000000000001', '/subscriptions/s/id')),
      },
      { requiredKeys: ['vaultUrl'] },
    ),
  }),
  fc.record({
    vault: fc.record({
      server: fc.constantFrom('https://vault.example', 'https://10.0.0.1:8200'),
      auth: fc.record({
        iam: fc.record(
          {
            vaultRole: fc.constant('r'),
            role: roles.role,
            secretRef: maybe(fc.constant(keys)),
            vaultAwsIamServerID: maybe(fc.constant('vault.example.com')),
          },
          { requiredKeys: ['vaultRole'] },
        ),
      }),
    }),
  }),
) as fc.Arbitrary<ProviderSpec>;
