// Turns fetched remote values into the target's data: `property` selection, decoding, dataFrom
// expansion, key validation and the size limit. Errors name the key, never the value.
import {
  type ExternalSecretSpec,
  isSecretKey,
  type RemoteRef as SpecRemoteRef,
} from '../api/v1alpha1/external-secret.ts';
import type { FetchedValue, RemoteRef } from '../providers/provider.ts';
import { type SecretData, SecretValue } from '../values.ts';
import { RenderError } from './render-error.ts';
import { rewriteKeys } from './rewrite.ts';
import { itemSlot } from './stores.ts';

/** A Secret holds at most 1 MiB; Ferry keeps data under that with room for metadata. */
export const MAX_SECRET_DATA_BYTES = 1024 * 1024 - 16 * 1024;

export { RenderError };

/**
 * Identifies one remote read: the same (store slot, key, version) is read once however many
 * properties use it. `slot` is '' for spec.secretStoreRef, else an item's own store (itemSlot).
 */
export function readId(ref: RemoteRef, slot = ''): string {
  const id = `${ref.key}\u0000${ref.version ?? ''}${ref.metadataPolicy === 'Fetch' ? '\u0000metadata' : ''}`;
  return slot ? `${slot}\u0001${id}` : id;
}

function parseJson(value: SecretValue, what: string): unknown {
  try {
    return JSON.parse(value.revealText());
  } catch {
    throw new RenderError(`${what}: the remote value is not valid JSON, so its properties cannot be read`);
  }
}

