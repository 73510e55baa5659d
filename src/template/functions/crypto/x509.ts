// Certificates as Go's crypto/x509 reads them, as far as ESO's functions need: parsing, subject
// alternative names (certSANs), chains ordered by key identifiers (filterCertChain), and
// pkix.Name.String (a trust store's friendly names).
import { X509Certificate } from 'node:crypto';
import { FunctionError, type TemplateFunction } from '../../execute.ts';
import { checked, stringParam } from '../arguments.ts';
import { children, type Der, DerError, goString, oidString, readDer } from './der.ts';
import { OID } from './oids.ts';
import { pemBlocks, pemDecode, pemEncode } from './pem.ts';

export interface CertInfo {
  raw: Buffer;
  subjectRaw: Buffer;
  /** Go's nil is undefined; bytes.Equal treats nil and empty alike, so compare with keyIdEqual. */
  subjectKeyId: Buffer | undefined;
  authorityKeyId: Buffer | undefined;
  spki: Buffer;
  /** Subject alternative names in Go's order: DNS names, IP addresses, email addresses, URIs. */
  sans: string[];
}

export function keyIdEqual(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return (a ?? Buffer.alloc(0)).equals(b ?? Buffer.alloc(0));
}

/** Go's x509.ParseCertificate, as far as these functions need it. */
export function parseCert(der: Buffer, fn: string): CertInfo {
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
export function firstCert(input: string, fn: string, what = 'certificate'): CertInfo {
  const { block } = pemDecode(input);
  if (!block) throw new FunctionError(`${fn}: no PEM data found in the ${what}`);
  return parseCert(block.bytes, fn);
}

/** ESO's parseCaCerts: every PEM block is a certificate (trailing whitespace tolerated). */
export function allCerts(input: string, fn: string, what: string): CertInfo[] {
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
export function orderChain(certs: CertInfo[], fn: string): CertInfo[] {
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

// Go's pkix.Name.String (the trust store's friendly names).

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

export function nameString(subjectRaw: Buffer): string {
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

export const x509Functions: Record<string, TemplateFunction> = {
  filterCertChain: checked('filterCertChain', 2, (t, input) =>
    filterCertChain(stringParam(t, 'filterCertChain'), stringParam(input, 'filterCertChain')),
  ),
  certSANs: checked('certSANs', 1, (input) => certSANs(stringParam(input, 'certSANs'))),
};
