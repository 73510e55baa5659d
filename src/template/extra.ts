// The Sprig and ESO functions beyond strings and collections: dates (Go layouts, see time.ts),
// random strings, htpasswd/bcrypt (bcryptjs), PKCS#12 (node-forge) and JWK → PEM (Node's crypto).
// As elsewhere in this engine, where ESO would write an error text into the output these fail
// the render instead, and no message carries an argument's value.
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  randomBytes,
  randomInt,
  X509Certificate,
} from 'node:crypto';
import type Bcrypt from 'bcryptjs';
import type Forge from 'node-forge';
import { lazyRequire } from '../lazy-require.ts';
import { arity, checked } from './builtins.ts';
import { pemEncode } from './der.ts';
import { FunctionError, type TemplateFunction } from './execute.ts';
import { durationString, GoTime, inLocation, parseDuration, parseTime, roundDuration, ZERO_TIME } from './time.ts';
import { GoBytes, sprint, toBytes, typeName } from './values.ts';

const bcryptjs = lazyRequire<typeof Bcrypt>('bcryptjs');
const loadForge = lazyRequire<typeof Forge>('node-forge');

const NS_PER_S = 1_000_000_000n;

function str(v: unknown, fn: string, what = 'argument'): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  throw new FunctionError(`${fn}: ${what} must be a string, got ${typeName(v)}`);
}

function time(v: unknown, fn: string): GoTime {
  if (v instanceof GoTime) return v;
  throw new FunctionError(`wrong type for value; expected time.Time; got ${typeName(v)} (${fn})`);
}

function count(v: unknown, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FunctionError(`${fn}: the length must be an integer`);
  if (v < 0 || v > 1_000_000) throw new FunctionError(`${fn}: the length must be between 0 and 1000000`);
  return v;
}

/** Sprig's dateInZone: a time.Time, or Unix seconds (an integer); anything else means now. */
function dateInZone(layout: unknown, date: unknown, zone: unknown): string {
  let t: GoTime;
  if (date instanceof GoTime) t = date;
  else if (typeof date === 'number' && Number.isInteger(date)) t = new GoTime(BigInt(date) * NS_PER_S);
  else t = GoTime.now();
  return inLocation(t.ns, str(zone, 'dateInZone', 'the zone')).format(str(layout, 'date', 'the layout'));
}

function random(alphabet: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
/** Printable ASCII, 32 to 126, as goutils.CryptoRandomAscii. */
const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

/**
 * bcrypt hashes already made, by an HMAC of the password under a key of this process (never the
 * password itself). One hash costs about half a second of CPU on the controller's only thread,
 * so a password's hash is made once per process and reused, oldest dropped first.
 */
const BCRYPT_CACHE_KEY = randomBytes(32);
const BCRYPT_CACHE_SIZE = 1024;
const bcryptCache = new Map<string, string>();

/** Go's bcrypt.GenerateFromPassword at DefaultCost (10), in Go's $2a$ spelling. */
function bcrypt(password: string): string {
  if (Buffer.byteLength(password, 'utf8') > 72) {
    throw new FunctionError('bcrypt: password length exceeds 72 bytes');
  }
  const id = createHmac('sha256', BCRYPT_CACHE_KEY).update(password).digest('base64');
  const known = bcryptCache.get(id);
  if (known !== undefined) {
    bcryptCache.delete(id);
    bcryptCache.set(id, known);
    return known;
  }
  // $2a$ and $2b$ hash a password of at most 72 bytes identically; Go writes $2a$.
  const hash = bcryptjs()
    .hashSync(password, 10)
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

// ---- PKCS#12 ----

interface Decoded {
  keyDer: Buffer | undefined;
  /** The key's RSA modulus (hex), to find its certificate. */
  modulus: string | undefined;
  certs: { der: Buffer; modulus: string | undefined }[];
}

function decodePkcs12(input: unknown, password: string, fn: string): Decoded {
  const forge = loadForge();
  const bytes = toBytes(input).toString('binary');
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(bytes), false, password);
  } catch (err) {
    // forge reads RSA keys only; its messages name structures, never the content.
    const reason = err instanceof Error ? err.message.replace(/\s+/g, ' ').slice(0, 120) : 'error';
    throw new FunctionError(`${fn}: unable to decode pkcs12: ${reason}`);
  }
  const out: Decoded = { keyDer: undefined, modulus: undefined, certs: [] };
  for (const type of [forge.pki.oids.pkcs8ShroudedKeyBag, forge.pki.oids.keyBag] as string[]) {
    for (const bag of p12.getBags({ bagType: type })[type] ?? []) {
      if (!bag.key) continue;
      if (out.keyDer) throw new FunctionError(`${fn}: expected exactly one key in the pkcs12`);
      const info = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key as Forge.pki.rsa.PrivateKey));
      out.keyDer = Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary');
      out.modulus = (bag.key as Forge.pki.rsa.PrivateKey).n.toString(16);
    }
  }
  const certType = forge.pki.oids.certBag as string;
  for (const bag of p12.getBags({ bagType: certType })[certType] ?? []) {
    if (!bag.cert && !bag.asn1) continue;
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : (bag.asn1 as Forge.asn1.Asn1);
    const publicKey = bag.cert?.publicKey as Forge.pki.rsa.PublicKey | undefined;
    out.certs.push({
      der: Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'),
      modulus: publicKey?.n?.toString(16),
    });
  }
  return out;
}

