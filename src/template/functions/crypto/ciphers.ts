// Ciphers: Sprig's encryptAES/decryptAES (AES-256-CBC with the password as the key, the IV
// first) and ESO's rsaDecrypt (RSA-OAEP).
import {
  createCipheriv,
  createDecipheriv,
  constants as cryptoConstants,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import { FunctionError, type TemplateFunction } from '../../execute.ts';
import { fromBytes, type GoBytes } from '../../values.ts';
import { bytesParam, checked, stringParam } from '../arguments.ts';
import { esoPrivateKey } from './keys.ts';
import { pemDecode } from './pem.ts';

/** Sprig's AES key: the password's bytes in 32 zero bytes (longer passwords cut at 32). */
function aesKey(password: Buffer): Buffer {
  const key = Buffer.alloc(32);
  password.copy(key, 0, 0, 32);
  return key;
}

function encryptAES(password: Buffer, plaintext: Buffer): string {
  if (plaintext.length === 0) return '';
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', aesKey(password), iv);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]).toString('base64');
}

function decryptAES(password: Buffer, crypt64: string): string | GoBytes {
  const fn = 'decryptAES';
  if (crypt64 === '') return '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(crypt64) || crypt64.length % 4 !== 0) {
    throw new FunctionError(`${fn}: illegal base64 data`);
  }
  const crypt = Buffer.from(crypt64, 'base64');
  if (crypt.length < 16) throw new FunctionError(`${fn}: the ciphertext is shorter than one block`);
  const body = crypt.subarray(16);
  if (body.length === 0 || body.length % 16 !== 0) {
    throw new FunctionError(`${fn}: crypto/cipher: input not full blocks`);
  }
  const decipher = createDecipheriv('aes-256-cbc', aesKey(password), crypt.subarray(0, 16));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(body), decipher.final()]);
  // Sprig strips as many bytes as the last one says without checking the padding (a wrong
  // password yields other bytes, not an error); only a count past the start fails, as Go panics.
  const pad = plain[plain.length - 1] as number;
  if (pad > plain.length) throw new FunctionError(`${fn}: the padding is invalid (wrong password?)`);
  return fromBytes(plain.subarray(0, plain.length - pad));
}

const OAEP_HASH: Record<string, string> = { None: 'sha256', SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

/** ESO's rsaDecrypt: "None" passes the input through; "RSA-OAEP" with SHA1/SHA256/SHA512 (else SHA-256). */
function rsaDecrypt(scheme: string, hash: string, input: Buffer, privateKey: string): string | GoBytes {
  const fn = 'rsaDecrypt';
  if (scheme === 'None') return fromBytes(input);
  if (scheme !== 'RSA-OAEP')
    throw new FunctionError(`${fn}: decryption scheme is not supported (want "None" or "RSA-OAEP")`);
  const { block } = pemDecode(privateKey);
  if (!block) throw new FunctionError(`${fn}: failed to decode PEM block`);
  const key = esoPrivateKey(block.bytes);
  if (!key) throw new FunctionError(`${fn}: could not parse private key: unable to parse private key type`);
  if (key.asymmetricKeyType !== 'rsa') throw new FunctionError(`${fn}: could not parse RSA private key`);
  try {
    const out = privateDecrypt(
      { key, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[hash] ?? 'sha256' },
      input,
    );
    return fromBytes(out);
  } catch {
    throw new FunctionError(`${fn}: error decrypting data with RSA: crypto/rsa: decryption error`);
  }
}

export const cipherFunctions: Record<string, TemplateFunction> = {
  rsaDecrypt: checked('rsaDecrypt', 4, (scheme, hash, input, key) =>
    rsaDecrypt(
      stringParam(scheme, 'rsaDecrypt'),
      stringParam(hash, 'rsaDecrypt'),
      bytesParam(input, 'rsaDecrypt'),
      stringParam(key, 'rsaDecrypt'),
    ),
  ),
  encryptAES: checked('encryptAES', 2, (p, plain) =>
    encryptAES(bytesParam(p, 'encryptAES'), bytesParam(plain, 'encryptAES')),
  ),
  decryptAES: checked('decryptAES', 2, (p, c) => decryptAES(bytesParam(p, 'decryptAES'), stringParam(c, 'decryptAES'))),
};
