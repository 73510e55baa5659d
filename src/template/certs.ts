// The certificate, key and cipher functions of ESO's engine v2 (pemToPkcs12*, fullPemToPkcs12*,
// pemTruststoreToPKCS12*, filterCertChain, rsaDecrypt) and of Sprig v3.3.0 (genPrivateKey,
// derivePassword, buildCustomCert, genCA*, genSelfSignedCert*, genSignedCert*, encryptAES,
// decryptAES, randBytes, uuidv4, adler32sum). node:crypto does the cryptography; der.ts lays out
// the bytes as Go's crypto/x509 and go-pkcs12 (its Modern encoder, the one ESO calls) do.
// Where Sprig writes an error text into the output ("Unknown type …") these fail the render, as
// elsewhere in this engine; no message carries a key, password, plaintext or other argument.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  constants as cryptoConstants,
  generateKeyPairSync,
  type KeyObject,
  pbkdf2Sync,
  privateDecrypt,
  randomBytes,
  randomUUID,
  scryptSync,
  sign,
  X509Certificate,
} from 'node:crypto';
import { checked } from './builtins.ts';
import {
  bitString,
  bool,
  children,
  ctx,
  type Der,
  DerError,
  NULL,
  octets,
  oid,
  oidString,
  pemBlocks,
  pemDecode,
  pemEncode,
  readDer,
  seq,
  setOf,
  tlv,
  uint,
} from './der.ts';
import { FunctionError, type TemplateFunction } from './execute.ts';
import { fromBytes, GoBytes, GoValue, typeName } from './values.ts';

// ---- arguments (Go's text/template refuses a value of the wrong type before the call) ----

function wrongType(want: string, v: unknown, fn: string): FunctionError {
  return new FunctionError(`wrong type for value; expected ${want}; got ${typeName(v)} (${fn})`);
}

function text(v: unknown, fn: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return v.bytes.toString('latin1');
  throw wrongType('string', v, fn);
}

/** A Go string's bytes: UTF-8 for text, the bytes themselves for binary values. */
function bytes(v: unknown, fn: string): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof GoBytes) return v.bytes;
  throw wrongType('string', v, fn);
}

function integer(v: unknown, fn: string, want = 'int'): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw wrongType(want, v, fn);
}

function strings(v: unknown, fn: string, what: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw wrongType('[]interface {}', v, fn);
  return v.map((e) => {
    if (typeof e !== 'string') throw new FunctionError(`${fn}: error parsing ${what}: an element is not a string`);
    return e;
  });
}

// ---- keys ----

