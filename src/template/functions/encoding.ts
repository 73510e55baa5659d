// Encodings: base64 and base32 (Go's StdEncoding), JSON (Sprig's toJson family, Go's
// json.Marshal output) and YAML (ESO's toYaml/fromYaml). Where Sprig would write an error text
// into the output (b64dec, fromJson, fromYaml on bad input), these fail the render instead, so a
// Secret is never written wrong.
import type * as Yaml from 'yaml';
import { lazyRequire } from '../../lazy-require.ts';
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { fromBytes, GoBytes, GoNumber, isMap, NIL_SLICES, toBytes } from '../values.ts';
import { alias, goBytes, strval, withArity } from './arguments.ts';

const yaml = lazyRequire<typeof Yaml>('yaml');

function jsonValue(v: unknown): unknown {
  if (v instanceof GoBytes) return v.bytes.toString('utf8');
  if (v instanceof GoNumber) return v.value;
  if (Array.isArray(v)) return NIL_SLICES.has(v) ? null : v.map(jsonValue);
  if (isMap(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, jsonValue(v[k])]),
    );
  }
  return v === undefined ? null : v;
}

/** Go's json.Marshal escapes <, > and & for HTML safety; Sprig's toJson keeps that. */
function htmlEscape(json: string): string {
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Go's base64.StdEncoding.DecodeString: padded to a multiple of 4; line breaks are skipped. */
function b64dec(v: unknown): string | GoBytes {
  const text = strval(v).replace(/[\r\n]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new FunctionError('illegal base64 data');
  return fromBytes(Buffer.from(text, 'base64'));
}

/**
 * The yaml package parses flow collections (`[`, `{`) recursively; near its stack's end, a few
 * hundred to a thousand levels deep, it sometimes throws and sometimes returns a structure with
 * levels missing, which would be written as if it were the value. Deeper input is refused first.
 */
const MAX_FLOW_DEPTH = 500;

/** Deepest nesting of YAML flow collections outside quoted scalars and comments. */
function flowDepth(text: string): number {
  // A quote opens a quoted scalar only where a token starts; `#` opens a comment after a space.
  const space = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';
  const tokenStart = (c: string | undefined) => space(c) || c === '[' || c === '{' || c === ',' || c === ':';
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const prev = text[i - 1];
    if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if ((c === ']' || c === '}') && depth > 0) depth--;
    else if (c === '"' && tokenStart(prev)) {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === "'" && tokenStart(prev)) {
      for (i++; i < text.length && !(text[i] === "'" && text[i + 1] !== "'"); i++) if (text[i] === "'") i++;
    } else if (c === '#' && space(prev)) {
      while (i < text.length && text[i] !== '\n') i++;
    }
  }
  return max;
}

/** A parsed value as Go's json.Unmarshal into interface{} makes it: every number a float64. */
function fromParsed(v: unknown): unknown {
  if (typeof v === 'number') return new GoNumber(v, 'float64');
  if (Array.isArray(v)) return v.map(fromParsed);
  if (v instanceof Date) return v.toISOString().replace(/\.000Z$/, 'Z');
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromParsed(x);
    return out;
  }
  return v;
}

function parseData(text: string, kind: 'JSON' | 'YAML'): unknown {
  if (kind === 'YAML' && flowDepth(text) > MAX_FLOW_DEPTH) {
    throw new FunctionError(`the value nests YAML [ ] or { } more than ${MAX_FLOW_DEPTH} deep`);
  }
  let parsed: unknown;
  try {
    // sigs.k8s.io/yaml reads YAML 1.1, as go-yaml v2: yes, no, on, off, y and n are booleans.
    parsed =
      kind === 'JSON'
        ? JSON.parse(text)
        : yaml().parse(text, { schema: 'yaml-1.1', uniqueKeys: false, logLevel: 'silent' });
  } catch {
    // The parser's message quotes the input; say only what failed.
    throw new FunctionError(`the value is not valid ${kind}`);
  }
  if (kind === 'JSON') return fromParsed(parsed);
  // ESO's fromYaml reads into a map: an empty document is an empty map; a list or a scalar would be
  // an "Error" entry written into the Secret, so it fails here.
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed) || parsed instanceof Date) {
    throw new FunctionError('the value is not a YAML map');
  }
  return fromParsed(parsed);
}
/**
 * ESO's toYaml (sigs.k8s.io/yaml, go-yaml v2's emitter): a string that YAML 1.1 would read as
 * another type ("42", "true", "y", "") double-quoted, one that cannot be plain single-quoted.
 */
