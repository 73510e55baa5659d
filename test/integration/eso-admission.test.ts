// Admission of ESO's own API by Ferry's CRDs: every field path of ESO's v1 schemas (walked from the
// CRD bundle of the pinned ESO module) is either accepted by Ferry's CRD on the real API server or
// rejected by it with a message naming the field (strict field validation names unknown fields).
// The same for every enum value ESO allows on a field Ferry has. Prints the unsupported ESO fields.
import { beforeAll, describe, expect, it } from 'vitest';
import type { JSONSchemaProps } from '../../src/api/schema.ts';
import { ferryKinds } from '../../src/migrate/convert.ts';
import { dryRunCreate, esoCrds } from '../support/eso-examples.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';
import { esoModule } from '../testbed/tools.ts';

type Schema = JSONSchemaProps & { 'x-kubernetes-preserve-unknown-fields'?: boolean };
/** One step of a field path: an object key, or `[]` for a list item / `{}` for a map value. */
type Step = string;

/** Every field path of an ESO schema under `spec`, list items as [] and map values as {}. */
function esoPaths(schema: Schema, path: Step[] = []): { path: Step[]; schema: Schema }[] {
  const out: { path: Step[]; schema: Schema }[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const p = [...path, key];
    out.push({ path: p, schema: child as Schema });
    out.push(...esoPaths(child as Schema, p));
  }
  if (schema.items) out.push(...esoPaths(schema.items as Schema, [...path, '[]']));
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.push(...esoPaths(schema.additionalProperties as Schema, [...path, '{}']));
  }
  return out;
}

function child(schema: Schema | undefined, step: Step): Schema | undefined {
  if (!schema) return undefined;
  if (step === '[]') return schema.items as Schema | undefined;
  if (step === '{}') return schema.additionalProperties as Schema | undefined;
  return (schema.properties?.[step] ?? schema.additionalProperties) as Schema | undefined;
}

function lookup(schema: Schema, path: Step[]): Schema | undefined {
  let node: Schema | undefined = schema;
  for (const step of path) node = child(node, step);
  return node;
}

/** Strings tried in order against a field's pattern; the first that matches is used. */
const STRING_CANDIDATES = [
  'example',
  'a',
  '1h',
  'eu-west-1',
  'https://example.com',
  'example.com',
  'v2',
  'a/b',
  '0',
  '1',
  'arn:aws:iam::123456789012:role/example',
  'Example',
];

/** A value the schema admits (Ferry's node when Ferry has the field, else ESO's). */
function sample(schema: Schema | undefined): unknown {
  if (!schema) return 'example';
  if (schema.enum?.length) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const obj: Record<string, unknown> = {};
      for (const r of schema.required ?? []) obj[r] = sample(schema.properties?.[r] as Schema | undefined);
      if (!schema.properties && schema.additionalProperties) obj.a = sample(schema.additionalProperties as Schema);
      return obj;
    }
    case 'array':
      return [sample(schema.items as Schema | undefined)];
    case 'integer':
      return Math.max(schema.minimum ?? 1, Math.min(1, schema.maximum ?? 1));
    case 'boolean':
      return true;
    default: {
      if (schema.format === 'byte') return Buffer.from('example').toString('base64');
      if (schema.format === 'date-time') return '2024-01-01T00:00:00Z';
      const pattern = schema.pattern ? new RegExp(schema.pattern) : undefined;
      return STRING_CANDIDATES.find((c) => !pattern || pattern.test(c)) ?? 'example';
    }
  }
}

/** A fresh Secret key reference each time (structuredClone would keep a shared one shared). */
const ref = () => ({ name: 's', key: 'k' });

/**
 * Test scaffolding: what a valid Ferry object needs around one ESO field. Fresh objects created on
 * the way to a field (Ferry's CEL rules need one of several members), members that exclude each
 * other (entering one removes the others from the base), and the valid base of each provider.
 */