const OID = {
  rsa: '1.2.840.113549.1.1.1',
  dsa: '1.2.840.10040.4.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  commonName: '2.5.4.3',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  javaTrustStore: '2.16.840.1.113894.746875.1.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSHA256: '1.2.840.113549.2.9',
  aes256cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** The key types Go's x509.ParsePKCS8PrivateKey returns (DSA, Ed448, X448, RSA-PSS are refused). */
const GO_PKCS8_TYPES = new Set(['rsa', 'ec', 'ed25519', 'x25519']);
const GO_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1', 'secp224r1', 'P-256', 'P-384', 'P-521', 'P-224']);

function tryKey(der: Buffer, type: 'pkcs1' | 'pkcs8' | 'sec1'): KeyObject | undefined {
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
function esoPrivateKey(der: Buffer): KeyObject | undefined {
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
function sprigPrivateKey(pemText: string, fn: string): KeyObject {
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
function keyPem(key: KeyObject): string {
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

// ---- certificates: reading ----

interface CertInfo {
  raw: Buffer;
  subjectRaw: Buffer;
  /** Go's nil is undefined; bytes.Equal treats nil and empty alike, so compare with keyIdEqual. */
  subjectKeyId: Buffer | undefined;
  authorityKeyId: Buffer | undefined;
  spki: Buffer;
  /** Subject alternative names in Go's order: DNS names, IP addresses, email addresses, URIs. */
  sans: string[];
}

function keyIdEqual(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return (a ?? Buffer.alloc(0)).equals(b ?? Buffer.alloc(0));
}

/** Go's x509.ParseCertificate, as far as these functions need it. */
function parseCert(der: Buffer, fn: string): CertInfo {
  try {
    new X509Certificate(der);
    const cert = readDer(der);
    if (cert.end !== der.length) throw new DerError('trailing data');
    const tbs = children(children(cert.body)[0]?.body ?? Buffer.alloc(0));
    const off = tbs[0]?.tag === 0xa0 ? 1 : 0;
    const subject = tbs[off + 4];
    const spki = tbs[off + 5];
    if (!subject || !spki) throw new DerError('short certificate');
    const info: CertInfo = {
      raw: der,
      subjectRaw: subject.raw,
      subjectKeyId: undefined,
      authorityKeyId: undefined,
      spki: spki.raw,
      sans: [],
    };
    const exts = tbs.find((d) => d.tag === 0xa3);
    for (const ext of exts ? children(readDer(exts.body).body) : []) {
      const parts = children(ext.body);
      const id = parts[0] ? oidString(parts[0]) : '';
      const value = parts.at(-1);
      if (value?.tag !== 0x04) continue;
      if (id === OID.subjectKeyId) info.subjectKeyId = Buffer.from(readDer(value.body).body);
      if (id === OID.subjectAltName) info.sans = subjectAltNames(readDer(value.body).body);
      if (id === OID.authorityKeyId) {
        const keyId = children(readDer(value.body).body).find((d) => d.tag === 0x80);
        if (keyId && keyId.body.length > 0) info.authorityKeyId = Buffer.from(keyId.body);
      }
    }
    return info;
  } catch (err) {
    if (err instanceof FunctionError) throw err;
    throw new FunctionError(`${fn}: x509: malformed certificate`);
  }
}

/** Go's net.IP.String: dotted IPv4 (also for IPv4-mapped IPv6), else RFC 5952 IPv6. */
function ipString(b: Buffer): string {
  const mapped = b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (b.length === 4 || mapped) return [...b.subarray(b.length - 4)].join('.');
  if (b.length !== 16) return `?${b.toString('hex')}`;
  const words = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function subjectAltNames(body: Buffer): string[] {
  const names = children(body);
  const of = (tag: number) => names.filter((n) => n.tag === tag);
  return [
    ...of(0x82).map((n) => n.body.toString('utf8')),
    ...of(0x87).map((n) => ipString(n.body)),
    ...of(0x81).map((n) => n.body.toString('utf8')),
    ...of(0x86).map((n) => n.body.toString('utf8')),
  ];
}

/** ESO's certSANs (ESO 2.2 and later): the SANs of the first certificate, as strings. */
function certSANs(input: string): string[] {
  const fn = 'certSANs';
  const begin = input.indexOf('-----BEGIN');
  const { block } = pemDecode(begin < 0 ? input : input.slice(begin));
  if (!block) throw new FunctionError(`${fn}: failed to decode PEM block`);
  try {
    return parseCert(block.bytes, fn).sans;
  } catch {
    throw new FunctionError(`${fn}: failed to parse certificate: x509: malformed certificate`);
  }
}

/** The first PEM block of `input`, which must be a certificate (ESO decodes it without a type check). */
function firstCert(input: string, fn: string, what = 'certificate'): CertInfo {
  const { block } = pemDecode(input);
  if (!block) throw new FunctionError(`${fn}: no PEM data found in the ${what}`);
  return parseCert(block.bytes, fn);
}

/** ESO's parseCaCerts: every PEM block is a certificate (trailing whitespace tolerated). */
function allCerts(input: string, fn: string, what: string): CertInfo[] {
  const out: CertInfo[] = [];
  let rest = input;
  while (rest.trim().length > 0) {
    const { block, rest: next } = pemDecode(rest);
    if (!block) throw new FunctionError(`${fn}: no PEM data found in the ${what}`);
    out.push(parseCert(block.bytes, fn));
    rest = next;
  }
  return out;
}

/**
 * ESO's fetchX509CertChains (from the Azure CSI provider): each certificate's parent is the first
 * other one whose SubjectKeyId equals its AuthorityKeyId; the one certificate that is nobody's
 * parent is the leaf; the chain runs leaf → root.
 */
function orderChain(certs: CertInfo[], fn: string): CertInfo[] {
  const parent = new Map<number, number>();
  const isParent = new Set<number>();
  certs.forEach((c, i) => {
    const j = certs.findIndex((d, k) => k !== i && keyIdEqual(c.authorityKeyId, d.subjectKeyId));
    if (j >= 0) {
      isParent.add(j);
      parent.set(i, j);
    }
  });
  const leaves = certs.map((_, i) => i).filter((i) => !isParent.has(i));
  if (leaves.length > 1) throw new FunctionError(`${fn}: found multiple leaf or disjunct certificates`);
  if (leaves.length === 0) throw new FunctionError(`${fn}: no leaf certificate found`);
  const chain: CertInfo[] = [];
  for (let at: number | undefined = leaves[0]; at !== undefined; at = parent.get(at)) {
    if (chain.length >= certs.length) throw new FunctionError(`${fn}: constructing chain resulted in cycle`);
    chain.push(certs[at] as CertInfo);
  }
  return chain;
}

function isRoot(c: CertInfo): boolean {
  return c.authorityKeyId === undefined || keyIdEqual(c.authorityKeyId, c.subjectKeyId);
}

function filterCertChain(certType: string, input: string): string {
  const fn = 'filterCertChain';
  const certs = pemBlocks(input).map((b) => parseCert(b.bytes, fn));
  const ordered = orderChain(certs, fn);
  const leaf = ordered[0] as CertInfo;
  const last = ordered.at(-1) as CertInfo;
  switch (certType) {
    case 'leaf':
      return leaf.authorityKeyId !== undefined && !keyIdEqual(leaf.authorityKeyId, leaf.subjectKeyId)
        ? pemEncode('CERTIFICATE', leaf.raw)
        : '';
    case 'intermediate': {
      let out = '';
      for (const c of ordered.slice(1)) {
        if (isRoot(c)) break;
        out += pemEncode('CERTIFICATE', c.raw);
      }
      return out;
    }
    case 'root':
      return isRoot(last) ? pemEncode('CERTIFICATE', last.raw) : '';
    default:
      return '';
  }
}

// ---- Go's pkix.Name.String (the trust store's friendly names) ----

const NAME_TYPES: Record<string, string> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
};
/** UTF8String, NumericString, PrintableString, T61String, IA5String, BMPString. */
const STRING_TAGS = new Set([0x0c, 0x12, 0x13, 0x14, 0x16, 0x1e]);
/** The order pkix.Name.ToRDNSequence writes the parsed attributes in. */
const NAME_ORDER = [
  '2.5.4.6',
  '2.5.4.8',
  '2.5.4.7',
  '2.5.4.9',
  '2.5.4.17',
  '2.5.4.10',
  '2.5.4.11',
  '2.5.4.3',
  '2.5.4.5',
];

function escapeRdnValue(v: string): string {
  const chars = [...v];
  return chars
    .map((c, k) => {
      const escaped =
        ',+"\\<>;'.includes(c) || (c === ' ' && (k === 0 || k === chars.length - 1)) || (c === '#' && k === 0);
      return escaped ? `\\${c}` : c;
    })
    .join('');
}

function nameString(subjectRaw: Buffer): string {
  const atvs: { type: string; value: Der }[] = [];
  for (const rdn of children(readDer(subjectRaw).body)) {
    for (const atv of children(rdn.body)) {
      const [t, v] = children(atv.body);
      if (t && v) atvs.push({ type: oidString(t), value: v });
    }
  }
  const str = (d: Der) => (d.tag === 0x1e ? Buffer.from(d.body).swap16().toString('utf16le') : d.body.toString('utf8'));
  // Attributes Go does not parse into named fields come first (so last in the string), as DER.
  // Go prints them as the DER it would write for the parsed value: strings re-encoded by its
  // rule (PrintableString or UTF8String), anything else as read.
  const reencoded = (d: Der) => (STRING_TAGS.has(d.tag) ? goString(str(d)) : d.raw);
  const rdns: string[][] = atvs
    .filter((a) => !NAME_TYPES[a.type])
    .map((a) => [`${a.type}=#${reencoded(a.value).toString('hex')}`]);
  for (const type of NAME_ORDER) {
    let values = atvs.filter((a) => a.type === type).map((a) => str(a.value));
    // CommonName and SerialNumber are single fields in pkix.Name: the last one wins.
    if ((type === '2.5.4.3' || type === '2.5.4.5') && values.length > 1) values = values.slice(-1);
    if (values.length > 0) rdns.push(values.map((v) => `${NAME_TYPES[type]}=${escapeRdnValue(v)}`));
  }
  return rdns
    .reverse()
    .map((r) => r.join('+'))
    .join(',');
}

/** UCS-2 big-endian, refusing characters outside the BMP as go-pkcs12 does. */
function bmpString(s: string, fn: string): Buffer {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c > 0xffff || (c >= 0xd800 && c <= 0xdfff)) {
      throw new FunctionError(`${fn}: pkcs12: string contains characters that cannot be encoded in UCS-2`);
    }
    out.push(c >> 8, c & 0xff);
  }
  return Buffer.from(out);
}

// ---- PKCS#12 (go-pkcs12's Modern2023 encoder: PBES2/PBKDF2-HMAC-SHA-256/AES-256-CBC, MAC HMAC-SHA-256) ----

const P12_ITERATIONS = 2048;
const P12_SALT = 16;

/** RFC 7292 appendix B.2 key derivation with SHA-256 (u = 32, v = 64), for the MAC key. */
function pkcs12Kdf(password: Buffer, salt: Buffer, id: number, iterations: number, size: number): Buffer {
  const u = 32;
  const v = 64;
  const fill = (b: Buffer) => {
    if (b.length === 0) return Buffer.alloc(0);
    const n = v * Math.ceil(b.length / v);
    return Buffer.from(Array.from({ length: n }, (_, i) => b[i % b.length] as number));
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const out: Buffer[] = [];
  for (let done = 0; done < size; done += u) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let j = 1; j < iterations; j++) A = createHash('sha256').update(A).digest();
    out.push(A);
    const B = fill(A);
    for (let off = 0; off < I.length; off += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[off + k] as number) + (B[k] as number) + carry;
        I[off + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, size);
}

/** PBES2 (PKCS#5 v2.1) encryption: returns the AlgorithmIdentifier and the ciphertext. */
function pbes2Encrypt(plain: Buffer, password: string): { algorithm: Buffer; encrypted: Buffer } {
  const salt = randomBytes(P12_SALT);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, P12_ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const algorithm = seq(
    oid(OID.pbes2),
    seq(
      seq(oid(OID.pbkdf2), seq(octets(salt), uint(P12_ITERATIONS), seq(oid(OID.hmacWithSHA256)))),
      seq(oid(OID.aes256cbc), octets(iv)),
    ),
  );
  return { algorithm, encrypted };
}

const attribute = (type: string, ...values: Buffer[]) => seq(oid(type), setOf(...values));

function safeBag(type: string, value: Buffer, attributes: Buffer[] | undefined): Buffer {
  return seq(oid(type), ctx(0, true, value), ...(attributes ? [setOf(...attributes)] : []));
}

function certBag(der: Buffer, attributes: Buffer[] | undefined): Buffer {
  return safeBag(OID.certBag, seq(oid(OID.x509Certificate), ctx(0, true, octets(der))), attributes);
}

function encryptedContent(bags: Buffer[], password: string): Buffer {
  const { algorithm, encrypted } = pbes2Encrypt(seq(...bags), password);
  return seq(
    oid(OID.encryptedData),
    ctx(0, true, seq(uint(0), seq(oid(OID.data), algorithm, ctx(0, false, encrypted)))),
  );
}

function pfx(authenticatedSafe: Buffer[], password: string, fn: string): string {
  const safe = seq(...authenticatedSafe);
  const macSalt = randomBytes(P12_SALT);
  const macPassword = Buffer.concat([bmpString(password, fn), Buffer.alloc(2)]);
  const macKey = pkcs12Kdf(macPassword, macSalt, 3, P12_ITERATIONS, 32);
  const digest = createHmac('sha256', macKey).update(safe).digest();
  const der = seq(
    uint(3),
    seq(oid(OID.data), ctx(0, true, octets(safe))),
    seq(seq(seq(oid(OID.sha256)), octets(digest)), octets(macSalt), uint(P12_ITERATIONS)),
  );
  return der.toString('base64');
}

/** go-pkcs12 Modern.Encode: certificates in an encrypted SafeContents, the shrouded key beside it. */
function certsKeyToPkcs12(leaf: CertInfo, keyPemText: string, ca: CertInfo[], password: string, fn: string): string {
  const { block } = pemDecode(keyPemText);
  if (!block) throw new FunctionError(`${fn}: no PEM data found in the private key`);
  const key = esoPrivateKey(block.bytes);
  if (!key) throw new FunctionError(`${fn}: unable to parse private key type`);
  bmpString(password, fn);
  const localKeyId = attribute(OID.localKeyId, octets(createHash('sha1').update(leaf.raw).digest()));
  const certBags = [certBag(leaf.raw, [localKeyId]), ...ca.map((c) => certBag(c.raw, []))];
  const { algorithm, encrypted } = pbes2Encrypt(key.export({ type: 'pkcs8', format: 'der' }), password);
  const keyBag = safeBag(OID.shroudedKeyBag, seq(algorithm, octets(encrypted)), [localKeyId]);
  return pfx(
    [encryptedContent(certBags, password), seq(oid(OID.data), ctx(0, true, octets(seq(keyBag))))],
    password,
    fn,
  );
}

function pemToPkcs12(cert: string, key: string, password: string, fn: string): string {
  return certsKeyToPkcs12(firstCert(cert, fn), key, [], password, fn);
}

function fullPemToPkcs12(cert: string, key: string, password: string, fn: string): string {
  const { block, rest } = pemDecode(cert);
  if (!block) throw new FunctionError(`${fn}: no PEM data found in the certificate`);
  const leaf = parseCert(block.bytes, fn);
  return certsKeyToPkcs12(leaf, key, allCerts(rest, fn, 'certificate chain'), password, fn);
}

/** go-pkcs12 Modern.EncodeTrustStore: each certificate trusted for any purpose, named by its subject. */
function pemTruststoreToPkcs12(cert: string, password: string, fn: string): string {
  const certs = allCerts(cert, fn, 'certificates');
  bmpString(password, fn);
  const trusted = attribute(OID.javaTrustStore, oid(OID.anyExtendedKeyUsage));
  const bags = certs.map((c) =>
    certBag(c.raw, [trusted, attribute(OID.friendlyName, tlv(0x1e, bmpString(nameString(c.subjectRaw), fn)))]),
  );
  return pfx([encryptedContent(bags, password)], password, fn);
}

// ---- certificates: writing (Go's x509.CreateCertificate with Sprig's template) ----

/** Sprig's certificate struct: `.Cert` and `.Key`, PEM text. */
export class SprigCertificate extends GoValue {
  readonly Cert: string;
  readonly Key: string;

  constructor(cert: string, key: string) {
    super();
    this.Cert = cert;
    this.Key = key;
  }

  get goType(): string {
    return 'sprig.certificate';
  }

  goString(): string {
    return `{${this.Cert} ${this.Key}}`;
  }

  override field(name: string): unknown {
    if (name === 'Cert') return this.Cert;
    if (name === 'Key') return this.Key;
    return undefined;
  }
}

function signatureAlgorithm(key: KeyObject, fn: string): { id: Buffer; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { id: seq(oid(OID.sha256WithRSA), NULL), hash: 'sha256' };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { id: seq(oid(OID.ecdsaSha384)), hash: 'sha384' };
      if (curve === 'secp521r1') return { id: seq(oid(OID.ecdsaSha512)), hash: 'sha512' };
      return { id: seq(oid(OID.ecdsaSha256)), hash: 'sha256' };
    }
    case 'ed25519':
      return { id: seq(oid(OID.ed25519)), hash: null };
    default:
      throw new FunctionError(
        `${fn}: error creating certificate: x509: certificate private key does not implement crypto.Signer`,
      );
  }
}

/** asn1.Marshal of a Go string: PrintableString when it can be one, else UTF8String. */
function goString(s: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s) ? tlv(0x13, Buffer.from(s)) : tlv(0x0c, Buffer.from(s, 'utf8'));
}