function toYaml(v: unknown): string {
  const Y = yaml();
  const doc = new Y.Document(jsonValue(v), { sortMapEntries: true });
  Y.visit(doc, {
    Scalar(_, node) {
      if (typeof node.value !== 'string' || node.value.includes('\n')) return;
      if (readsAsOther(node.value) || /[\p{Cc}]/u.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ singleQuote: true, indentSeq: false }).replace(/\n$/, '');
}

const YAML11_WORDS = new Set(
  '~ null Null NULL y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF <<'.split(' '),
);

/** go-yaml v2's resolve: whether a plain scalar would read as null, a bool, a number or a timestamp. */
function readsAsOther(s: string): boolean {
  if (s === '' || YAML11_WORDS.has(s) || /^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/.test(s)) return true;
  if (/^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s)) return true; // base 60
  if (!/^[-+.0-9]/.test(s)) return false;
  if (
    /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]*)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$/.test(
      s,
    )
  )
    return true;
  const plain = s.replace(/_/g, '');
  return (
    /^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|0|[1-9][0-9]*)$/.test(plain) ||
    /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)
  );
}

// Base32, RFC 4648 padded, as Go's base32.StdEncoding.
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// Five bits at a time through a small accumulator: a BigInt per five bytes made 4 MiB take a second.
function b32enc(b: Buffer): string {
  const out = Buffer.alloc(Math.ceil(b.length / 5) * 8, '=');
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = ((acc << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[o++] = B32.charCodeAt((acc >> bits) & 31);
    }
  }
  if (bits > 0) out[o] = B32.charCodeAt((acc << (5 - bits)) & 31);
  return out.toString('latin1');
}

function b32dec(text: string): string | GoBytes {
  const s = text.replace(/[\r\n]/g, '');
  const bad = () => new FunctionError('b32dec: illegal base32 data');
  if (s.length % 8 !== 0) throw bad();
  const out = Buffer.alloc((s.length / 8) * 5);
  let o = 0;
  for (let i = 0; i < s.length; i += 8) {
    const block = s.slice(i, i + 8);
    const m = /^([A-Z2-7]*)(=*)$/.exec(block);
    const data = m?.[1] ?? '';
    if (!m || (m[2] !== '' && i + 8 !== s.length) || ![8, 7, 5, 4, 2].includes(data.length)) throw bad();
    // 2, 4, 5, 7 or 8 characters carry 1, 2, 3, 4 or 5 whole bytes; the bits left over are padding.
    let acc = 0;
    let bits = 0;
    for (let k = 0; k < data.length; k++) {
      acc = ((acc << 5) | B32.indexOf(data[k] as string)) & 0xfff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[o++] = (acc >> bits) & 0xff;
      }
    }
  }
  return fromBytes(out.subarray(0, o));
}

const table: Record<string, TemplateFunction> = withArity(
  {
    b64enc: (v) => toBytes(v).toString('base64'),
    b64dec: (v) => b64dec(v),
    b32enc: (v) => b32enc(goBytes(v)),
    b32dec: (v) => b32dec(strval(v)),
    toJson: (v) => htmlEscape(JSON.stringify(jsonValue(v))),
    toRawJson: (v) => JSON.stringify(jsonValue(v)),
    toPrettyJson: (v) => htmlEscape(JSON.stringify(jsonValue(v), null, 2)),
    fromJson: (v) => parseData(strval(v), 'JSON'),
    mustFromJson: (v) => parseData(strval(v), 'JSON'),
    toYaml: (v) => toYaml(v),
    fromYaml: (v) => parseData(strval(v), 'YAML'),
  },
  {
    b64enc: 1,
    b64dec: 1,
    b32enc: 1,
    b32dec: 1,
    toJson: 1,
    toRawJson: 1,
    toPrettyJson: 1,
    fromJson: 1,
    toYaml: 1,
    fromYaml: 1,
  },
);

export const encodingFunctions: Record<string, TemplateFunction> = {
  ...table,
  ...Object.fromEntries([
    alias('mustToJson', table.toJson, 1),
    alias('mustToPrettyJson', table.toPrettyJson, 1),
    alias('mustToRawJson', table.toRawJson, 1),
  ]),
};
