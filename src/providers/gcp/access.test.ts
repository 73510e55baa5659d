import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider.ts';
import { fetchedValueOf, readVersion } from './access.ts';
import { crc32c } from './checksum.ts';
import type { AccessedVersion, SecretManagerApi, VersionPage } from './secret-manager-api.ts';

const signal = new AbortController().signal;
const payload = Buffer.from('{"user":"app"}');

/** A Secret Manager that answers from a table and records the names it was asked for. */
function fakeApi(opts: {
  versions?: Record<string, AccessedVersion | Error>;
  pages?: VersionPage[];
}): SecretManagerApi & { asked: string[]; listed: (string | undefined)[] } {
  const asked: string[] = [];
  const listed: (string | undefined)[] = [];
  return {
    asked,
    listed,
    async accessVersion(name) {
      asked.push(name);
      const answer = opts.versions?.[name];
      if (answer instanceof Error) throw answer;
      if (!answer) throw Object.assign(new Error(`Secret Version [${name}] not found.`), { code: 5 });
      return answer;
    },
    async listVersions(_parent, page) {
      listed.push(page.pageToken);
      const index = page.pageToken ? Number(page.pageToken) : 0;
      return opts.pages?.[index] ?? { versions: [] };
    },
    async listSecrets() {
      return { secrets: [] };
    },
    async listOneSecret() {},
    async close() {},
  };
}

const disabled = () => Object.assign(new Error('Secret Version is in DISABLED state.'), { code: 9 });

describe('reading a Secret Manager version', () => {
  it('maps a REST answer (Buffer, int64 checksum as a decimal string) and a gRPC answer (bytes, Long) alike', () => {
    const rest = fetchedValueOf(
      { name: 'projects/p/secrets/db/versions/3', payload: { data: payload, dataCrc32c: String(crc32c(payload)) } },
      'reading "db"',
    );
    const grpc = fetchedValueOf(
      {
        name: 'projects/p/secrets/db/versions/3',
        payload: { data: new Uint8Array(payload), dataCrc32c: { low: crc32c(payload) | 0, high: 0, unsigned: false } },
      },
      'reading "db"',
    );
    for (const fetched of [rest, grpc]) {
      expect(fetched.value.revealText()).toBe('{"user":"app"}');
      expect(fetched.versionId).toBe('3');
    }
  });

  it('accepts an answer without a checksum and refuses one whose checksum does not match, as Transient', () => {
    expect(fetchedValueOf({ payload: { data: payload } }, 'reading "db"').value.revealText()).toBe('{"user":"app"}');
    const corrupt = () =>
      fetchedValueOf({ payload: { data: payload, dataCrc32c: String(crc32c(payload) ^ 1) } }, 'reading "db"');
    expect(corrupt).toThrow(ProviderError);
    expect(corrupt).toThrow(/payload checksum \(CRC32C\) mismatch, value discarded/);
    try {
      corrupt();
    } catch (err) {
      expect((err as ProviderError).kind).toBe('Transient');
      expect((err as ProviderError).message).not.toContain('app');
    }
  });

  it('asks for global and regional names', async () => {
    const api = fakeApi({});
    await readVersion(api, { projectID: 'p' }, { key: 'db' }, 'LatestOrFail', signal).catch(() => undefined);
    await readVersion(
      api,
      { projectID: 'p', location: 'europe-west1' },
      { key: 'db', version: '2' },
      'LatestOrFail',
      signal,
    ).catch(() => undefined);
    expect(api.asked).toEqual([
      'projects/p/secrets/db/versions/latest',
      'projects/p/locations/europe-west1/secrets/db/versions/2',
    ]);
  });

  it('LatestOrFail reports a disabled newest version as not found, in its own words', async () => {
    const api = fakeApi({ versions: { 'projects/p/secrets/db/versions/latest': disabled() } });
    const err = await readVersion(api, { projectID: 'p' }, { key: 'db' }, 'LatestOrFail', signal).catch((e) => e);
    expect(err).toMatchObject({ kind: 'NotFound' });
    expect(err.message).toMatch(/FAILED_PRECONDITION reading "db" version latest: version not accessible/);
    expect(api.listed).toEqual([]);
  });

  it('LatestOrFetch reads the newest enabled version instead, across pages', async () => {
    const api = fakeApi({
      versions: {
        'projects/p/secrets/db/versions/latest': disabled(),
        'projects/p/secrets/db/versions/7': { name: 'projects/p/secrets/db/versions/7', payload: { data: payload } },
      },
      pages: [
        {
          versions: [
            { name: 'projects/p/secrets/db/versions/2', state: 'ENABLED' },
            { name: 'projects/p/secrets/db/versions/9', state: 'DISABLED' },
          ],
          nextPageToken: '1',
        },
        { versions: [{ name: 'projects/p/secrets/db/versions/7', state: 1 }] },
      ],
    });
    const fetched = await readVersion(api, { projectID: 'p' }, { key: 'db' }, 'LatestOrFetch', signal);
    expect(fetched.versionId).toBe('7');
    expect(api.listed).toEqual([undefined, '1']);
    // A pinned version is never replaced by another one.
    const pinned = fakeApi({ versions: { 'projects/p/secrets/db/versions/9': disabled() } });
    await expect(
      readVersion(pinned, { projectID: 'p' }, { key: 'db', version: '9' }, 'LatestOrFetch', signal),
    ).rejects.toMatchObject({ kind: 'NotFound' });
    expect(pinned.listed).toEqual([]);
  });

  it('LatestOrFetch with no enabled version left is not found', async () => {
    const api = fakeApi({
      versions: { 'projects/p/secrets/db/versions/latest': disabled() },
      pages: [{ versions: [] }],
    });
    await expect(readVersion(api, { projectID: 'p' }, { key: 'db' }, 'LatestOrFetch', signal)).rejects.toThrow(
      /has no enabled version/,
    );
  });
});
