// Converts ESO manifests (external-secrets.io/v1 and v1beta1) into Ferry manifests and names every
// field Ferry does not support. What "supported" means is read from Ferry's own CRD schemas
// (src/api/v1alpha1), never from a hand-kept list, so a field Ferry's CRDs gain is supported here
// the moment `npm run crds` would publish it.
//
// v1beta1 → v1: ESO serves both versions from one schema with no conversion webhook (its CRDs
// have no spec.conversion, i.e. strategy None, and every v1beta1 field path exists unchanged in
// v1), so the only difference is the apiVersion. v1alpha1 (ESO before 0.5) had another dataFrom
// shape and is reported as unsupported rather than guessed at.
import type { JSONSchemaProps } from '../api/schema.ts';
import { API_VERSION } from '../api/v1alpha1/common.ts';
import { customResourceDefinitions } from '../api/v1alpha1/crds.ts';

export const ESO_GROUP = 'external-secrets.io';
const CONVERTIBLE_VERSIONS = new Set(['v1', 'v1beta1']);

export interface Unsupported {
  /** Dotted path of the field, e.g. `spec.provider.aws.service`; list items as `[2]`. */
  path: string;
  /** Why: `unknown field`, `value "X" is not one of …`, or a whole kind or version. */
  reason: string;
  /** The value Ferry does not accept, when the field exists but this value of it does not. */
  value?: string;
}

export type Converted =
  /** Not an ESO object (or not an object at all): passed through untouched. */
  | { kind: 'other' }
  /** An ESO object Ferry has a kind for; `unsupported` lists what Ferry's CRD does not accept. */
  | { kind: 'converted'; object: Record<string, unknown>; unsupported: Unsupported[] }
  /** An ESO object Ferry has no kind (or version) for; left as it was. */
  | { kind: 'unconvertible'; unsupported: Unsupported[] };

interface FerryKind {
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  schema: JSONSchemaProps;
}

let kinds: Map<string, FerryKind> | undefined;

/** Ferry's kinds with their plural, scope and schema, from the CRDs Ferry publishes. */
export function ferryKinds(): Map<string, FerryKind> {
  if (!kinds) {
    kinds = new Map();
    for (const crd of customResourceDefinitions()) {
      const version = crd.spec.versions[0];
      if (!version) continue;
      kinds.set(crd.spec.names.kind, {
        plural: crd.spec.names.plural,
        scope: crd.spec.scope,
        schema: version.schema.openAPIV3Schema as JSONSchemaProps,
      });
    }
  }
  return kinds;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function isEsoObject(doc: unknown): doc is Record<string, unknown> & { apiVersion: string; kind: string } {
  return (
    isObject(doc) &&
    typeof doc.apiVersion === 'string' &&
    doc.apiVersion.startsWith(`${ESO_GROUP}/`) &&
    typeof doc.kind === 'string'
  );
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Every field (and enum value) of `value` that `schema` does not admit, as paths under `path`. */
/**
 * Fields a schema declares only to refuse them by name (a rule `!has(self.field)`), so that a client
 * that drops unknown fields cannot make Ferry read the object differently: unsupported all the same.
 */
function refusedProperties(s: JSONSchemaProps): Map<string, string> {
  const out = new Map<string, string>();
  const rules = (s as { 'x-kubernetes-validations'?: { rule: string; message?: string }[] })[
    'x-kubernetes-validations'
  ];
  for (const r of rules ?? []) {
    const field = /^!has\(self\.(\w+)\)$/.exec(r.rule.trim())?.[1];
    if (field) out.set(field, r.message ?? 'refused by Ferry');
  }
  return out;
}

/** Every field of `value` that `schema` does not admit (unknown, refused by a rule, or an unknown enum value). */
export function unsupportedFields(value: unknown, schema: JSONSchemaProps, path: string): Unsupported[] {
  const out: Unsupported[] = [];
  walkSchema(value, schema, path, out);
  return out;
}

function walkSchema(v: unknown, s: JSONSchemaProps, p: string, out: Unsupported[]): void {
  if ((s as { 'x-kubernetes-preserve-unknown-fields'?: boolean })['x-kubernetes-preserve-unknown-fields']) return;
  if (s.enum && typeof v === 'string' && !s.enum.includes(v)) {
    out.push({ path: p, value: v, reason: `value "${v}" is not supported (Ferry accepts ${s.enum.join(', ')})` });
    return;
  }
  if (Array.isArray(v)) {
    const items = s.items;
    if (items) for (const [i, item] of v.entries()) walkSchema(item, items, `${p}[${i}]`, out);
    return;
  }
  if (!isObject(v)) return;
  if (s.properties) walkProperties(v, s, p, out);
  else if (s.additionalProperties) {
    for (const [key, child] of Object.entries(v)) walkSchema(child, s.additionalProperties, join(p, key), out);
  }
}

function walkProperties(v: Record<string, unknown>, s: JSONSchemaProps, p: string, out: Unsupported[]): void {
  const refused = refusedProperties(s);
  for (const [key, child] of Object.entries(v)) {
    const childSchema = s.properties?.[key] ?? s.additionalProperties;
    const refusal = refused.get(key);
    if (refusal) out.push({ path: join(p, key), reason: refusal });
    else if (childSchema) walkSchema(child, childSchema, join(p, key), out);
    else out.push({ path: join(p, key), reason: 'unknown field' });
  }
}

/** The Ferry form of one parsed YAML document. The input is not modified. */
export function convertDocument(doc: unknown): Converted {
  if (!isEsoObject(doc)) return { kind: 'other' };
  const version = doc.apiVersion.slice(ESO_GROUP.length + 1);
  if (!CONVERTIBLE_VERSIONS.has(version)) {
    return {
      kind: 'unconvertible',
      unsupported: [
        {
          path: 'apiVersion',
          reason: `${doc.apiVersion} is not converted (only external-secrets.io/v1 and v1beta1); convert it to v1 with ESO first`,
        },
      ],
    };
  }
  const ferry = ferryKinds().get(doc.kind);
  if (!ferry) {
    return {
      kind: 'unconvertible',
      unsupported: [{ path: 'kind', reason: `Ferry has no kind ${doc.kind}; the document is left as it was` }],
    };
  }
  const { status: _status, ...rest } = doc;
  const object: Record<string, unknown> = { ...rest, apiVersion: API_VERSION };
  const unsupported = unsupportedFields(object, ferry.schema, '').filter(
    // metadata is a plain object in a CRD schema: the API server checks it, not Ferry.
    (u) => !u.path.startsWith('metadata.'),
  );
  return { kind: 'converted', object, unsupported };
}
