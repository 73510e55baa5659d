// Reading one secret version: the request name, the checksum check, and what `latest` means
// under secretVersionSelectionPolicy. Shared by both transports; errors are ProviderErrors.
import { SecretValue } from '../../values.ts';
import { type FetchedValue, ProviderError, type RemoteRef } from '../provider.ts';
import { crc32c, reportedCrc32c } from './checksum.ts';
import { classifyGcpError } from './errors.ts';
import { type SecretLocation, secretName, versionName, versionOf } from './resource-names.ts';
import type { AccessedVersion, SecretManagerApi, VersionSummary } from './secret-manager-api.ts';

export type SelectionPolicy = 'LatestOrFail' | 'LatestOrFetch';

const FAILED_PRECONDITION = 9;
const ENABLED = 1;
const PAGE_SIZE = 100;
const MAX_PAGES = 50;

function describeRead(ref: RemoteRef): string {
  return `reading "${ref.key}" version ${ref.version ?? 'latest'}`;
}

/** The payload of an access response, its checksum verified when the response carries one. */
export function fetchedValueOf(response: AccessedVersion, what: string): FetchedValue {
  const data = response.payload?.data;
  if (data === null || data === undefined) {
    throw new ProviderError('Transient', `GCP ${what}: the answer carried no payload`);
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data);
  const reported = reportedCrc32c(response.payload?.dataCrc32c);
  if (reported !== undefined && reported !== crc32c(bytes)) {
    // Corrupted in transit or in storage: never written to a Secret; the next read may be intact.
    throw new ProviderError('Transient', `GCP ${what}: payload checksum (CRC32C) mismatch, value discarded`);
  }
  return { value: SecretValue.fromBytes(bytes), versionId: versionOf(response.name) };
}

function isEnabled(v: VersionSummary): boolean {
  return v.state === ENABLED || v.state === 'ENABLED';
}

/** The newest enabled version of a secret, paging through its versions. */
export async function newestEnabledVersion(
  api: SecretManagerApi,
  secret: string,
  key: string,
  signal: AbortSignal,
): Promise<string> {
  let newest: number | undefined;
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await api
      .listVersions(secret, { filter: 'state:ENABLED', pageSize: PAGE_SIZE, pageToken }, signal)
      .catch((err: unknown) => {
        throw classifyGcpError(err, `listing the versions of "${key}"`);
      });
    for (const v of answer.versions.filter(isEnabled)) {
      const n = Number(versionOf(v.name));
      if (Number.isInteger(n) && (newest === undefined || n > newest)) newest = n;
    }
    pageToken = answer.nextPageToken;
    if (!pageToken) break;
  }
  if (newest === undefined) {
    throw new ProviderError('NotFound', `GCP reading "${key}" version latest: the secret has no enabled version`);
  }
  return String(newest);
}

export async function readVersion(
  api: SecretManagerApi,
  where: SecretLocation,
  ref: RemoteRef,
  policy: SelectionPolicy,
  signal: AbortSignal,
): Promise<FetchedValue> {
  const what = describeRead(ref);
  const name = versionName(where, ref.key, ref.version);
  try {
    return fetchedValueOf(await api.accessVersion(name, signal), what);
  } catch (err) {
    const latest = (ref.version ?? 'latest') === 'latest';
    const unusable = (err as { code?: unknown })?.code === FAILED_PRECONDITION;
    if (!(latest && unusable && policy === 'LatestOrFetch')) throw classifyGcpError(err, what);
  }
  const version = await newestEnabledVersion(api, secretName(where, ref.key), ref.key, signal);
  const fallback = { ...ref, version };
  try {
    return fetchedValueOf(
      await api.accessVersion(versionName(where, ref.key, version), signal),
      describeRead(fallback),
    );
  } catch (err) {
    throw classifyGcpError(err, describeRead(fallback));
  }
}
