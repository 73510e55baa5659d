// ESO's JWK helpers: jwkPublicKeyPem (SPKI PEM) and jwkPrivateKeyPem (PKCS#8 PEM) of a JSON Web
// Key, through node:crypto.
import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';
import { FunctionError, type TemplateFunction } from '../../execute.ts';
import { checked, stringNamed } from '../arguments.ts';

function parseJwk(text: string, fn: string): JsonWebKey {
  try {
    const jwk = JSON.parse(text) as unknown;
    if (jwk && typeof jwk === 'object' && !Array.isArray(jwk)) return jwk as JsonWebKey;
  } catch {
    // fall through
  }
  throw new FunctionError(`${fn}: the argument is not a JSON Web Key`);
}

function jwkPublicKeyPem(text: string): string {
  const jwk = parseJwk(text, 'jwkPublicKeyPem');
  // ESO marshals the parsed key as a public key: a private or symmetric JWK is an error there.
  if (jwk.d !== undefined || jwk.kty === 'oct') throw new FunctionError('x509: unsupported public key type');
  try {
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    throw new FunctionError('jwkPublicKeyPem: the key cannot be read');
  }
}

function jwkPrivateKeyPem(text: string): string {
  const jwk = parseJwk(text, 'jwkPrivateKeyPem');
  if (jwk.d === undefined) throw new FunctionError('x509: unknown key type while marshaling PKCS#8');
  try {
    return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch {
    throw new FunctionError('jwkPrivateKeyPem: the key cannot be read');
  }
}

export const jwkFunctions: Record<string, TemplateFunction> = {
  jwkPublicKeyPem: checked('jwkPublicKeyPem', 1, (k) => jwkPublicKeyPem(stringNamed(k, 'jwkPublicKeyPem'))),
  jwkPrivateKeyPem: checked('jwkPrivateKeyPem', 1, (k) => jwkPrivateKeyPem(stringNamed(k, 'jwkPrivateKeyPem'))),
};
