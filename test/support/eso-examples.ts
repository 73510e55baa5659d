// The ESO-examples measurement, shared by `npm run eso-examples` (bench/eso-examples.ts) and
// test/integration/eso-examples.test.ts: every example of ESO's docs is dry-run created with
// strict field validation, first as ESO (external-secrets.io/v1, against ESO's own CRDs from the
// same module) and then, when ESO accepts it and it is in scope, as `ferry migrate` writes it
// (against Ferry's CRDs). Both groups live side by side on the test bed's API server.
import { readFileSync } from 'node:fs';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { convertDocument, ESO_GROUP, ferryKinds, type Unsupported } from '../../src/migrate/convert.ts';
import { type EsoModule, esoModule } from '../testbed/tools.ts';
import {
  EXAMPLE_KINDS,
  type Example,
  extractExamples,
  FERRY_PROVIDERS,
  providerOf,
  type Unparseable,
} from './eso-docs.ts';
import type { NotSyncedEntry } from './eso-examples-sync.ts';

export const SCOPE_FILE = new URL('../fixtures/eso-examples/scope.yaml', import.meta.url).pathname;

export interface ScopeEntry {
  field?: string;
  value?: string;
  kind?: string;
  message?: string;
  reason: string;
}

export interface Scope {
  outOfScope: ScopeEntry[];
  /** Being built by another helper. */
  pending: ScopeEntry[];
  /** Known gaps and deliberate differences. */
  notSupported: ScopeEntry[];
  /** Accepted ExternalSecret examples that do not sync on the bed, and why (eso-examples-sync.ts). */
  notSynced: NotSyncedEntry[];
}

export function readScope(file = SCOPE_FILE): Scope {
  const scope = parse(readFileSync(file, 'utf8')) as Partial<Scope>;
  const entries = [...(scope.outOfScope ?? []), ...(scope.pending ?? []), ...(scope.notSupported ?? [])];
  for (const e of entries) {
    if (!e.reason || (!e.field && !e.kind && !e.message)) {
      throw new Error(`${file}: every entry needs a reason and a field, kind or message`);
    }
  }
  for (const e of scope.notSynced ?? []) {
    if (!e.reason || (!e.example && !e.message)) {
      throw new Error(`${file}: every notSynced entry needs a reason and an example or message`);
    }
  }
  return {
    outOfScope: scope.outOfScope ?? [],
    pending: scope.pending ?? [],
    notSupported: scope.notSupported ?? [],
    notSynced: scope.notSynced ?? [],
  };
}

/** `spec.data[3].sourceRef` → `spec.data[].sourceRef`. */
export function generalPath(path: string): string {
  return path.replace(/\[\d+\]/g, '[]');
}

function under(path: string, field: string): boolean {
  return path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);
}

/** Every field path (and its value when a scalar) present in an object, list indexes as []. */
export function presentPaths(value: unknown, path = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (v: unknown, p: string) => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item, `${p}[]`);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) walk(child, p ? `${p}.${k}` : k);
    } else if (p) {
      out.set(p, v);
    }
    if (p && !out.has(p)) out.set(p, undefined);
  };
  walk(value, path);
  return out;
}

function entryMatches(e: ScopeEntry, kind: string, path?: string, value?: unknown): boolean {
  if (e.message) return false;
  if (e.kind && e.kind !== kind) return false;
  if (!e.field) return true;
  if (path === undefined || !under(path, e.field)) return false;
  return e.value === undefined || e.value === value;
}

export interface ExampleResult {
  id: string;
  kind: string;
  provider: string;
  esoAccepted: boolean;
  esoMessage?: string;
  /** Why the example is not held against Ferry (ESO rejects it, another provider, an out-of-scope feature). */
  outOfScope?: string;
  ferryAccepted?: boolean;
  ferryMessage?: string;
  unsupported: Unsupported[];
  /** The scope entries explaining a Ferry rejection (pending or notSupported). */
  explainedBy?: ScopeEntry[];
}

export interface Measurement {
  origin: EsoModule['origin'];
  examples: ExampleResult[];
  unparseable: Unparseable[];
}

interface Plural {
  group: string;
  version: string;
  plural: string;
  scope: string;
}

/** ESO's CRDs for the example kinds, from the module's deploy/crds/bundle.yaml. */
export function esoCrds(mod = esoModule()): V1CustomResourceDefinition[] {
  return parseAllDocuments(readFileSync(mod.crdBundle, 'utf8'))
    .map((d) => d.toJS() as V1CustomResourceDefinition)
    .filter((c) => c?.spec?.group === ESO_GROUP && EXAMPLE_KINDS.includes(c.spec.names.kind));
}

