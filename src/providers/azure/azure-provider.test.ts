import { describe, expect, it } from 'vitest';
import { azureProvider } from './azure-provider.ts';

const sp = (secret: string) => ({
  vaultUrl: 'https://v.vault.azure.net',
  tenantId: 't1',
  authSecretRef: { clientId: { name: 'sp', key: 'id' }, clientSecret: { name: secret, key: 'secret' } },
});

describe('azurekv provider', () => {
  it('shares clients (and reads) only between stores with the same vault, cloud, tenant and credentials', () => {
    const id = (spec: Parameters<typeof azureProvider.identity>[0], ns = 'apps') => azureProvider.identity(spec, ns);
    const base = sp('sp');
    expect(id(base)).toBe(id({ ...base }));
    expect(id(base)).not.toBe(id({ ...base, vaultUrl: 'https://w.vault.azure.net' }));
    expect(id(base)).not.toBe(id({ ...base, tenantId: 't2' }));
    expect(id(base)).not.toBe(id({ ...base, environmentType: 'ChinaCloud' }));
    expect(id(base)).not.toBe(id(sp('other')));
    expect(id(base)).not.toBe(id(base, 'other-namespace'));
    // A tenant or client ID read from a different Secret is another identity.
    const tenantRef = (name: string) => ({
      ...base,
      authSecretRef: { ...base.authSecretRef, tenantId: { name, key: 't' } },
    });
    expect(id(tenantRef('a'))).not.toBe(id(base));
    expect(id(tenantRef('a'))).not.toBe(id(tenantRef('b')));
    expect(id(base)).not.toBe(
      id({ ...base, customCloudConfig: { activeDirectoryEndpoint: 'https://login.partner.microsoftonline.cn' } }),
    );
    const mi = { vaultUrl: base.vaultUrl, authType: 'ManagedIdentity' as const };
    expect(id(mi)).not.toBe(id({ ...mi, identityId: 'client-1' }));
  });

  it('uses a ServiceAccount token only for workload identity', () => {
    const wi = {
      vaultUrl: 'https://v.vault.azure.net',
      authType: 'WorkloadIdentity' as const,
      serviceAccountRef: { name: 'app' },
    };
    expect(azureProvider.usesServiceAccountToken?.(wi)).toBe(true);
    expect(azureProvider.usesServiceAccountToken?.(sp('sp'))).toBe(false);
    expect(azureProvider.usesServiceAccountToken?.({ vaultUrl: wi.vaultUrl, authType: 'ManagedIdentity' })).toBe(false);
  });
});
