// Private keys as ESO and Sprig read and write them: ESO's parsePrivateKey (PKCS#1, PKCS#8,
// SEC 1, whatever the PEM type says), Sprig's parsePrivateKeyPEM (by PEM type, DSA included) and
// pemBlockForKey, and genPrivateKey. node:crypto does the cryptography.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { FunctionError, type TemplateFunction } from '../../execute.ts';
import { checked, stringParam } from '../arguments.ts';
import { children, DerError, octets, oid, readDer, seq, uint } from './der.ts';
import { OID } from './oids.ts';
import { pemDecode, pemEncode } from './pem.ts';

/** The key types Go's x509.ParsePKCS8PrivateKey returns (DSA, Ed448, X448, RSA-PSS are refused). */
const GO_PKCS8_TYPES = new Set(['rsa', 'ec', 'ed25519', 'x25519']);
const GO_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1', 'secp224r1', 'P-256', 'P-384', 'P-521', 'P-224']);

export function tryKey(der: Buffer, type: 'pkcs1' | 'pkcs8' | 'sec1'): KeyObject | undefined {
  try {
    const key = createPrivateKey({ key: der, format: 'der', type });
    if (!GO_PKCS8_TYPES.has(key.asymmetricKeyType ?? '')) return undefined;
    if (key.asymmetricKeyType === 'ec' && !GO_CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? '')) return undefined;
    return key;
  } catch {
    return undefined;
  }
}

/** ESO's parsePrivateKey: PKCS#1, then PKCS#8, then SEC 1, whatever the PEM type says. */
export function esoPrivateKey(der: Buffer): KeyObject | undefined {
  return tryKey(der, 'pkcs1') ?? tryKey(der, 'pkcs8') ?? tryKey(der, 'sec1');
}

/** Sprig's DSA PRIVATE KEY body: SEQUENCE { 0, P, Q, G, Y, X } (OpenSSL's traditional form). */
function dsaToPkcs8(der: Buffer): KeyObject {
  const [version, p, q, g, , x] = children(readDer(der).body);
  if (!version || !p || !q || !g || !x) throw new DerError('short DSA key');
  const info = seq(uint(0), seq(oid(OID.dsa), seq(p.raw, q.raw, g.raw)), octets(x.raw));
  return createPrivateKey({ key: info, format: 'der', type: 'pkcs8' });
}

function dsaFromKey(key: KeyObject): Buffer {
  const info = children(readDer(key.export({ type: 'pkcs8', format: 'der' })).body);
  const params = children(children(info[1]?.body ?? Buffer.alloc(0))[1]?.body ?? Buffer.alloc(0));
  const x = readDer(info[2]?.body ?? Buffer.alloc(0));
  const spki = children(readDer(createPublicKey(key).export({ type: 'spki', format: 'der' })).body);
  const y = readDer((spki[1]?.body ?? Buffer.alloc(1)).subarray(1));
  const [p, q, g] = params;
  if (!p || !q || !g) throw new DerError('DSA parameters missing');
  return seq(uint(0), p.raw, q.raw, g.raw, y.raw, x.raw);
}

/** PEM labels of RFC 7468 and OpenSSL's; another label is not repeated (it comes from the value). */
const PEM_LABELS = new Set([
  'CERTIFICATE',
  'TRUSTED CERTIFICATE',
  'CERTIFICATE REQUEST',
  'NEW CERTIFICATE REQUEST',
  'X509 CRL',
  'PKCS7',
  'CMS',
  'PUBLIC KEY',
  'RSA PUBLIC KEY',
  'ENCRYPTED PRIVATE KEY',
  'PRIVATE KEY',
  'RSA PRIVATE KEY',
  'EC PRIVATE KEY',
  'DSA PRIVATE KEY',
  'PARAMETERS',
  'EC PARAMETERS',
  'DH PARAMETERS',
  'OPENSSH PRIVATE KEY',
  'PGP PRIVATE KEY BLOCK',
  'PGP PUBLIC KEY BLOCK',
]);

function pemTypeName(type: string): string {
  return PEM_LABELS.has(type) ? type : '(another label)';
}

/** Sprig's parsePrivateKeyPEM: the first PEM block, read by its type. Messages name no content. */
export function sprigPrivateKey(pemText: string, fn: string): KeyObject {
  const { block } = pemDecode(pemText);
  if (!block) throw new FunctionError(`${fn}: no PEM data in input`);
  const read = (type: 'pkcs1' | 'pkcs8' | 'sec1', what: string): KeyObject => {
    const key = tryKey(block.bytes, type);
    if (!key) throw new FunctionError(`${fn}: ${what}`);
    return key;
  };
  if (block.type === 'PRIVATE KEY') return read('pkcs8', 'decoding PEM as PKCS#8 failed');
  if (!block.type.endsWith(' PRIVATE KEY')) {
    throw new FunctionError(`${fn}: no private key data in PEM block of type ${pemTypeName(block.type)}`);
  }
  switch (block.type.slice(0, -12)) {
    case 'RSA':
      return read('pkcs1', 'parsing RSA private key from PEM failed');
    case 'EC':
      return read('sec1', 'parsing EC private key from PEM failed');
    case 'DSA':
      try {
        return dsaToPkcs8(block.bytes);
      } catch {
        throw new FunctionError(`${fn}: parsing DSA private key from PEM failed`);
      }
    default:
      throw new FunctionError(`${fn}: invalid private key type ${pemTypeName(block.type)}`);
  }
}

/** Sprig's pemBlockForKey: RSA as PKCS#1, EC as SEC 1, DSA in its own form, the rest PKCS#8. */
export function keyPem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return pemEncode('RSA PRIVATE KEY', key.export({ type: 'pkcs1', format: 'der' }));
    case 'ec':
      return pemEncode('EC PRIVATE KEY', key.export({ type: 'sec1', format: 'der' }));
    case 'dsa':
      return pemEncode('DSA PRIVATE KEY', dsaFromKey(key));
    default:
      return pemEncode('PRIVATE KEY', key.export({ type: 'pkcs8', format: 'der' }));
  }
}

function generateKey(type: string, fn: string): KeyObject {
  switch (type) {
    case '':
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey;
    case 'dsa':
      return generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey;
    case 'ecdsa':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey;
    default:
      // Sprig prints "Unknown type <typ>" into the output; here the render fails instead.
      throw new FunctionError(`${fn}: unknown key type (want "rsa", "dsa", "ecdsa" or "ed25519")`);
  }
}

export const keyFunctions: Record<string, TemplateFunction> = {
  genPrivateKey: checked('genPrivateKey', 1, (t) =>
    keyPem(generateKey(stringParam(t, 'genPrivateKey'), 'genPrivateKey')),
  ),
};