function goTime(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function parseIp(s: string): Buffer | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    // Go's net.ParseIP refuses leading zeros and values over 255.
    if (v4.slice(1).some((p) => p.length > 1 && p.startsWith('0')) || parts.some((p) => p > 255)) return undefined;
    return Buffer.from(parts);
  }
  if (!s.includes(':') || s.includes('%')) return undefined;
  try {
    const url = new URL(`http://[${s}]/`);
    const host = url.hostname.slice(1, -1);
    const [head = '', tail = ''] = host.split('::');
    const groups = (x: string) => (x === '' ? [] : x.split(':'));
    let words: string[];
    if (host.includes('::')) {
      const h = groups(head);
      const t = groups(tail);
      words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    } else words = groups(host);
    if (words.length !== 8) return undefined;
    const out = Buffer.alloc(16);
    for (const [i, w] of words.entries()) out.writeUInt16BE(Number.parseInt(w, 16), i * 2);
    // An IPv4-mapped address is written in its 4-byte form, as Go's To4 does.
    if (out.subarray(0, 10).every((b) => b === 0) && out[10] === 0xff && out[11] === 0xff) return out.subarray(12);
    return out;
  } catch {
    return undefined;
  }
}

interface CertTemplate {
  cn: string;
  ips: Buffer[];
  dns: string[];
  days: number;
  isCA: boolean;
}