/** Installs ESO's CRDs (server-side apply, idempotent) and waits until they are Established. */
export async function installEsoCrds(kc: KubeConfig, crds = esoCrds()): Promise<void> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    await objects.patch(crd, undefined, undefined, 'ferry-eso-examples', true, PatchStrategy.ServerSideApply);
  }
  const deadline = Date.now() + 60_000;
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    for (;;) {
      const current = await api.readCustomResourceDefinition({ name });
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`ESO CRD ${name} was not Established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Creates `body` with dryRun=All and strict field validation; undefined when accepted, else the API server's message. */
export async function dryRunCreate(
  kc: KubeConfig,
  where: Plural,
  body: Record<string, unknown>,
  namespace: string,
): Promise<string | undefined> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const common = { ...where, body, dryRun: 'All', fieldValidation: 'Strict' };
  try {
    if (where.scope === 'Cluster') await api.createClusterCustomObject(common);
    else await api.createNamespacedCustomObject({ ...common, namespace });
    return undefined;
  } catch (err) {
    if (err instanceof ApiException) {
      try {
        return (JSON.parse(err.body as string) as { message: string }).message;
      } catch {
        return `HTTP ${err.code}: ${String(err.body)}`;
      }
    }
    throw err;
  }
}

/** The example placed in `namespace` (namespaced kinds) with a name, as a user would apply it there. */
function placed(doc: Record<string, unknown>, namespaced: boolean, namespace: string): Record<string, unknown> {
  const metadata = { ...((doc.metadata as Record<string, unknown> | undefined) ?? {}) };
  if (namespaced) metadata.namespace = namespace;
  else delete metadata.namespace;
  if (!metadata.name && !metadata.generateName) metadata.name = 'example';
  const { status: _status, ...rest } = doc;
  return { ...rest, metadata };
}

export async function measureEsoExamples(kc: KubeConfig, namespace: string, scope = readScope()): Promise<Measurement> {
  const mod = esoModule();
  const crds = esoCrds(mod);
  await installEsoCrds(kc, crds);
  const esoPlurals = new Map(
    crds.map((c): [string, Plural] => [
      c.spec.names.kind,
      { group: ESO_GROUP, version: 'v1', plural: c.spec.names.plural, scope: c.spec.scope },
    ]),
  );
  const storeCrd = crds.find((c) => c.spec.names.kind === 'SecretStore');
  const providerNames = Object.keys(
    (storeCrd?.spec.versions.find((v) => v.name === 'v1')?.schema?.openAPIV3Schema?.properties?.spec?.properties
      ?.provider?.properties as Record<string, unknown>) ?? {},
  );
  const { examples, unparseable } = extractExamples(mod.docsDir);
  const results: ExampleResult[] = [];
  for (const example of examples)
    results.push(await measureOne(kc, namespace, scope, example, examples, esoPlurals, providerNames));
  return { origin: mod.origin, examples: results, unparseable };
}

async function measureOne(
  kc: KubeConfig,
  namespace: string,
  scope: Scope,
  example: Example,
  all: Example[],
  esoPlurals: Map<string, Plural>,
  providerNames: string[],
): Promise<ExampleResult> {
  const { doc } = example;
  const provider = providerOf(example, all, providerNames) ?? '(generic)';
  const result: ExampleResult = { id: example.id, kind: doc.kind, provider, esoAccepted: false, unsupported: [] };
  const version = doc.apiVersion.slice(ESO_GROUP.length + 1);
  const esoWhere = esoPlurals.get(doc.kind);
  if (!esoWhere) throw new Error(`no ESO CRD for ${doc.kind}`);
  if (version === 'v1' || version === 'v1beta1') {
    // v1beta1 is v1 under another name (ESO has no conversion); its v1.x CRDs no longer serve it.
    const body = placed({ ...doc, apiVersion: `${ESO_GROUP}/v1` }, esoWhere.scope === 'Namespaced', namespace);
    result.esoMessage = await dryRunCreate(kc, esoWhere, body, namespace);
    result.esoAccepted = result.esoMessage === undefined;
  } else {
    result.esoMessage = `${doc.apiVersion} is not served by ESO's CRDs`;
  }
  if (!result.esoAccepted) {
    result.outOfScope = 'ESO rejects it';
    return result;
  }
  if (!FERRY_PROVIDERS.includes(provider) && provider !== '(generic)') {
    result.outOfScope = `provider ${provider}`;
    return result;
  }
  const present = presentPaths(doc);
  const outside = scope.outOfScope.find((e) =>
    e.field ? [...present].some(([p, v]) => entryMatches(e, doc.kind, p, v)) : entryMatches(e, doc.kind),
  );
  if (outside) {
    result.outOfScope = outside.reason;
    return result;
  }
  const converted = convertDocument(doc);
  if (converted.kind === 'other') throw new Error(`${example.id} is not an ESO object`);
  result.unsupported = converted.unsupported;
  if (converted.kind === 'unconvertible') {
    result.ferryAccepted = false;
    result.ferryMessage = converted.unsupported.map((u) => `${u.path}: ${u.reason}`).join('; ');
  } else {
    const ferry = ferryKinds().get(doc.kind);
    if (!ferry) throw new Error(`no Ferry kind ${doc.kind}`);
    const where = { group: 'ferry.dev', version: 'v1alpha1', plural: ferry.plural, scope: ferry.scope };
    const body = placed(converted.object, ferry.scope === 'Namespaced', namespace);
    result.ferryMessage = await dryRunCreate(kc, where, body, namespace);
    result.ferryAccepted = result.ferryMessage === undefined;
  }
  if (!result.ferryAccepted) result.explainedBy = explain(result, [...scope.pending, ...scope.notSupported]);
  return result;
}

