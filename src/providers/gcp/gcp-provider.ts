// Google Cloud Secret Manager: AccessSecretVersion by secret ID and version (global or regional),
// ListSecrets for dataFrom find (find.ts) and, page size 1, to validate the credentials; over
// gRPC or REST with one mapping.
import { type Provider, type ProviderClient, ProviderError } from '../provider.ts';
import { refIdentity } from '../references.ts';
import { readVersion } from './access.ts';
import { gcpCredentials } from './credentials.ts';
import { classifyGcpError } from './errors.ts';
import { findGcpSecrets } from './find.ts';
import { apiEndpoint, secretParent } from './resource-names.ts';
import { createSecretManagerApi } from './secret-manager-api.ts';
import type { GcpSpec } from './spec.ts';
import { testEndpointOverrides } from './workload-identity.ts';

function credentialsIdentity(spec: GcpSpec, ns: string): string {
  const { secretRef, workloadIdentity: wi } = spec.auth ?? {};
  if (secretRef) return `key:${refIdentity(secretRef.secretAccessKeySecretRef, ns)}`;
  if (wi) {
    const sa = `${refIdentity(wi.serviceAccountRef, ns)}:${wi.serviceAccountRef.audiences?.join(',') ?? ''}`;
    return `wi:${wi.clusterProjectID ?? ''}/${wi.clusterLocation}/${wi.clusterName}:${sa}`;
  }
  return 'adc';
}

export const gcpProvider: Provider<GcpSpec> = {
  name: 'gcpsm',

  identity(spec, ns) {
    const where = `${spec.projectID}|${spec.location ?? ''}|${spec.endpoint ?? ''}|${spec.transport ?? 'GRPC'}`;
    return `${where}|${spec.secretVersionSelectionPolicy ?? 'LatestOrFail'}|${credentialsIdentity(spec, ns)}`;
  },

  // Workload Identity exchanges a ServiceAccount token; in a CSI volume, the pod's own.
  usesServiceAccountToken: (spec) => spec.auth?.workloadIdentity !== undefined,

  ambientIdentity: (spec) =>
    credentialsIdentity(spec, '') === 'adc'
      ? 'spec.provider.gcpsm.auth sets neither secretRef nor workloadIdentity, so Application Default Credentials would be used'
      : undefined,

  async createClient(spec, ctx): Promise<ProviderClient> {
    const transport = spec.transport ?? 'GRPC';
    if (spec.endpoint?.startsWith('http://') && transport !== 'REST') {
      throw new ProviderError('Invalid', 'spec.provider.gcpsm: a plain-http endpoint needs transport REST');
    }
    // A custom endpoint receives the store's Google access token: a namespaced store may name only
    // an allow-listed host (the default hosts are Google's own).
    if (spec.endpoint) ctx.egress.checkOverride('spec.provider.gcpsm.endpoint', spec.endpoint);
    const credentials = await gcpCredentials(spec, ctx, testEndpointOverrides());
    const api = createSecretManagerApi({
      endpoint: apiEndpoint(spec, spec.endpoint),
      transport,
      projectID: spec.projectID,
      authClient: credentials.authClient,
    });
    const policy = spec.secretVersionSelectionPolicy ?? 'LatestOrFail';

    return {
      // Workload identity and ADC obtain new tokens themselves, so their client lives as long as
      // its store is unchanged. A key from a Secret may be rotated there: that client is rebuilt
      // after a while, and at once when Google refuses it.
      keepsCredentialsFresh: credentials.method !== 'serviceAccountKey',

      async read(ref, signal) {
        await credentials.prepare?.();
        return readVersion(api, spec, ref, policy, signal);
      },

      async find(query, signal, pace) {
        await credentials.prepare?.();
        return findGcpSecrets(api, secretParent(spec), query, signal, pace);
      },

      async validate(signal) {
        try {
          await credentials.prepare?.();
          await api.listOneSecret(secretParent(spec), signal);
        } catch (err) {
          throw classifyGcpError(err, `listing secrets of ${secretParent(spec)} (auth ${credentials.method})`);
        }
      },

      close() {
        return api.close();
      },
    };
  },
};
