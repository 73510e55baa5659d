// Key Vault certificates and keys, read as ESO reads them (pkg azurekv GetSecret):
// * cert/<name>: the certificate's `cer`, the DER bytes of the X.509 certificate, unchanged
//   (ESO: "raw value will be returned"; a template such as pkcs12/filterPEM makes PEM of it).
// * key/<name>: the JSON of the key's public JWK as Key Vault returns it, with its wire names and
//   in the order ESO's Go struct writes them (kid, kty, key_ops, n, e, …, crv, x, y), binary members
//   base64url without padding. Key Vault never returns a key's private part.
// * metadataPolicy Fetch: the object's tags as a JSON object, as for secrets.
import type { CertificateClient } from '@azure/keyvault-certificates';
import type { JsonWebKey, KeyClient } from '@azure/keyvault-keys';
import { SecretValue } from '../../values.ts';
import { type FetchedValue, ProviderError, type RemoteRef } from '../provider.ts';
import { classifyAzureError } from './errors.ts';

/** The JWK members in the order of ESO's keyvault.JSONWebKey, with their JSON names. */
const JWK_MEMBERS: readonly [keyof JsonWebKey, string][] = [
  ['kid', 'kid'],
  ['kty', 'kty'],
  ['keyOps', 'key_ops'],
  ['n', 'n'],
  ['e', 'e'],
  ['d', 'd'],
  ['dp', 'dp'],
  ['dq', 'dq'],
  ['qi', 'qi'],
  ['p', 'p'],
  ['q', 'q'],
  ['k', 'k'],
  ['t', 'key_hsm'],
  ['crv', 'crv'],
  ['x', 'x'],
  ['y', 'y'],
];

/** The JWK as the JSON Key Vault sent (the SDK decodes its base64url members to bytes). */
export function jwkJson(key: JsonWebKey): string {
  const out: Record<string, unknown> = {};
  for (const [member, wire] of JWK_MEMBERS) {
    const v = key[member];
    if (v === undefined || v === null) continue;
    out[wire] = v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v;
  }
  return JSON.stringify(out);
}

const tagsOf = (tags: Record<string, string> | undefined) => SecretValue.fromString(JSON.stringify(tags ?? {}));

export async function readCertificate(
  client: CertificateClient,
  name: string,
  version: string | undefined,
  metadataPolicy: RemoteRef['metadataPolicy'],
  what: string,
  signal: AbortSignal,
): Promise<FetchedValue> {
  let cert: Awaited<ReturnType<CertificateClient['getCertificateVersion']>>;
  try {
    cert =
      version === undefined
        ? await client.getCertificate(name, { abortSignal: signal })
        : await client.getCertificateVersion(name, version, { abortSignal: signal });
  } catch (err) {
    throw classifyAzureError(err, what);
  }
  const versionId = cert.properties.version;
  if (metadataPolicy === 'Fetch') return { value: tagsOf(cert.properties.tags), versionId };
  if (cert.cer === undefined || cert.cer.length === 0) {
    // A certificate whose issuance is still pending has no cer yet: nothing to write, never a blank.
    throw new ProviderError('NotFound', `Azure ${what}: the certificate holds no cer (issuance pending?)`);
  }
  return { value: SecretValue.fromBytes(cert.cer), versionId };
}

export async function readKey(
  client: KeyClient,
  name: string,
  version: string | undefined,
  metadataPolicy: RemoteRef['metadataPolicy'],
  what: string,
  signal: AbortSignal,
): Promise<FetchedValue> {
  let key: Awaited<ReturnType<KeyClient['getKey']>>;
  try {
    key = await client.getKey(name, { version, abortSignal: signal });
  } catch (err) {
    throw classifyAzureError(err, what);
  }
  const versionId = key.properties.version;
  if (metadataPolicy === 'Fetch') return { value: tagsOf(key.properties.tags), versionId };
  if (key.key === undefined) throw new ProviderError('NotFound', `Azure ${what}: the answer holds no key`);
  return { value: SecretValue.fromString(jwkJson(key.key)), versionId };
}