const FRESH: Record<string, unknown> = {
  'spec.provider.vault.auth.appRole': { roleId: 'r', secretRef: ref() },
  'spec.provider.vault.auth.jwt': { role: 'r', secretRef: ref() },
  'spec.provider.vault.auth.kubernetes': { role: 'r', serviceAccountRef: { name: 'sa', audiences: ['vault'] } },
  'spec.provider.vault.auth.userPass': { username: 'u', secretRef: ref() },
  'spec.provider.vault.auth.ldap': { username: 'u', secretRef: ref() },
  'spec.provider.vault.auth.iam': { vaultRole: 'r' },
  'spec.dataFrom[]': { extract: { key: 'r' } },
  'spec.dataFrom[].find': { name: { regexp: 'a' } },
  'spec.dataFrom[].rewrite[]': { regexp: { source: 'a', target: 'b' } },
  'spec.target.template.templateFrom[]': { literal: 'a: b' },
};
const ONE_OF: Record<string, string[]> = {
  'spec.provider': ['aws', 'azurekv', 'fake', 'gcpsm', 'vault'],
  'spec.provider.vault.auth': ['tokenSecretRef', 'appRole', 'kubernetes', 'jwt', 'userPass', 'ldap', 'iam'],
  'spec.provider.vault.auth.iam': ['secretRef', 'jwt'],
  'spec.provider.vault.auth.appRole': ['roleId', 'roleRef'],
  'spec.provider.vault.auth.jwt': ['secretRef', 'kubernetesServiceAccountToken'],
  'spec.provider.vault.auth.kubernetes': ['serviceAccountRef', 'secretRef'],
  'spec.provider.vault': ['caBundle', 'caProvider'],
  'spec.provider.gcpsm.auth': ['secretRef', 'workloadIdentity'],
  'spec.provider.aws.auth': ['secretRef', 'jwt'],
  'spec.provider.azurekv.authSecretRef': ['clientSecret', 'clientCertificate'],
  'spec.dataFrom[]': ['extract', 'find'],
  'spec.dataFrom[].rewrite[]': ['regexp', 'transform'],
  'spec.target.template.templateFrom[]': ['configMap', 'secret', 'literal'],
};
/** Scalar values for fields whose generic sample a CEL rule refuses. */
const SAMPLES: Record<string, unknown> = {
  'spec.provider.aws.secretsManager.recoveryWindowInDays': 7,
};
const PROVIDERS: Record<string, Record<string, unknown>> = {
  aws: { region: 'eu-west-1' },
  azurekv: {
    vaultUrl: 'https://v.vault.azure.net',
    tenantId: 't',
    authSecretRef: { clientId: ref(), clientSecret: ref() },
  },
  fake: { data: [] },
  gcpsm: { projectID: 'p' },
  vault: { server: 'https://vault:8200', auth: { tokenSecretRef: ref() } },
};

/** Azure's authType and environmentType decide which other fields must or must not be there. */
function azureContext(azure: Record<string, unknown>, path: string, value: unknown): void {
  const authType =
    path.startsWith('spec.provider.azurekv.serviceAccountRef') || value === 'WorkloadIdentity'
      ? 'WorkloadIdentity'
      : path.startsWith('spec.provider.azurekv.identityId') || value === 'ManagedIdentity'
        ? 'ManagedIdentity'
        : undefined;
  if (authType) {
    azure.authType = authType;
    delete azure.authSecretRef;
    delete azure.tenantId;
    if (authType === 'WorkloadIdentity') azure.serviceAccountRef = { name: 'sa' };
  }
  if (path.startsWith('spec.provider.azurekv.customCloudConfig') || value === 'AzureStackCloud') {
    azure.environmentType = 'AzureStackCloud';
    azure.customCloudConfig = { activeDirectoryEndpoint: 'https://login.example.com' };
  }
}

/**
 * Rules that tie one field to another, filled in the way a user would so the field under test is
 * judged on its own: a label selector expression has values exactly when its operator takes them,
 * and every AWS transitive tag key is one of the session tags.
 */
function satisfyCrossFieldRules(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) satisfyCrossFieldRules(item);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (Array.isArray(o.matchExpressions)) {
    for (const e of o.matchExpressions as Record<string, unknown>[]) {
      if (e.operator === 'In' || e.operator === 'NotIn') {
        if (!Array.isArray(e.values) || e.values.length === 0) e.values = ['v'];
      } else if (e.operator !== undefined) delete e.values;
      else e.operator = Array.isArray(e.values) && e.values.length > 0 ? 'In' : 'Exists';
    }
  }
  if (Array.isArray(o.transitiveTagKeys)) {
    const tags = Array.isArray(o.sessionTags) ? (o.sessionTags as { key: unknown }[]) : [];
    for (const k of o.transitiveTagKeys) if (!tags.some((t) => t.key === k)) tags.push({ key: k, value: 'v' } as never);
    o.sessionTags = tags;
  }
  for (const v of Object.values(o)) satisfyCrossFieldRules(v);
}

/** The table key of a path: a ClusterExternalSecret's externalSecretSpec is an ExternalSecret's spec. */
function general(path: Step[]): string {
  return display(path).replace(/^spec\.externalSecretSpec(?=\.|$)/, 'spec');
}