function pkcs12key(password: string, input: unknown, fn: string): string {
  const d = decodePkcs12(input, password, fn);
  if (!d.keyDer) throw new FunctionError(`${fn}: the pkcs12 holds no private key`);
  return pemEncode('PRIVATE KEY', d.keyDer);
}

/** The leaf (the certificate of the key, else the first), then its issuers in chain order. */
function pkcs12cert(password: string, input: unknown, fn: string): string {
  const d = decodePkcs12(input, password, fn);
  if (d.certs.length === 0) throw new FunctionError(`${fn}: the pkcs12 holds no certificate`);
  const leafIndex = Math.max(
    0,
    d.certs.findIndex((c) => c.modulus !== undefined && c.modulus === d.modulus),
  );
  const leaf = d.certs[leafIndex] as Decoded['certs'][number];
  const rest = d.certs.filter((_, i) => i !== leafIndex);
  const parsed = (der: Buffer) => new X509Certificate(der);
  // Order the chain as ESO's fetchCertChains does; left unordered when it does not form one.
  const ordered = [leaf];
  const pool = [...rest];
  while (pool.length > 0) {
    const last = parsed((ordered.at(-1) as Decoded['certs'][number]).der);
    const next = pool.findIndex((c) => parsed(c.der).subject === last.issuer);
    if (next < 0 || last.subject === last.issuer) break;
    ordered.push(...pool.splice(next, 1));
  }
  const chain = pool.length === 0 ? ordered : [leaf, ...rest];
  return chain.map((c) => pemEncode('CERTIFICATE', c.der)).join('');
}

// ---- JWK ----

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