function baseTemplate(cn: unknown, ips: unknown, dns: unknown, days: unknown, fn: string, isCA = false): CertTemplate {
  const addresses = strings(ips, fn, 'ip').map((ip) => {
    const b = parseIp(ip);
    if (!b) throw new FunctionError(`${fn}: error parsing ip: not an IP address`);
    return b;
  });
  return {
    cn: text(cn, fn),
    ips: addresses,
    dns: strings(dns, fn, 'alternate dns name'),
    days: integer(days, fn),
    isCA,
  };
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** Go's x509.CreateCertificate for Sprig's template, signed by `signer` (self-signed when no parent). */
function createCertificate(
  t: CertTemplate,
  subjectKey: KeyObject,
  signer: KeyObject,
  parent: CertInfo | undefined,
  fn: string,
): string {
  const alg = signatureAlgorithm(signer, fn);
  const spki = createPublicKey(subjectKey).export({ type: 'spki', format: 'der' });
  const publicKeyBits = readDer(children(readDer(spki).body)[1]?.raw ?? Buffer.alloc(0)).body.subarray(1);
  const subject = seq(...(t.cn === '' ? [] : [setOf(seq(oid(OID.commonName), goString(t.cn)))]));
  const issuer = parent ? parent.subjectRaw : subject;
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const notAfter = new Date(now.getTime() + t.days * 86_400_000);
  // Key usage bits, Go's order reversed into the BIT STRING: digitalSignature (0),
  // keyEncipherment (2), and keyCertSign (5) for a CA.
  const keyUsage = t.isCA ? bitString(Buffer.from([0xa4]), 2) : bitString(Buffer.from([0xa0]), 5);
  const exts = [
    extension(OID.keyUsage, true, keyUsage),
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.basicConstraints, true, t.isCA ? seq(bool(true)) : seq()),
  ];
  // Go 1.25 fills a CA's SubjectKeyId with the first 160 bits of SHA-256 over the public key bits.
  if (t.isCA) {
    const ski = createHash('sha256').update(publicKeyBits).digest().subarray(0, 20);
    exts.push(extension(OID.subjectKeyId, false, octets(ski)));
  }
  if (parent && !parent.subjectRaw.equals(subject) && parent.subjectKeyId && parent.subjectKeyId.length > 0) {
    exts.push(extension(OID.authorityKeyId, false, seq(ctx(0, false, parent.subjectKeyId))));
  }
  if (t.dns.length > 0 || t.ips.length > 0) {
    const names = [...t.dns.map((d) => ctx(2, false, Buffer.from(d, 'utf8'))), ...t.ips.map((ip) => ctx(7, false, ip))];
    exts.push(extension(OID.subjectAltName, t.cn === '', seq(...names)));
  }
  const serial = BigInt(`0x${randomBytes(16).toString('hex')}`);
  const tbs = seq(
    ctx(0, true, uint(2)),
    uint(serial),
    alg.id,
    issuer,
    seq(goTime(now), goTime(notAfter)),
    subject,
    spki,
    ctx(3, true, seq(...exts)),
  );
  const signature = sign(alg.hash, tbs, signer);
  return pemEncode('CERTIFICATE', seq(tbs, alg.id, bitString(signature)));
}

