// Go's encoding/pem (Decode, Encode) and ESO's filterPEM over it.
import { FunctionError, type TemplateFunction } from '../../execute.ts';
import { strval, withArity } from '../arguments.ts';
import { DerError } from './der.ts';

export interface PemBlock {
  type: string;
  /** "Key: value" lines before the base64 (legacy encrypted keys carry Proc-Type and DEK-Info). */
  headers: Map<string, string>;
  bytes: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Go's pem.Decode: the first well-formed block whose BEGIN line starts the input or a line, and
 * the text after its END line. Malformed candidates are skipped, as Go does. Headers
 * ("Proc-Type: …") are read past and not returned (no function here uses them).
 */
export function pemDecode(text: string): { block: PemBlock | undefined; rest: string } {
  let from = 0;
  for (;;) {
    let start = text.startsWith('-----BEGIN ', from) ? from : text.indexOf('\n-----BEGIN ', from);
    if (start < 0) return { block: undefined, rest: text };
    if (text[start] === '\n') start++;
    const typeEnd = text.indexOf('-----', start + 11);
    const lineEnd = text.indexOf('\n', start);
    from = start + 1;
    if (typeEnd < 0 || (lineEnd >= 0 && typeEnd > lineEnd)) continue;
    const type = text.slice(start + 11, typeEnd);
    const afterType = text.slice(typeEnd + 5, lineEnd < 0 ? text.length : lineEnd);
    if (afterType.trim() !== '' || lineEnd < 0) continue;
    const endMarker = `-----END ${type}-----`;
    const endAt = text.indexOf(`\n${endMarker}`, lineEnd);
    const endAtStart = text.startsWith(endMarker, lineEnd + 1) ? lineEnd : endAt;
    if (endAtStart < 0) continue;
    const lines = text.slice(lineEnd + 1, endAtStart).split('\n');
    const headers = new Map<string, string>();
    let first = 0;
    for (; first < lines.length; first++) {
      const line = lines[first] as string;
      const colon = line.indexOf(':');
      if (colon < 0) break;
      headers.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const b64 = lines
      .slice(first)
      .join('')
      .replace(/[ \t\r\n]/g, '');
    if (!BASE64.test(b64) || b64.length % 4 !== 0) continue;
    let restStart = endAtStart + 1 + endMarker.length;
    const eol = text.indexOf('\n', restStart);
    const trailer = text.slice(restStart, eol < 0 ? text.length : eol);
    if (trailer.trim() !== '') continue;
    restStart = eol < 0 ? text.length : eol + 1;
    return { block: { type, headers, bytes: Buffer.from(b64, 'base64') }, rest: text.slice(restStart) };
  }
}

/** Every block pem.Decode finds, in order (Go's `for { block, rest = pem.Decode(rest) }`). */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  let rest = text;
  for (;;) {
    const { block, rest: next } = pemDecode(rest);
    if (!block) return out;
    out.push(block);
    rest = next;
  }
}

/** Go's pem.Encode: headers (Proc-Type first, the rest sorted), a blank line, 64-character lines. */
export function pemEncode(type: string, der: Buffer, headers?: Map<string, string>): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  let head = '';
  if (headers && headers.size > 0) {
    const keys = [...headers.keys()].filter((k) => k !== 'Proc-Type').sort();
    if (headers.has('Proc-Type')) keys.unshift('Proc-Type');
    head = `${keys.map((k) => `${k}: ${headers.get(k)}\n`).join('')}\n`;
  }
  return `-----BEGIN ${type}-----\n${head}${b64}${b64.endsWith('\n') || b64 === '' ? '' : '\n'}-----END ${type}-----\n`;
}

/** ESO's filterPEM: the blocks of one type (case-insensitive), re-encoded; junk and nothing else is an error. */
export function filterPem(pemType: string, input: string): string {
  // ESO cuts everything before the first "-----BEGIN" (pem.Decode did until Go issue 76124).
  const begin = input.indexOf('-----BEGIN');
  let data = begin < 0 ? input : input.slice(begin);
  let out = '';
  for (;;) {
    const { block, rest } = pemDecode(data);
    data = rest;
    if (!block) break;
    if (block.type.toLowerCase() === pemType.toLowerCase()) out += pemEncode(block.type, block.bytes, block.headers);
  }
  if (out === '' && data.length !== 0) throw new DerError('error filtering pem: found junk');
  return out;
}

export const pemFunctions: Record<string, TemplateFunction> = withArity(
  {
    filterPEM: (type, v) => {
      try {
        return filterPem(strval(type), strval(v));
      } catch (err) {
        if (err instanceof DerError) throw new FunctionError(err.message);
        throw err;
      }
    },
  },
  { filterPEM: 2 },
);
