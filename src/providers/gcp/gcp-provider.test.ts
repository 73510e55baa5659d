import { describe, expect, it } from 'vitest';
import type { StoreContext } from '../provider.ts';
import { gcpProvider } from './gcp-provider.ts';

const keyAuth = (name: string) => ({ secretRef: { secretAccessKeySecretRef: { name, key: 'credentials.json' } } });

describe('gcpsm provider', () => {
  it('shares clients (and reads) only between stores with the same project, location and credentials', () => {
    const id = (spec: Parameters<typeof gcpProvider.identity>[0], ns = 'apps') => gcpProvider.identity(spec, ns);
    const base = { projectID: 'p1', auth: keyAuth('sa') };
    expect(id(base)).toBe(id({ ...base }));
    expect(id(base)).not.toBe(id({ ...base, projectID: 'p2' }));
    expect(id(base)).not.toBe(id({ ...base, location: 'europe-west1' }));
    expect(id(base)).not.toBe(id({ ...base, auth: keyAuth('other') }));
    expect(id(base)).not.toBe(id(base, 'other-namespace'));
    expect(id(base)).not.toBe(id({ projectID: 'p1' }));
  });

  it('refuses a plain-http endpoint over gRPC before building credentials', async () => {
    const ctx = {} as StoreContext;
    await expect(
      gcpProvider.createClient({ projectID: 'p1', endpoint: 'http://127.0.0.1:8085' }, ctx),
    ).rejects.toMatchObject({ kind: 'Invalid', message: expect.stringMatching(/needs transport REST/) });
  });
});