/** A new value for the object or list at `path` (FRESH, else Ferry's required fields). */
function fresh(path: Step[], schema: Schema | undefined): unknown {
  const known = FRESH[general(path)];
  if (known) return structuredClone(known);
  if (schema?.type === 'array') {
    const item = FRESH[general([...path, '[]'])];
    return [item ? structuredClone(item) : sample(schema.items as Schema | undefined)];
  }
  return schema?.type === 'object' ? sample(schema) : {};
}

/**
 * Writes `value` at `path`, creating what is missing on the way and one-item lists. With `value`
 * undefined (an object or list field), the field is made present: kept if the base has it, else fresh.
 */
function setPath(root: Record<string, unknown>, path: Step[], value: unknown, ferry: Schema): void {
  let node: Record<string | number, unknown> = root;
  let schema: Schema | undefined = ferry;
  path.forEach((step, i) => {
    const here = general(path.slice(0, i));
    const group = ONE_OF[here];
    if (group?.includes(step)) for (const other of group) if (other !== step) delete node[other];
    const key = step === '[]' ? 0 : step === '{}' ? 'a' : step;
    const nextSchema = child(schema, step);
    const last = i === path.length - 1;
    if (last && value !== undefined) {
      node[key] = value;
      return;
    }
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') {
      node[key] = fresh(
        path.slice(0, i + 1),
        last ? nextSchema : path[i + 1] === '[]' ? { type: 'array' } : nextSchema,
      );
    }
    if (!last && path[i + 1] === '[]' && (node[key] as unknown[]).length === 0) {
      (node[key] as unknown[]).push(fresh(path.slice(0, i + 2), child(nextSchema, '[]')));
    }
    node = node[key] as Record<string | number, unknown>;
    schema = nextSchema;
  });
}

/** A Ferry object of `kind` that the API server accepts, to which one ESO field is added. */
function base(kind: string, path: Step[], value: unknown): Record<string, unknown> {
  if (kind === 'ClusterExternalSecret') {
    const inner = path[1] === 'externalSecretSpec' ? ['spec', ...path.slice(2)] : ['spec'];
    return { externalSecretSpec: base('ExternalSecret', inner, value), namespaces: ['default'] };
  }
  if (kind === 'ExternalSecret') {
    const spec: Record<string, unknown> = { secretStoreRef: { name: 'store' } };
    if (path[1] !== 'data' && path[1] !== 'dataFrom') spec.data = [{ secretKey: 'k', remoteRef: { key: 'r' } }];
    return spec;
  }
  const underProvider = path[1] === 'provider' && path.length >= 3;
  const name = underProvider ? (path[2] && PROVIDERS[path[2]] ? path[2] : undefined) : 'fake';
  const provider: Record<string, unknown> = {};
  if (name) provider[name] = structuredClone(PROVIDERS[name]);
  if (name === 'azurekv') azureContext(provider.azurekv as Record<string, unknown>, display(path), value);
  // Every transitiveTagKeys entry must name one of sessionTags; the sample key is 'example'.
  if (name === 'aws' && display(path).startsWith('spec.provider.aws.transitiveTagKeys')) {
    (provider.aws as Record<string, unknown>).sessionTags = [{ key: 'example', value: 'v' }];
  }
  return { provider };
}

interface Case {
  kind: string;
  path: Step[];
  value?: unknown;
  /** Ferry's schema has the field (and value). */
  known: boolean;
}

function display(path: Step[]): string {
  return path
    .join('.')
    .replace(/\.\[\]/g, '[]')
    .replace(/\.\{\}/g, '{}');
}

/** The path as the API server prints it: list items as [0], map keys as .a */
/** The index of the first step of `path` that Ferry's schema refuses by a `!has(self.step)` rule, or Infinity. */
function refusedStep(schema: Schema, path: Step[]): number {
  for (let i = 0; i < path.length; i++) {
    const parent = i === 0 ? schema : lookup(schema, path.slice(0, i));
    const rules = (parent as { 'x-kubernetes-validations'?: { rule: string }[] } | undefined)?.[
      'x-kubernetes-validations'
    ];
    if (rules?.some((r) => r.rule.trim() === `!has(self.${String(path[i])})`)) return i;
  }
  return Number.POSITIVE_INFINITY;
}

function served(path: Step[]): string {
  return path
    .join('.')
    .replace(/\.\[\]/g, '[0]')
    .replace(/\.\{\}/g, '.a');
}

