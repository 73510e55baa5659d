// A minimal DER writer and reader for the certificate, key and PKCS#12 functions. Written here
// rather than taken from node-forge because forge's X.509 and PKCS#12 writers handle RSA keys
// only and cannot produce Go's modern PKCS#12 (PBES2/AES-256, HMAC-SHA-256); node:crypto does
// the cryptography, this file only lays out the bytes.

/** A DER value: tag, the slice of its contents, and the whole encoding. */
export interface Der {
  tag: number;
  body: Buffer;
  raw: Buffer;
}

export class DerError extends Error {
  override name = 'DerError';
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);
/** A DER SET OF: elements sorted by their encodings (X.690 11.6), as Go's encoding/asn1 writes it. */
export const setOf = (...parts: Buffer[]): Buffer => tlv(0x31, ...[...parts].sort(Buffer.compare));
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
export const NULL = Buffer.from([0x05, 0x00]);
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
/** Context-specific tag n: [n] constructed (EXPLICIT or a constructed IMPLICIT) or primitive. */
export const ctx = (n: number, constructed: boolean, ...parts: Buffer[]): Buffer =>
  tlv((constructed ? 0xa0 : 0x80) | n, ...parts);
export const bitString = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), b);

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [a = 0n, b = 0n, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a * 40n + b, ...rest]) {
    const group: number[] = [];
    let v = arc;
    do {
      group.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < group.length - 1; i++) group[i] = (group[i] as number) | 0x80;
    out.push(...group);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A non-negative INTEGER (big-endian magnitude or bigint), minimally encoded. */
export function uint(v: bigint | number | Buffer): Buffer {
  let bytes: Buffer;
  if (Buffer.isBuffer(v)) bytes = v;
  else {
    let hex = BigInt(v).toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    bytes = Buffer.from(hex, 'hex');
  }
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

/** Reads one DER value at `offset`. */
export function readDer(buf: Buffer, offset = 0): Der & { end: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated DER');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('unsupported DER tag');
  let len = buf[offset + 1] as number;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > buf.length) throw new DerError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[offset + 2 + i] as number);
    head += n;
  }
  const end = offset + head + len;
  if (end > buf.length) throw new DerError('truncated DER');
  return { tag, body: buf.subarray(offset + head, end), raw: buf.subarray(offset, end), end };
}

/** The values inside a constructed value's contents. */
export function children(body: Buffer): Der[] {
  const out: Der[] = [];
  for (let at = 0; at < body.length; ) {
    const d = readDer(body, at);
    out.push(d);
    at = d.end;
  }
  return out;
}

export function oidString(d: Der): string {
  if (d.tag !== 0x06) throw new DerError('expected an OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let v = 0n;
  for (const byte of d.body) {
    v = (v << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(v);
      v = 0n;
    }
  }
  const [first = 0n, ...rest] = arcs;
  const a = first < 80n ? first / 40n : 2n;
  return [a, first - a * 40n, ...rest].join('.');
}

/** asn1.Marshal of a Go string: PrintableString when it can be one, else UTF8String. */
export function goString(s: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s) ? tlv(0x13, Buffer.from(s)) : tlv(0x0c, Buffer.from(s, 'utf8'));
}