/** The entries that explain a rejection: one per unsupported field, or one whose message the API server's contains. */
function explain(r: ExampleResult, entries: ScopeEntry[]): ScopeEntry[] | undefined {
  if (r.unsupported.length > 0) {
    const found = r.unsupported.map((u) =>
      entries.find((e) =>
        u.path === 'kind' ? entryMatches(e, r.kind) : entryMatches(e, r.kind, generalPath(u.path), u.value),
      ),
    );
    return found.every((e) => e !== undefined) ? [...new Set(found as ScopeEntry[])] : undefined;
  }
  const byMessage = entries.find((e) => e.message && r.ferryMessage?.includes(e.message));
  return byMessage ? [byMessage] : undefined;
}

/** Entries of pending and notSupported that explain no rejection (stale: the work has landed). */
export function unusedEntries(m: Measurement, scope: Scope): ScopeEntry[] {
  const used = new Set(m.examples.flatMap((e) => e.explainedBy ?? []));
  return [...scope.pending, ...scope.notSupported].filter((e) => !used.has(e));
}

/** The report printed by the bench and the test: origin, figures, and each rejection with its reason. */
export function formatMeasurement(m: Measurement): string {
  const lines: string[] = [];
  const inScope = m.examples.filter((e) => !e.outOfScope);
  const accepted = inScope.filter((e) => e.ferryAccepted);
  const explained = inScope.filter((e) => !e.ferryAccepted && e.explainedBy);
  const failing = inScope.filter((e) => !e.ferryAccepted && !e.explainedBy);
  const count = (pred: (e: ExampleResult) => boolean) => m.examples.filter(pred).length;
  lines.push(`ESO documentation examples: ${m.origin.module}@${m.origin.version} (module zip ${m.origin.zipHash})`);
  lines.push(
    `  example documents (ExternalSecret, SecretStore, ClusterSecretStore, ClusterExternalSecret): ${m.examples.length}`,
  );
  lines.push(`  YAML texts mentioning those kinds that do not parse: ${m.unparseable.length}`);
  lines.push(`  accepted by ESO's own CRDs: ${count((e) => e.esoAccepted)}`);
  lines.push(
    `  of those, another provider: ${count((e) => e.esoAccepted && (e.outOfScope ?? '').startsWith('provider '))}`,
  );
  lines.push(
    `  of those, a feature out of scope: ${count((e) => e.esoAccepted && !!e.outOfScope && !e.outOfScope.startsWith('provider '))}`,
  );
  lines.push(`  in scope: ${inScope.length}`);
  lines.push(`Ferry accepts ${accepted.length} of ${inScope.length} in-scope examples`);
  lines.push(`  rejected, explained in test/fixtures/eso-examples/scope.yaml: ${explained.length}`);
  lines.push(`  rejected, not explained: ${failing.length}`);
  const byReason = new Map<string, number>();
  for (const e of explained)
    for (const x of e.explainedBy ?? []) byReason.set(x.reason, (byReason.get(x.reason) ?? 0) + 1);
  for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1]))
    lines.push(`    ${String(n).padStart(3)}  ${reason}`);
  for (const e of [...explained, ...failing]) {
    const fields =
      e.unsupported.map((u) => u.path + (u.value ? `=${u.value}` : '')).join(', ') || '(no unsupported field)';
    lines.push(`  REJECTED ${e.id} ${e.kind} [${e.provider}]: ${fields}`);
    lines.push(`    api server: ${e.ferryMessage}`);
    for (const x of e.explainedBy ?? []) lines.push(`    explained: ${x.reason}`);
    if (!e.explainedBy) lines.push('    NOT EXPLAINED');
  }
  for (const u of m.unparseable) lines.push(`  NOT YAML ${u.where}: ${u.error}`);
  return lines.join('\n');
}