export const extra: Record<string, TemplateFunction> = {
  fail: checked('fail', 1, (msg) => {
    throw new FunctionError(sprint(msg));
  }),
  // dates
  now: checked('now', 0, () => GoTime.now()),
  date: checked('date', 2, (layout, d) => dateInZone(layout, d, 'Local')),
  dateInZone: checked('dateInZone', 3, dateInZone),
  date_in_zone: checked('date_in_zone', 3, dateInZone),
  htmlDate: checked('htmlDate', 1, (d) => dateInZone('2006-01-02', d, 'Local')),
  htmlDateInZone: checked('htmlDateInZone', 2, (d, zone) => dateInZone('2006-01-02', d, zone)),
  toDate: checked('toDate', 2, (layout, value) => {
    try {
      return parseTime(str(layout, 'toDate'), str(value, 'toDate'));
    } catch (err) {
      if (err instanceof FunctionError) return ZERO_TIME;
      throw err;
    }
  }),
  mustToDate: checked('mustToDate', 2, (layout, value) =>
    parseTime(str(layout, 'mustToDate'), str(value, 'mustToDate')),
  ),
  unixEpoch: checked('unixEpoch', 1, (d) => time(d, 'unixEpoch').unix().toString()),
  dateModify: checked('dateModify', 2, (mod, d) => {
    const t = time(d, 'dateModify');
    try {
      return t.add(parseDuration(str(mod, 'dateModify')));
    } catch (err) {
      if (err instanceof FunctionError) return t;
      throw err;
    }
  }),
  mustDateModify: checked('mustDateModify', 2, (mod, d) =>
    time(d, 'mustDateModify').add(parseDuration(str(mod, 'mustDateModify'))),
  ),
  ago: checked('ago', 1, (d) => {
    let t: GoTime;
    if (d instanceof GoTime) t = d;
    else if (typeof d === 'number' && Number.isInteger(d)) t = new GoTime(BigInt(d) * NS_PER_S);
    else t = GoTime.now();
    return durationString(roundDuration(GoTime.now().ns - t.ns, NS_PER_S));
  }),
  duration: checked('duration', 1, (sec) => {
    // Sprig takes a string or an int64 of seconds (anything else is 0).
    let n = 0n;
    if (typeof sec === 'string') n = /^[+-]?[0-9]+$/.test(sec.trim()) ? BigInt(sec.trim()) : 0n;
    else if (typeof sec === 'number' && Number.isInteger(sec)) n = BigInt(sec);
    return durationString(n * NS_PER_S);
  }),
  durationRound: checked('durationRound', 1, (v) => {
    let d = 0n;
    if (typeof v === 'string') {
      try {
        d = parseDuration(v);
      } catch {
        d = 0n;
      }
    } else if (typeof v === 'number' && Number.isInteger(v)) d = BigInt(v);
    else if (v instanceof GoTime) d = GoTime.now().ns - v.ns;
    const u = d < 0n ? -d : d;
    const units: [bigint, string][] = [
      [365n * 24n * 3600n * NS_PER_S, 'y'],
      [30n * 24n * 3600n * NS_PER_S, 'mo'],
      [24n * 3600n * NS_PER_S, 'd'],
      [3600n * NS_PER_S, 'h'],
      [60n * NS_PER_S, 'm'],
      [NS_PER_S, 's'],
    ];
    for (const [size, unit] of units) if (u > size) return `${u / size}${unit}`;
    return '0s';
  }),
  // random (crypto/rand, as goutils' Crypto* functions)
  randAlphaNum: checked('randAlphaNum', 1, (n) => random(LOWER + UPPER + DIGITS, count(n, 'randAlphaNum'))),
  randAlpha: checked('randAlpha', 1, (n) => random(LOWER + UPPER, count(n, 'randAlpha'))),
  randNumeric: checked('randNumeric', 1, (n) => random(DIGITS, count(n, 'randNumeric'))),
  randAscii: checked('randAscii', 1, (n) => random(ASCII, count(n, 'randAscii'))),
  // hashing
  bcrypt: checked('bcrypt', 1, (p) => bcrypt(str(p, 'bcrypt'))),
  htpasswd: (...a) => {
    // ESO's Sprig takes (user, password, algorithm "bcrypt"|"sha"); upstream Sprig (user, password).
    if (a.length !== 2 && a.length !== 3) arity('htpasswd', a, 3);
    return htpasswd(
      str(a[0], 'htpasswd', 'the username'),
      str(a[1], 'htpasswd', 'the password'),
      a[2] === undefined ? undefined : str(a[2], 'htpasswd', 'the algorithm'),
    );
  },
  // ESO's PKCS#12 and JWK helpers
  pkcs12key: checked('pkcs12key', 1, (input) => pkcs12key('', input, 'pkcs12key')),
  pkcs12keyPass: checked('pkcs12keyPass', 2, (pass, input) =>
    pkcs12key(str(pass, 'pkcs12keyPass', 'the password'), input, 'pkcs12keyPass'),
  ),
  pkcs12cert: checked('pkcs12cert', 1, (input) => pkcs12cert('', input, 'pkcs12cert')),
  pkcs12certPass: checked('pkcs12certPass', 2, (pass, input) =>
    pkcs12cert(str(pass, 'pkcs12certPass', 'the password'), input, 'pkcs12certPass'),
  ),
  jwkPublicKeyPem: checked('jwkPublicKeyPem', 1, (k) => jwkPublicKeyPem(str(k, 'jwkPublicKeyPem'))),
  jwkPrivateKeyPem: checked('jwkPrivateKeyPem', 1, (k) => jwkPrivateKeyPem(str(k, 'jwkPrivateKeyPem'))),
};