function selfSigned(t: CertTemplate, key: KeyObject, fn: string): SprigCertificate {
  return new SprigCertificate(createCertificate(t, key, key, undefined, fn), keyPem(key));
}

function signed(t: CertTemplate, key: KeyObject, ca: unknown, fn: string): SprigCertificate {
  if (!(ca instanceof SprigCertificate)) throw wrongType('sprig.certificate', ca, fn);
  const { block } = pemDecode(ca.Cert);
  if (!block) throw new FunctionError(`${fn}: unable to decode certificate`);
  const parent = parseCert(block.bytes, fn);
  let signer: KeyObject;
  try {
    signer = sprigPrivateKey(ca.Key, fn);
  } catch {
    throw new FunctionError(`${fn}: error parsing private key`);
  }
  const signerPublic = createPublicKey(signer).export({ type: 'spki', format: 'der' });
  if (!signerPublic.equals(parent.spki)) {
    throw new FunctionError(
      `${fn}: error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey`,
    );
  }
  return new SprigCertificate(createCertificate(t, key, signer, parent, fn), keyPem(key));
}

function withKey(pemText: unknown, fn: string): KeyObject {
  try {
    return sprigPrivateKey(text(pemText, fn), fn);
  } catch (err) {
    const reason = err instanceof FunctionError ? err.message.replace(`${fn}: `, '') : 'error';
    throw new FunctionError(`${fn}: parsing private key: ${reason}`);
  }
}

