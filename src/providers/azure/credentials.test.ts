import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../values.ts';
import type { StoreContext } from '../provider.ts';
import { authorityHost, storeTenant } from './credentials.ts';

const vaultUrl = 'https://v.vault.azure.net';

/** A StoreContext whose Secrets are `secrets` (name/key → value); nothing else is used here. */
function ctx(secrets: Record<string, string>): StoreContext {
  return {
    readSecretKey: async (ref: { name: string; key?: string }) => {
      const value = secrets[`${ref.name}/${ref.key}`];
      if (value === undefined) throw new Error(`no Secret ${ref.name}/${ref.key}`);
      return SecretValue.fromString(value);
    },
  } as unknown as StoreContext;
}

describe('azurekv authority host', () => {
  it('is the built-in cloud’s unless customCloudConfig names one, with any environmentType (as ESO)', () => {
    expect(authorityHost({ vaultUrl })).toBe('https://login.microsoftonline.com');
    expect(authorityHost({ vaultUrl, environmentType: 'ChinaCloud' })).toBe('https://login.chinacloudapi.cn');
    expect(
      authorityHost({
        vaultUrl,
        environmentType: 'ChinaCloud',
        customCloudConfig: { activeDirectoryEndpoint: 'https://login.partner.microsoftonline.cn/' },
      }),
    ).toBe('https://login.partner.microsoftonline.cn');
    expect(
      authorityHost({
        vaultUrl,
        environmentType: 'AzureStackCloud',
        customCloudConfig: { activeDirectoryEndpoint: 'https://adfs.local.azurestack.external' },
      }),
    ).toBe('https://adfs.local.azurestack.external');
    expect(() => authorityHost({ vaultUrl, environmentType: 'AzureStackCloud' })).toThrow(/needs customCloudConfig/);
  });
});

describe('azurekv tenant', () => {
  const clientId = { name: 'sp', key: 'id' };
  it('comes from tenantId or authSecretRef.tenantId; both must agree; the Secret value is never in an error', async () => {
    const secrets = ctx({ 'sp/tenant': ' tenant-a\n', 'sp/empty': '' });
    expect(await storeTenant({ vaultUrl, tenantId: 'tenant-a' }, secrets)).toBe('tenant-a');
    expect(await storeTenant({ vaultUrl }, secrets)).toBeUndefined();
    const fromSecret = { vaultUrl, authSecretRef: { clientId, tenantId: { name: 'sp', key: 'tenant' } } };
    expect(await storeTenant(fromSecret, secrets)).toBe('tenant-a');
    expect(await storeTenant({ ...fromSecret, tenantId: 'tenant-a' }, secrets)).toBe('tenant-a');
    const conflict = storeTenant({ ...fromSecret, tenantId: 'tenant-b' }, secrets);
    await expect(conflict).rejects.toThrow(
      /tenantId and authSecretRef.tenantId \(Secret sp key "tenant"\) name different/,
    );
    await expect(conflict).rejects.not.toThrow(/tenant-a/);
    await expect(
      storeTenant({ vaultUrl, authSecretRef: { clientId, tenantId: { name: 'sp', key: 'empty' } } }, secrets),
    ).rejects.toThrow(/authSecretRef.tenantId: Secret sp key "empty" is empty/);
  });
});