describe("Ferry's CRDs admit or name every field of ESO's v1 API", () => {
  const results: { c: Case; message?: string }[] = [];
  const cases: Case[] = [];
  const implied: string[] = [];
  const kindsMissing: string[] = [];

  beforeAll(async () => {
    const kc = kubeConfigFor(testbed().kube);
    const namespace = await createNamespace(kc, 'eso-admission');
    for (const crd of esoCrds()) {
      const kind = crd.spec.names.kind;
      const ferry = ferryKinds().get(kind);
      if (!ferry) {
        kindsMissing.push(kind);
        continue;
      }
      const esoSpec = crd.spec.versions.find((v) => v.name === 'v1')?.schema?.openAPIV3Schema?.properties
        ?.spec as Schema;
      const ferrySpec = ferry.schema.properties?.spec as Schema;
      for (const { path, schema } of esoPaths(esoSpec)) {
        const full = ['spec', ...path];
        const node = lookup(ferrySpec, path);
        const refusedAt = refusedStep(ferrySpec, path);
        if ((!lookup(ferrySpec, path.slice(0, -1)) && path.length > 1) || refusedAt < path.length - 1) {
          implied.push(`${kind} ${display(full)}`);
          continue;
        }
        // A field Ferry declares only to refuse it by name (so no client can drop it unseen) is unsupported.
        cases.push({ kind, path: full, known: node !== undefined && refusedAt === Number.POSITIVE_INFINITY });
        if (node && schema.enum) {
          for (const v of schema.enum)
            cases.push({ kind, path: full, value: v, known: node.enum?.includes(v) ?? true });
        }
      }
      for (const c of cases.filter((x) => x.kind === kind)) {
        const node = lookup(ferrySpec, c.path.slice(1));
        const leaf = node ?? lookup(esoSpec, c.path.slice(1));
        const composite = leaf?.type === 'object' || leaf?.type === 'array';
        const value = c.value ?? SAMPLES[general(c.path)] ?? (composite && node ? undefined : sample(leaf));
        const spec = base(kind, c.path, value);
        setPath({ spec } as Record<string, unknown>, c.path, value, { properties: { spec: ferrySpec } } as Schema);
        satisfyCrossFieldRules(spec);
        const body = {
          apiVersion: 'ferry.dev/v1alpha1',
          kind,
          metadata: { name: `field-${cases.indexOf(c)}` },
          spec,
        };
        const where = { group: 'ferry.dev', version: 'v1alpha1', plural: ferry.plural, scope: ferry.scope };
        results.push({ c, message: await dryRunCreate(kc, where, body, namespace) });
      }
    }
  }, 300_000);

  it('accepts each field Ferry has, and rejects each other one naming it', () => {
    const wrong: string[] = [];
    const unsupported: string[] = [];
    const restricted: string[] = [];
    for (const { c, message } of results) {
      const label = `${c.kind} ${display(c.path)}${c.value !== undefined ? `=${String(c.value)}` : ''}`;
      if (c.known) {
        if (message === undefined) continue;
        // A field Ferry has but restricts (e.g. namespace in a SecretStore's references), named as the subject.
        if (
          message.includes(`${served(c.path)}: Forbidden`) ||
          message.includes(`${served(c.path)}: Unsupported value`)
        ) {
          restricted.push(`${label}: ${message.split(`${served(c.path)}: `)[1]?.split(',')[0]}`);
        } else wrong.push(`${label}: Ferry has it but the API server refused: ${message}`);
        continue;
      }
      unsupported.push(label);
      if (message === undefined) wrong.push(`${label}: not in Ferry's schema, yet accepted`);
      else if (!message.includes(served(c.path))) wrong.push(`${label}: refused without naming it: ${message}`);
    }
    const { origin } = esoModule();
    process.stdout.write(`ESO API from ${origin.module}@${origin.version} (module zip ${origin.zipHash})\n`);
    process.stdout.write(
      `ESO v1 fields checked against Ferry's CRDs: ${results.length} dry-runs, ${results.filter((r) => r.c.known && !r.message).length} accepted, ${restricted.length} restricted, ` +
        `${unsupported.length} unsupported fields and values named by the API server, ${implied.length} more below them; ` +
        `kinds Ferry lacks: ${kindsMissing.join(', ') || 'none'}\n`,
    );
    for (const u of unsupported) process.stdout.write(`  unsupported: ${u}\n`);
    for (const r of restricted) process.stdout.write(`  restricted: ${r}\n`);
    expect(wrong).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  });
});
