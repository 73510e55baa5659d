// Reads the output of a KeysAndValues template: a YAML map whose scalar values become strings
// (ESO unmarshals it into map[string]string). The parser's own messages quote the input, so
// failures return undefined and the caller reports them without it.
import type * as Yaml from 'yaml';
import { lazyRequire } from '../lazy-require.ts';

const yaml = lazyRequire<typeof Yaml>('yaml');

export function parseYamlMap(text: string): Map<string, string> | undefined {
  let doc: unknown;
  try {
    doc = yaml().parse(text, { schema: 'core', uniqueKeys: false, logLevel: 'silent' });
  } catch {
    return undefined;
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') return undefined;
    out.set(k, v === null || v === undefined ? '' : String(v));
  }
  return out;
}