/** A key of the JSON object, or a dotted path into nested objects (a literal key wins). */
function lookup(doc: unknown, property: string): unknown {
  if (doc !== null && typeof doc === 'object' && property in doc) return (doc as Record<string, unknown>)[property];
  let node: unknown = doc;
  for (const part of property.split('.')) {
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function leafValue(node: unknown, what: string): SecretValue {
  if (typeof node === 'string') return SecretValue.fromString(node);
  try {
    return SecretValue.fromString(JSON.stringify(node));
  } catch {
    // JSON.parse takes nesting that JSON.stringify overflows the stack on (found by fuzzing).
    throw new RenderError(`${what}: the selected JSON is nested too deeply to write back as text`);
  }
}

export function selectProperty(value: SecretValue, property: string | undefined, what: string): SecretValue {
  if (!property) return value;
  const node = lookup(parseJson(value, what), property);
  if (node === undefined) throw new RenderError(`${what}: property "${property}" is not in the remote value`);
  return leafValue(node, what);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function strictBase64(text: string, url: boolean): Buffer | undefined {
  const clean = text.trim();
  if (clean.length % 4 === 1 || !(url ? BASE64URL : BASE64).test(clean)) return undefined;
  return Buffer.from(clean, url ? 'base64url' : 'base64');
}

export function decode(value: SecretValue, strategy: SpecRemoteRef['decodingStrategy'], what: string): SecretValue {
  if (!strategy || strategy === 'None') return value;
  const text = value.revealText();
  if (strategy === 'Auto') {
    const bytes = strictBase64(text, false) ?? strictBase64(text, true);
    return bytes && text.trim().length > 0 ? SecretValue.fromBytes(bytes) : value;
  }
  const bytes = strictBase64(text, strategy === 'Base64URL');
  if (!bytes) throw new RenderError(`${what}: decodingStrategy ${strategy} failed, the value is not valid ${strategy}`);
  return SecretValue.fromBytes(bytes);
}

/** Every (key, version) the spec reads from the store in `slot` (see itemSlot), once each. */
export function remoteReads(spec: ExternalSecretSpec, slot = ''): RemoteRef[] {
  const refs = [
    ...(spec.data ?? []).filter((d) => itemSlot(spec, d) === slot).map((d) => d.remoteRef),
    ...(spec.dataFrom ?? []).filter((d) => itemSlot(spec, d) === slot).flatMap((d) => (d.extract ? [d.extract] : [])),
  ];
  const unique = new Map(
    refs.map((r): [string, RemoteRef] => [
      readId(r),
      r.metadataPolicy === 'Fetch'
        ? { key: r.key, version: r.version, metadataPolicy: 'Fetch' }
        : { key: r.key, version: r.version },
    ]),
  );
  return [...unique.values()];
}

/**
 * ESO's key conversion for find and extract without rewrite: characters a Secret key cannot hold
 * become `_` (Default) or `_U<hex code point>_` (Unicode, e.g. `/` → `_U002f_`). ESO keeps
 * non-ASCII letters and digits and then fails on the invalid key; Ferry converts them too.
 */
function convertKeys(
  names: string[],
  where: string,
  strategy?: 'Default' | 'Unicode',
  what = 'secrets',
): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of names) {
    const key =
      strategy === 'Unicode'
        ? name.replace(/[^-._a-zA-Z0-9]/gu, (c) => `_U${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}_`)
        : name.replace(/[^-._a-zA-Z0-9]/gu, '_');
    const earlier = out.get(key);
    if (earlier !== undefined)
      throw new RenderError(`${where}: ${what} "${earlier}" and "${name}" both become key "${key}"`);
    out.set(key, name);
  }
  return out;
}

function checkKey(key: string, what: string): void {
  if (!isSecretKey(key)) {
    throw new RenderError(
      `${what}: key "${key}" is not a valid Secret key (letters, digits, -, _ and . only, not "." and not starting "..")`,
    );
  }
}

export function renderSecretData(
  spec: ExternalSecretSpec,
  fetched: Map<string, FetchedValue>,
  found: Map<number, string[]> = new Map(),
): SecretData {
  const out: SecretData = new Map();
  const remoteValue = (ref: RemoteRef, slot: string) => {
    const f = fetched.get(readId(ref, slot));
    if (!f) throw new RenderError(`remote key "${ref.key}" was not fetched`);
    return f.value;
  };
  for (const [i, from] of (spec.dataFrom ?? []).entries()) {
    const slot = itemSlot(spec, from);
    if (from.find) {
      const what = `dataFrom[${i}].find`;
      const names = found.get(i);
      if (!names) throw new RenderError(`${what}: the listing was not made`);
      // As ESO: names are rewritten as they are, and converted only when there is no rewrite (a
      // rewrite that leaves a character a key cannot hold is an error, not converted).
      const rewrite = from.rewrite ?? [];
      const byKey =
        rewrite.length > 0
          ? rewriteKeys(new Map(names.map((n) => [n, n])), rewrite, `dataFrom[${i}]`)
          : convertKeys(names, what, from.find.conversionStrategy);
      for (const [key, name] of byKey) {
        checkKey(key, what);
        out.set(key, decode(remoteValue({ key: name }, slot), from.find.decodingStrategy, `${what} secret "${name}"`));
      }
      continue;
    }
    if (!from.extract) continue;
    const ref = from.extract;
    const what = `dataFrom[${i}].extract (remote key "${ref.key}")`;
    const doc = parseJson(selectProperty(remoteValue(ref, slot), ref.property, what), what);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new RenderError(`${what}: the remote value must be a JSON object to expand into keys`);
    }
    // As ESO: keys are rewritten as they are, and converted only when there is no rewrite.
    const entries = new Map(Object.entries(doc));
    const keys =
      (from.rewrite ?? []).length > 0
        ? rewriteKeys(entries, from.rewrite ?? [], `dataFrom[${i}]`)
        : new Map(
            [...convertKeys([...entries.keys()], what, ref.conversionStrategy, 'keys')].map(([key, name]) => [
              key,
              entries.get(name),
            ]),
          );
    for (const [key, node] of keys) {
      checkKey(key, what);
      out.set(key, decode(leafValue(node, `${what} key "${key}"`), ref.decodingStrategy, `${what} key "${key}"`));
    }
  }
  for (const item of spec.data ?? []) {
    const what = `data secretKey "${item.secretKey}" (remote key "${item.remoteRef.key}")`;
    const selected = selectProperty(remoteValue(item.remoteRef, itemSlot(spec, item)), item.remoteRef.property, what);
    out.set(item.secretKey, decode(selected, item.remoteRef.decodingStrategy, what));
  }
  let size = 0;
  for (const [key, value] of out) size += key.length + value.byteLength;
  if (size > MAX_SECRET_DATA_BYTES) {
    throw new RenderError(
      `the rendered data is ${size} bytes, over the ${MAX_SECRET_DATA_BYTES}-byte limit of a Secret`,
    );
  }
  return out;
}