function rsa2048(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function buildCustomCert(b64cert: string, b64key: string): SprigCertificate {
  const fn = 'buildCustomCert';
  const decode = (s: string, what: string): Buffer => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
      throw new FunctionError(`${fn}: unable to decode base64 ${what}`);
    }
    return Buffer.from(s, 'base64');
  };
  const cert = decode(b64cert, 'certificate');
  const key = decode(b64key, 'private key');
  const { block } = pemDecode(cert.toString('latin1'));
  if (!block) throw new FunctionError(`${fn}: unable to decode certificate`);
  try {
    parseCert(block.bytes, fn);
  } catch {
    throw new FunctionError(`${fn}: error parsing certificate: decodedCert.Bytes: x509: malformed certificate`);
  }
  try {
    sprigPrivateKey(key.toString('latin1'), fn);
  } catch (err) {
    const reason = err instanceof FunctionError ? err.message.replace(`${fn}: `, '') : 'error';
    throw new FunctionError(`${fn}: error parsing private key: ${reason}`);
  }
  return new SprigCertificate(cert.toString('utf8'), key.toString('utf8'));
}

// ---- ciphers and the rest of Sprig's crypto ----

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

/** RFC 1950's Adler-32, printed in decimal as Sprig's adler32sum does. */
function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const byte of b) {
    a = (a + byte) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
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

function randBytes(n: number): string {
  if (n < 0) throw new FunctionError('randBytes: the count must not be negative');
  if (n > 1_000_000) throw new FunctionError('randBytes: the count must be at most 1000000');
  return randomBytes(n).toString('base64');
}

export const certs: Record<string, TemplateFunction> = {
  // ESO's PKCS#12 writers (base64 of the DER, as ESO returns it)
  pemToPkcs12: checked('pemToPkcs12', 2, (c, k) =>
    pemToPkcs12(text(c, 'pemToPkcs12'), text(k, 'pemToPkcs12'), '', 'pemToPkcs12'),
  ),
  pemToPkcs12Pass: checked('pemToPkcs12Pass', 3, (c, k, p) =>
    pemToPkcs12(text(c, 'pemToPkcs12Pass'), text(k, 'pemToPkcs12Pass'), text(p, 'pemToPkcs12Pass'), 'pemToPkcs12Pass'),
  ),
  fullPemToPkcs12: checked('fullPemToPkcs12', 2, (c, k) =>
    fullPemToPkcs12(text(c, 'fullPemToPkcs12'), text(k, 'fullPemToPkcs12'), '', 'fullPemToPkcs12'),
  ),
  fullPemToPkcs12Pass: checked('fullPemToPkcs12Pass', 3, (c, k, p) =>
    fullPemToPkcs12(
      text(c, 'fullPemToPkcs12Pass'),
      text(k, 'fullPemToPkcs12Pass'),
      text(p, 'fullPemToPkcs12Pass'),
      'fullPemToPkcs12Pass',
    ),
  ),
  pemTruststoreToPKCS12: checked('pemTruststoreToPKCS12', 1, (c) =>
    pemTruststoreToPkcs12(text(c, 'pemTruststoreToPKCS12'), '', 'pemTruststoreToPKCS12'),
  ),
  pemTruststoreToPKCS12Pass: checked('pemTruststoreToPKCS12Pass', 2, (c, p) =>
    pemTruststoreToPkcs12(
      text(c, 'pemTruststoreToPKCS12Pass'),
      text(p, 'pemTruststoreToPKCS12Pass'),
      'pemTruststoreToPKCS12Pass',
    ),
  ),
  filterCertChain: checked('filterCertChain', 2, (t, input) =>
    filterCertChain(text(t, 'filterCertChain'), text(input, 'filterCertChain')),
  ),
  certSANs: checked('certSANs', 1, (input) => certSANs(text(input, 'certSANs'))),
  rsaDecrypt: checked('rsaDecrypt', 4, (scheme, hash, input, key) =>
    rsaDecrypt(
      text(scheme, 'rsaDecrypt'),
      text(hash, 'rsaDecrypt'),
      bytes(input, 'rsaDecrypt'),
      text(key, 'rsaDecrypt'),
    ),
  ),
  // Sprig's crypto
  genPrivateKey: checked('genPrivateKey', 1, (t) => keyPem(generateKey(text(t, 'genPrivateKey'), 'genPrivateKey'))),
  derivePassword: checked('derivePassword', 5, (counter, type, password, user, site) => {
    const fn = 'derivePassword';
    const n = integer(counter, fn, 'uint32');
    if (n < 0 || n > 0xffffffff) throw wrongType('uint32', counter, fn);
    return derivePassword(n, text(type, fn), bytes(password, fn), bytes(user, fn), bytes(site, fn));
  }),
  buildCustomCert: checked('buildCustomCert', 2, (c, k) =>
    buildCustomCert(text(c, 'buildCustomCert'), text(k, 'buildCustomCert')),
  ),
  genCA: checked('genCA', 2, (cn, days) =>
    selfSigned(baseTemplate(cn, null, null, days, 'genCA', true), rsa2048(), 'genCA'),
  ),
  genCAWithKey: checked('genCAWithKey', 3, (cn, days, key) => {
    const t = baseTemplate(cn, null, null, days, 'genCAWithKey', true);
    return selfSigned(t, withKey(key, 'genCAWithKey'), 'genCAWithKey');
  }),
  genSelfSignedCert: checked('genSelfSignedCert', 4, (cn, ips, dns, days) =>
    selfSigned(baseTemplate(cn, ips, dns, days, 'genSelfSignedCert'), rsa2048(), 'genSelfSignedCert'),
  ),
  genSelfSignedCertWithKey: checked('genSelfSignedCertWithKey', 5, (cn, ips, dns, days, key) => {
    const t = baseTemplate(cn, ips, dns, days, 'genSelfSignedCertWithKey');
    return selfSigned(t, withKey(key, 'genSelfSignedCertWithKey'), 'genSelfSignedCertWithKey');
  }),
  genSignedCert: checked('genSignedCert', 5, (cn, ips, dns, days, ca) =>
    signed(baseTemplate(cn, ips, dns, days, 'genSignedCert'), rsa2048(), ca, 'genSignedCert'),
  ),
  genSignedCertWithKey: checked('genSignedCertWithKey', 6, (cn, ips, dns, days, ca, key) => {
    const t = baseTemplate(cn, ips, dns, days, 'genSignedCertWithKey');
    return signed(t, withKey(key, 'genSignedCertWithKey'), ca, 'genSignedCertWithKey');
  }),
  encryptAES: checked('encryptAES', 2, (p, plain) => encryptAES(bytes(p, 'encryptAES'), bytes(plain, 'encryptAES'))),
  decryptAES: checked('decryptAES', 2, (p, c) => decryptAES(bytes(p, 'decryptAES'), text(c, 'decryptAES'))),
  randBytes: checked('randBytes', 1, (n) => randBytes(integer(n, 'randBytes'))),
  uuidv4: checked('uuidv4', 0, () => randomUUID()),
  adler32sum: checked('adler32sum', 1, (v) => String(adler32(bytes(v, 'adler32sum')))),
};
