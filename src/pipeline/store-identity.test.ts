// A tenant's SecretStore cannot authenticate as Ferry itself (default chains, managed identity,
// Application Default Credentials, Vault IAM signing without keys), nor read a reference from
// another namespace: both refused when the client is built, before anything is read or sent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AMBIENT_STORES as AMBIENT, OWN_STORES as OWN, randomProviderSpec } from '../../test/support/ambient-stores.ts';
import type { ProviderSpec } from '../api/v1alpha1/secret-store.ts';
import type { AnyStore } from '../api/v1alpha1/types.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { ProviderError } from '../providers/provider.ts';
import { selectProvider } from '../providers/registry.ts';
import { SharedReads } from '../providers/shared-reads.ts';
import { StoreClients, type StoreClientsOptions } from './store-clients.ts';
import { ambientIdentityRefusal } from './store-identity.ts';

function store(kind: AnyStore['kind'], provider: ProviderSpec): AnyStore {
  const metadata = kind === 'SecretStore' ? { name: 's', namespace: 'team', uid: 'u1' } : { name: 's', uid: 'u1' };
  return { apiVersion: 'ferry.dev/v1alpha1', kind, metadata, spec: { provider } } as AnyStore;
}

async function refusal(kind: AnyStore['kind'], provider: ProviderSpec, allowed = false) {
  const { provider: p, spec } = await selectProvider(provider);
  return ambientIdentityRefusal(store(kind, provider), p, spec, allowed);
}

/** Store clients over a Kubernetes that records every read and has nothing in it. */
function clients(namespacedAmbientIdentity?: boolean) {
  const reads: string[] = [];
  const record = async (what: string) => {
    reads.push(what);
    return undefined;
  };
  const kube: StoreClientsOptions['kube'] = {
    readSecret: (ns, name) => record(`secret ${ns}/${name}`),
    readConfigMap: (ns, name) => record(`configmap ${ns}/${name}`),
    readServiceAccount: (ns, name) => record(`serviceaccount ${ns}/${name}`),
    requestToken: async (ns, name) => {
      reads.push(`token ${ns}/${name}`);
      return 'token';
    },
  };
  const metrics = new Metrics();
  const c = new StoreClients({
    kube,
    sharedReads: new SharedReads({ metrics, signal: new AbortController().signal }),
    logger: createLogger('silent'),
    metrics,
    providerQps: 10,
    providerBurst: 10,
    namespacedStoreAllowList: undefined,
    namespacedAmbientIdentity,
  });
  return { clients: c, reads };
}

describe('ambient identity', () => {
  it.each(AMBIENT)('refuses a SecretStore: %s, naming the field and the opt-in', async (_, provider, field) => {
    const error = await refusal('SecretStore', provider);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error?.kind).toBe('Invalid');
    expect(error?.message).toMatch(field);
    expect(error?.message).toMatch(/--namespaced-ambient-identity=on \(chart value namespacedAmbientIdentity\)/);
  });

  it.each(AMBIENT)('leaves it to ClusterSecretStores, and to SecretStores once the admin opts in: %s', async (_, p) => {
    expect(await refusal('ClusterSecretStore', p)).toBeUndefined();
    expect(await refusal('SecretStore', p, true)).toBeUndefined();
  });

  it.each(OWN)('accepts a SecretStore with credentials of its own: %s', async (_, provider) => {
    expect(await refusal('SecretStore', provider)).toBeUndefined();
  });

  it('is checked whenever a client is built, before any credential is read or any call is made', async () => {
    const { clients: off, reads } = clients();
    const aws = store('SecretStore', { aws: { region: 'eu-west-1', role: 'arn:aws:iam::1:role/r' } });
    await expect(off.handle(aws, 'team')).rejects.toThrow(/default credential chain.*--namespaced-ambient-identity/);
    expect(reads).toEqual([]);
    // The same store as a ClusterSecretStore builds (the SDK finds credentials lazily, at the first call).
    const cluster = store('ClusterSecretStore', { aws: { region: 'eu-west-1' } });
    await expect(off.handle(cluster, 'team')).resolves.toMatchObject({ providerName: 'aws' });
    const { clients: on } = clients(true);
    await expect(on.handle(aws, 'team')).resolves.toMatchObject({ providerName: 'aws' });
  });

  it('refuses exactly the SecretStores that name no credentials of their own (any auth block)', async () => {
    await fc.assert(
      fc.asyncProperty(
        randomProviderSpec,
        fc.constantFrom('SecretStore', 'ClusterSecretStore' as const),
        fc.boolean(),
        async (p, kind, allowed) => {
          const ownCredentials =
            (p.aws && (p.aws.auth?.secretRef || p.aws.auth?.jwt)) ||
            (p.gcpsm && (p.gcpsm.auth?.secretRef || p.gcpsm.auth?.workloadIdentity)) ||
            (p.azurekv && (p.azurekv.authType ?? 'ServicePrincipal') !== 'ManagedIdentity') ||
            (p.vault && (p.vault.auth.iam?.secretRef || p.vault.auth.iam?.jwt));
          const refused = (await refusal(kind as AnyStore['kind'], p, allowed)) !== undefined;
          expect(refused).toBe(kind === 'SecretStore' && !allowed && !ownCredentials);
        },
      ),
    );
  });
});

describe("a SecretStore's references", () => {
  it('read only from its own namespace, whatever the reference says', async () => {
    const { clients: c, reads } = clients(true);
    const foreign = { name: 'aws', key: 'id', namespace: 'other' };
    const ss = store('SecretStore', {
      aws: {
        region: 'eu-west-1',
        auth: { secretRef: { accessKeyIDSecretRef: foreign, secretAccessKeySecretRef: foreign } },
      },
    });
    await expect(c.handle(ss, 'team')).rejects.toThrow(
      /namespace "other" is not the SecretStore's own \("team"\); a SecretStore reads only from its own namespace/,
    );
    expect(reads.filter((r) => r.includes('other/'))).toEqual([]);
    // Its own namespace, named or not, is read; a ClusterSecretStore may name any namespace.
    const own = { ...foreign, namespace: 'team' };
    await expect(
      c.handle(
        store('SecretStore', {
          aws: {
            region: 'eu-west-1',
            auth: { secretRef: { accessKeyIDSecretRef: own, secretAccessKeySecretRef: own } },
          },
        }),
        'team',
      ),
    ).rejects.toThrow(/credentials Secret team\/aws does not exist/);
    await expect(
      c.handle(
        store('ClusterSecretStore', {
          aws: {
            region: 'eu-west-1',
            auth: { secretRef: { accessKeyIDSecretRef: foreign, secretAccessKeySecretRef: foreign } },
          },
        }),
        'team',
      ),
    ).rejects.toThrow(/credentials Secret other\/aws does not exist/);
    expect(reads).toContain('secret other/aws');
  });
});
