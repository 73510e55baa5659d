// dataFrom[].find per provider, without servers: the filters each listing sends, the paced calls
// after the first, and what is matched on Ferry's side. The servers are in
// test/integration/find-providers.test.ts.
import { describe, expect, it } from 'vitest';
import { findAzureSecrets } from './azure/find.ts';
import { findGcpSecrets, listFilter } from './gcp/find.ts';
import type { SecretManagerApi } from './gcp/secret-manager-api.ts';
import { findVaultSecrets } from './vault/find.ts';

describe('Vault find', () => {
  const tree: Record<string, string[]> = {
    'secret/metadata/app/?list=true': ['db', 'sub/'],
    'secret/metadata/app/sub/?list=true': ['cache', 'deeper/'],
    'secret/metadata/app/sub/deeper/?list=true': ['x'],
  };
  const meta: Record<string, Record<string, unknown>> = {
    'secret/metadata/app/db': { custom_metadata: { team: 'a' }, current_version: 3 },
    'secret/metadata/app/sub/cache': { custom_metadata: { team: 'b' } },
  };
  const get = (asked: string[]) => async (path: string) => {
    asked.push(path);
    if (tree[path]) return { data: { keys: tree[path] } };
    if (meta[path]) return { data: meta[path] };
    return undefined;
  };

  it('lists folders recursively, one paced call after the first, and matches the name on the path from the mount', async () => {
    const asked: string[] = [];
    let paced = 0;
    const names = await findVaultSecrets(
      { path: 'secret' },
      get(asked),
      { path: '/app/', nameRegexp: 'sub/' },
      new AbortController().signal,
      async () => {
        paced++;
      },
    );
    expect(names).toEqual(['app/sub/cache', 'app/sub/deeper/x']);
    expect(asked).toHaveLength(3);
    expect(paced).toBe(2);
  });

  it('matches tags against custom_metadata and the system metadata ESO adds; a vanished secret is skipped', async () => {
    const query = { path: 'app', tags: { team: 'a', current_version: '3' } };
    expect(await findVaultSecrets({ path: 'secret' }, get([]), query, new AbortController().signal)).toEqual([
      'app/db',
    ]);
  });

  it('refuses tags on KV v1, and a find without a mount when the store names none', async () => {
    const signal = new AbortController().signal;
    await expect(
      findVaultSecrets({ path: 'kv', version: 'v1' }, get([]), { tags: { a: 'b' } }, signal),
    ).rejects.toThrow('find.tags needs KV v2');
    await expect(findVaultSecrets({}, get([]), { nameRegexp: 'x' }, signal)).rejects.toThrow(
      'must start with the KV mount',
    );
    const asked: string[] = [];
    await findVaultSecrets({}, get(asked), { path: 'secret/app' }, signal);
    expect(asked[0]).toBe('secret/metadata/app/?list=true');
  });
});

describe('Google find', () => {
  it('sends labels and name filters (quoting what is not a plain word), sorted for a stable request', () => {
    expect(listFilter({ tags: { team: 'a', env: 'x y' }, path: 'app-' })).toBe(
      'labels.env="x y" labels.team=a name:app-',
    );
    expect(listFilter({ nameRegexp: 'x' })).toBeUndefined();
  });

  it('pages, trims the resource name to the secret ID and checks the path as a prefix', async () => {
    const pages = [
      {
        secrets: [{ name: 'projects/123/secrets/app-db' }, { name: 'projects/123/secrets/my-app-x' }],
        nextPageToken: 't1',
      },
      { secrets: [{ name: 'projects/123/locations/eu/secrets/app-api' }] },
    ];
    const tokens: (string | undefined)[] = [];
    let paced = 0;
    const api = {
      async listSecrets(_parent: string, page: { pageToken?: string }) {
        tokens.push(page.pageToken);
        return pages[tokens.length - 1] ?? { secrets: [] };
      },
    } as unknown as SecretManagerApi;
    const names = await findGcpSecrets(api, 'projects/p1', { path: 'app-' }, new AbortController().signal, async () => {
      paced++;
    });
    expect(names).toEqual(['app-api', 'app-db']);
    expect(tokens).toEqual([undefined, 't1']);
    expect(paced).toBe(1);
  });
});

describe('Azure find', () => {
  it('skips disabled secrets, matches tags exactly, the name regexp and the path prefix', async () => {
    const page = [
      { name: 'pay-db', enabled: true, tags: { team: 'pay' } },
      { name: 'pay-old', enabled: false, tags: { team: 'pay' } },
      { name: 'pay-api', tags: { team: 'payments' } },
      { name: 'xpay-db', tags: { team: 'pay' } },
    ];
    const client = {
      listPropertiesOfSecrets: () => ({
        byPage: () =>
          (async function* () {
            yield page;
          })(),
      }),
    } as never;
    const signal = new AbortController().signal;
    expect(await findAzureSecrets(client, { tags: { team: 'pay' } }, signal)).toEqual(['pay-db', 'xpay-db']);
    expect(await findAzureSecrets(client, { tags: { team: 'pay' }, path: 'pay-' }, signal)).toEqual(['pay-db']);
    expect(await findAzureSecrets(client, { nameRegexp: '-db$' }, signal)).toEqual(['pay-db', 'xpay-db']);
  });
});
