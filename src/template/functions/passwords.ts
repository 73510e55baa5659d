// Password hashes and derived passwords: Sprig's bcrypt, htpasswd (bcrypt or SHA-1) and
// derivePassword (the Master Password algorithm: scrypt, then HMAC-SHA-256).
import { createHash, createHmac, randomBytes, scryptSync } from 'node:crypto';
import type Bcrypt from 'bcryptjs';
import { lazyRequire } from '../../lazy-require.ts';
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { arity, bytesParam, checked, intParam, stringNamed, stringParam, wrongType } from './arguments.ts';

const bcryptjs = lazyRequire<typeof Bcrypt>('bcryptjs');

/**
 * bcrypt's salt is an HMAC of the password under a key of this process (never the password
 * itself): every thread that renders in the process writes the same hash for one password, so a
 * Secret holding one is not rewritten on each refresh, whichever render worker made it. One hash
 * costs about a tenth of a second of CPU, so hashes already made are kept, oldest dropped first.
 */
let bcryptKey = randomBytes(32);
const BCRYPT_CACHE_SIZE = 1024;
const bcryptCache = new Map<string, string>();

/** The key bcrypt salts derive from; a render worker is given its parent's (useBcryptSaltKey). */
export function bcryptSaltKey(): Buffer {
  return bcryptKey;
}

export function useBcryptSaltKey(key: Uint8Array): void {
  bcryptKey = Buffer.from(key);
  bcryptCache.clear();
}

/** Go's bcrypt.GenerateFromPassword at DefaultCost (10), in Go's $2a$ spelling. */
function bcrypt(password: string): string {
  if (Buffer.byteLength(password, 'utf8') > 72) {
    throw new FunctionError('bcrypt: password length exceeds 72 bytes');
  }
  const id = createHmac('sha256', bcryptKey).update(password).digest('base64');
  const known = bcryptCache.get(id);
  if (known !== undefined) {
    bcryptCache.delete(id);
    bcryptCache.set(id, known);
    return known;
  }
  const salt = createHmac('sha256', bcryptKey).update('bcrypt salt\u0000').update(password).digest().subarray(0, 16);
  // $2a$ and $2b$ hash a password of at most 72 bytes identically; Go writes $2a$.
  const hash = bcryptjs()
    .hashSync(password, `$2b$10$${bcryptjs().encodeBase64(salt, 16)}`)
    .replace(/^\$2b\$/, '$2a$');
  bcryptCache.set(id, hash);
  if (bcryptCache.size > BCRYPT_CACHE_SIZE) bcryptCache.delete(bcryptCache.keys().next().value as string);
  return hash;
}

function htpasswd(username: string, password: string, algorithm = 'bcrypt'): string {
  if (username.includes(':')) throw new FunctionError('htpasswd: invalid username (it contains ":")');
  if (algorithm === 'sha') return `${username}:{SHA}${createHash('sha1').update(password).digest('base64')}`;
  return `${username}:${bcrypt(password)}`;
}

const MASTER_PASSWORD_SEED = 'com.lyndir.masterpassword';
const PASSWORD_TEMPLATES: Record<string, string[]> = {
  maximum: ['anoxxxxxxxxxxxxxxxxx', 'axxxxxxxxxxxxxxxxxno'],
  long: [
    'CvcvnoCvcvCvcv',
    'CvcvCvcvnoCvcv',
    'CvcvCvcvCvcvno',
    'CvccnoCvcvCvcv',
    'CvccCvcvnoCvcv',
    'CvccCvcvCvcvno',
    'CvcvnoCvccCvcv',
    'CvcvCvccnoCvcv',
    'CvcvCvccCvcvno',
    'CvcvnoCvcvCvcc',
    'CvcvCvcvnoCvcc',
    'CvcvCvcvCvccno',
    'CvccnoCvccCvcv',
    'CvccCvccnoCvcv',
    'CvccCvccCvcvno',
    'CvcvnoCvccCvcc',
    'CvcvCvccnoCvcc',
    'CvcvCvccCvccno',
    'CvccnoCvcvCvcc',
    'CvccCvcvnoCvcc',
    'CvccCvcvCvccno',
  ],
  medium: ['CvcnoCvc', 'CvcCvcno'],
  short: ['Cvcn'],
  basic: ['aaanaaan', 'aannaaan', 'aaannaaa'],
  pin: ['nnnn'],
};
const TEMPLATE_CHARACTERS: Record<string, string> = {
  V: 'AEIOU',
  C: 'BCDFGHJKLMNPQRSTVWXYZ',
  v: 'aeiou',
  c: 'bcdfghjklmnpqrstvwxyz',
  A: 'AEIOUBCDFGHJKLMNPQRSTVWXYZ',
  a: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz',
  n: '0123456789',
  o: "@&%?,=[]_:-+*$#!'^~;()/.",
  x: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()',
};

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The Master Password algorithm (v3, as Sprig implements it): scrypt, then HMAC-SHA-256. */
function derivePassword(counter: number, type: string, password: Buffer, user: Buffer, site: Buffer): string {
  const templates = PASSWORD_TEMPLATES[type];
  if (!Object.hasOwn(PASSWORD_TEMPLATES, type) || !templates) {
    throw new FunctionError(
      'derivePassword: cannot find password template (want maximum, long, medium, short, basic or pin)',
    );
  }
  const seed = Buffer.from(MASTER_PASSWORD_SEED);
  const salt = Buffer.concat([seed, uint32(user.length), user]);
  const key = scryptSync(password, salt, 64, { N: 32768, r: 8, p: 2, maxmem: 64 * 1024 * 1024 + 1024 * 1024 });
  const message = Buffer.concat([seed, uint32(site.length), site, uint32(counter)]);
  const digest = createHmac('sha256', key).update(message).digest();
  const template = templates[(digest[0] as number) % templates.length] as string;
  return [...template]
    .map((c, i) => {
      const chars = TEMPLATE_CHARACTERS[c] as string;
      return chars[(digest[i + 1] as number) % chars.length];
    })
    .join('');
}

export const passwordFunctions: Record<string, TemplateFunction> = {
  bcrypt: checked('bcrypt', 1, (p) => bcrypt(stringNamed(p, 'bcrypt'))),
  htpasswd: (...a) => {
    // ESO's Sprig takes (user, password, algorithm "bcrypt"|"sha"); upstream Sprig (user, password).
    if (a.length !== 2 && a.length !== 3) arity('htpasswd', a, 3);
    return htpasswd(
      stringNamed(a[0], 'htpasswd', 'the username'),
      stringNamed(a[1], 'htpasswd', 'the password'),
      a[2] === undefined ? undefined : stringNamed(a[2], 'htpasswd', 'the algorithm'),
    );
  },
  derivePassword: checked('derivePassword', 5, (counter, type, password, user, site) => {
    const fn = 'derivePassword';
    const n = intParam(counter, fn, 'uint32');
    if (n < 0 || n > 0xffffffff) throw wrongType('uint32', counter, fn);
    return derivePassword(
      n,
      stringParam(type, fn),
      bytesParam(password, fn),
      bytesParam(user, fn),
      bytesParam(site, fn),
    );
  }),
};
