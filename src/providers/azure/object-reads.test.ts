import type { JsonWebKey } from '@azure/keyvault-keys';
import { describe, expect, it } from 'vitest';
import { jwkJson } from './object-reads.ts';

// ESO's own expectations (providers/v1/azure/keyvault/keyvault_test.go, jwkPubRSA and jwkPubEC):
// GetSecret of key/<name> returns exactly these strings for these keys.
const ESO_RSA =
  '{"kid":"ex","kty":"RSA","key_ops":["sign","verify","wrapKey","unwrapKey","encrypt","decrypt"],"n":"p2VQo8qCfWAZmdWBVaYuYb-a-tWWm78K6Sr9poCvNcmv8rUPSLACxitQWR8gZaSH1DklVkqz-Ed8Cdlf8lkDg4Ex5tkB64jRdC1Uvn4CDpOH6cp-N2s8hTFLqy9_YaDmyQS7HiqthOi9oVjil1VMeWfaAbClGtFt6UnKD0Vb_DvLoWYQSqlhgBArFJi966b4E1pOq5Ad02K8pHBDThlIIx7unibLehhDU6q3DCwNH_OOLx6bgNtmvGYJDd1cywpkLQ3YzNCUPWnfMBJRP3iQP_WI21uP6cvo0DqBPBM4wvVzHbCT0vnIflwkbgEWkq1FprqAitZlop9KjLqzjp9vyQ","e":"AQAB"}';
const ESO_EC =
  '{"kid":"https://example.vault.azure.net/keys/ec-p-521/e3d0e9c179b54988860c69c6ae172c65","kty":"EC","key_ops":["sign","verify"],"crv":"P-521","x":"AedOAtb7H7Oz1C_cPKI_R4CN_eai5nteY6KFW07FOoaqgQfVCSkQDK22fCOiMT_28c8LZYJRsiIFz_IIbQUW7bXj","y":"AOnchHnmBphIWXvanmMAmcCDkaED6ycW8GsAl9fQ43BMVZTqcTkJYn6vGnhn7MObizmkNSmgZYTwG-vZkIg03HHs"}';

/** The key as the SDK hands it over: camelCase members, binary ones decoded, in another order. */
function asSdk(json: string): JsonWebKey {
  const w = JSON.parse(json) as Record<string, unknown>;
  const bytes = (k: string) => (typeof w[k] === 'string' ? new Uint8Array(Buffer.from(w[k], 'base64url')) : undefined);
  const key: Record<string, unknown> = {
    y: bytes('y'),
    x: bytes('x'),
    e: bytes('e'),
    n: bytes('n'),
    crv: w.crv,
    keyOps: w.key_ops,
    kty: w.kty,
    kid: w.kid,
  };
  for (const k of Object.keys(key)) if (key[k] === undefined) delete key[k];
  return key as JsonWebKey;
}

describe('Azure key/<name> values', () => {
  it('are the JSON ESO returns, byte for byte, for an RSA and an EC key', () => {
    expect(jwkJson(asSdk(ESO_RSA))).toBe(ESO_RSA);
    expect(jwkJson(asSdk(ESO_EC))).toBe(ESO_EC);
  });

  it('write the HSM token under its wire name and leave out members the key does not have', () => {
    const out = JSON.parse(jwkJson({ kty: 'RSA-HSM', t: new Uint8Array([1, 2]), e: new Uint8Array([1, 0, 1]) }));
    expect(out).toEqual({ kty: 'RSA-HSM', e: 'AQAB', key_hsm: 'AQI' });
    expect(Object.keys(out)).toEqual(['kty', 'e', 'key_hsm']);
  });
});
