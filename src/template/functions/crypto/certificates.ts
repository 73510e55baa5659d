// Sprig's certificate functions: genCA, genSelfSignedCert, genSignedCert (and their WithKey
// forms) as Go's x509.CreateCertificate writes them from Sprig's template, and buildCustomCert.
// A certificate is a value with `.Cert` and `.Key`, PEM text.
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { FunctionError, type TemplateFunction } from '../../execute.ts';
import { GoValue } from '../../values.ts';
import { checked, intParam, stringList, stringParam, wrongType } from '../arguments.ts';
import { bitString, bool, children, ctx, goString, NULL, octets, oid, readDer, seq, setOf, tlv, uint } from './der.ts';
import { keyPem, sprigPrivateKey } from './keys.ts';
import { OID } from './oids.ts';
import { pemDecode, pemEncode } from './pem.ts';
import { type CertInfo, parseCert } from './x509.ts';

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
  const addresses = stringList(ips, fn, 'ip').map((ip) => {
    const b = parseIp(ip);
    if (!b) throw new FunctionError(`${fn}: error parsing ip: not an IP address`);
    return b;
  });
  return {
    cn: stringParam(cn, fn),
    ips: addresses,
    dns: stringList(dns, fn, 'alternate dns name'),
    days: intParam(days, fn),
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
    return sprigPrivateKey(stringParam(pemText, fn), fn);
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

export const certificateFunctions: Record<string, TemplateFunction> = {
  buildCustomCert: checked('buildCustomCert', 2, (c, k) =>
    buildCustomCert(stringParam(c, 'buildCustomCert'), stringParam(k, 'buildCustomCert')),
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
};
