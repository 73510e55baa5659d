// The sync half of the ESO-examples measurement (`npm run eso-examples` and
// test/integration/eso-examples.test.ts): every in-scope ExternalSecret (and ClusterExternalSecret)
// example that Ferry's CRDs accept is applied for real, as `ferry migrate` writes it, in a namespace
// of its own, next to the store it names (same kind and name) made to work on the test bed:
// AWS on moto, Vault on the real OpenBao dev server, Google on drongo, Azure on THE SPEC-FAITHFUL KEY
// VAULT TEST SERVER in test/support (not a third-party server), `fake` with the seeded entries.
// Generic examples (no provider named) use AWS Secrets Manager, which serves every field they use.
//
// Each store gets a backend of its own (an AWS region, an OpenBao namespace, a Google project, a Key
// Vault test server), seeded with per-run canary values for everything the examples using that store
// read: remote keys, properties (as JSON), versions, metadata (tags), whole objects for `extract`,
// and a few secrets matching each `find`. Examples naming the same ClusterSecretStore share its
// backend, as they would in a cluster. What the Secret must then hold is worked out here from the
// seeded backend, independently of Ferry's code: the keys (rewrites by regexp follow Go's expansion;
// a key rewritten by a template transform is counted, not named), the exact values of copied keys,
// and for templated keys the canaries they pass through, the certificate and key a PKCS#12 holds,
// the Secret's type, labels and annotations.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  AddTagsToResourceCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import forge from 'node-forge';
import { convertDocument, ferryKinds } from '../../src/migrate/convert.ts';
import type { DrongoAdmin } from '../testbed/drongo.ts';
import type { AwsAccess } from '../testbed/moto.ts';
import type { OpenBaoAdmin } from '../testbed/openbao.ts';
import type { Example } from './eso-docs.ts';
import type { ExampleResult, Measurement } from './eso-examples.ts';
import { serviceAccountKeyJson, withoutMetadataServer } from './gcp.ts';
import { KeyVaultTestServer } from './key-vault-server.ts';

const group = { group: 'ferry.dev', version: 'v1alpha1' };
const AZURE_TENANT = 'ferry-eso-examples';
/** Regions of moto's Secrets Manager, one per AWS store (us-east-1 and eu-west-1 are left to other tests). */
const AWS_REGIONS = [
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ca-central-1',
  'sa-east-1',
];

/** The real servers of the bed the examples sync against. */
export interface SyncBed {
  aws: AwsAccess;
  vault: { address: string; rootToken: string; admin: OpenBaoAdmin };
  gcp: { endpoint: string; admin: DrongoAdmin };
  /** For the Key Vault test servers: the API server's ServiceAccount issuer and signing key. */
  azure: { kubeIssuer: string; kubeSigningKeyPem: string };
}

export interface SyncResult {
  id: string;
  kind: string;
  provider: string;
  /** Where it synced from, e.g. `aws SecretsManager on moto (eu-west-2)`. */
  backend: string;
  synced: boolean;
  /** Why not: the Ready condition's message, an unseedable read, or what the Secret lacks. */
  reason?: string;
  explainedBy?: NotSyncedEntry;
}

export interface NotSyncedEntry {
  /** An example id (`snippets/x.yaml#1`) … */
  example?: string;
  /** … or text the reason contains. */
  message?: string;
  reason: string;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** One remote secret (one version of it) as seeded. */
interface Seed {
  /** The provider's own name for it (e.g. Azure's without `secret/`). */
  name: string;
  version?: string;
  text?: string;
  object?: Obj;
  bytes?: Buffer;
  /** The PKCS#12 a seed holds: its certificate's common name and its key. */
  p12?: { cn: string; keyPem: string };
  /** Stored base64 (read with `b64dec` in a template). */
  base64?: boolean;
  /**
   * A Key Vault certificate (`bytes`: its DER, what cert/<name> reads) or key (`keyPem`: its public
   * key; `text` becomes the JWK JSON ESO returns once the server has given the version its ID).
   */
  azure?: 'cert' | 'key';
  keyPem?: string;
}

interface Backend {
  id: string;
  provider: string;
  /** For AWS: SecretsManager or ParameterStore. */
  service?: string;
  /** The example's own store config (same file), before the bed's server and auth replace its own. */
  own?: Record<string, unknown>;
  storeKind: string;
  storeName: string;
  storeNamespace: string;
  /** aws region, vault namespace, gcp project, azure server. */
  region?: string;
  vaultNamespace?: string;
  project?: string;
  azure?: KeyVaultTestServer;
  seeds: Map<string, Seed>;
  tags: Map<string, Record<string, string>>;
  /** Why this backend cannot hold what an example reads (the example then counts as not synced). */
  unseedable: Map<string, string>;
  label: string;
}

interface Plan {
  result: ExampleResult;
  example: Example;
  backend: Backend;
  namespace: string;
  object: Record<string, unknown>;
  spec: EsSpec;
  esName: string;
  targetName: string;
  problem?: string;
}

interface RemoteRef {
  key: string;
  property?: string;
  version?: string;
  metadataPolicy?: string;
  decodingStrategy?: string;
}
interface EsSpec {
  secretStoreRef?: { name: string; kind?: string };
  target?: {
    name?: string;
    template?: {
      type?: string;
      mergePolicy?: string;
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      data?: Record<string, string>;
      templateFrom?: unknown[];
    };
  };
  data?: { secretKey: string; remoteRef: RemoteRef }[];
  dataFrom?: {
    extract?: RemoteRef;
    find?: { path?: string; name?: { regexp?: string }; tags?: Record<string, string>; conversionStrategy?: string };
    rewrite?: { regexp?: { source: string; target: string }; transform?: { template: string } }[];
  }[];
}

const canary = () => `canary-${randomBytes(8).toString('hex')}`;

/**
 * Go's Regexp.ReplaceAllString over a JavaScript RegExp (the example patterns are in the syntax
 * both share): every match replaced by the target with `$1`, `${1}`, `$name`, `${name}` expanded
 * as Go's Expand does, except an empty match right where the previous match ended, which Go skips
 * (`(.*)` on "username" is one match in Go, two in String.replace).
 */
export function goReplaceAll(input: string, source: string, target: string): string {
  let out = '';
  let last = 0;
  let prevEnd = -1;
  for (const m of input.matchAll(new RegExp(source, 'g'))) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    const skip = start === end && start === prevEnd;
    prevEnd = end;
    if (skip) continue;
    const expanded = target.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (t, braced?: string, bare?: string) => {
      if (t === '$$') return '$';
      const name = braced ?? bare ?? '';
      return (/^\d+$/.test(name) ? m[Number(name)] : m.groups?.[name]) ?? '';
    });
    out += input.slice(last, start) + expanded;
    last = end;
  }
  return out + input.slice(last);
}

/** ESO's key conversion (Default): characters a Secret key cannot hold become `_`. */
function convertKey(name: string): string {
  return name.replace(/[^-._a-zA-Z0-9]/gu, '_');
}

/** The remote name a provider stores `key` under, or why it cannot be seeded. */
function remoteName(provider: string, key: string): string | { unseedable: string } {
  if (provider === 'azurekv') {
    // Certificates and keys keep their prefix: they are other objects than the secret of that name.
    const m = /^(secret|cert|key)\/(.+)$/.exec(key);
    return m?.[1] === 'secret' ? (m[2] ?? key) : key;
  }
  return key;
}

/** A literal a name matching `regexp` can be built from, for the simple patterns of the docs. */
function literalFor(regexp: string | undefined): string | undefined {
  if (regexp === undefined) return '';
  const core = regexp.replace(/^\^/, '').replace(/\$$/, '').replace(/\.\*/g, '').replace(/\.\+/g, 'x');
  return /^[A-Za-z0-9_/-]*$/.test(core) ? core : undefined;
}

/** A self-signed RSA certificate with `cn` as its subject, and its key. */
function selfSigned(cn: string): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  cert.setIssuer([{ name: 'commonName', value: cn }]);
  cert.sign(key, forge.md.sha256.create());
  return { cert, key, keyPem };
}

function pkcs12(cn: string): { der: Buffer; keyPem: string } {
  const { cert, key, keyPem } = selfSigned(cn);
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert], '', { algorithm: '3des' });
  return { der: Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'), keyPem };
}

/** A self-signed certificate's DER, with `cn` as its subject (what Key Vault's `cer` holds). */
function certificateDer(cn: string): Buffer {
  const { cert } = selfSigned(cn);
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** The value a seed reads as: text (objects as JSON) or bytes. */
function seedBytes(seed: Seed): Buffer {
  if (seed.bytes) return seed.base64 ? Buffer.from(seed.bytes.toString('base64')) : seed.bytes;
  if (seed.object) return Buffer.from(JSON.stringify(seed.object));
  return Buffer.from(seed.text ?? '');
}

/** Sets `path` (`a.b.1.c`, numeric segments index arrays) in `obj` to `value`. */
function setPath(obj: Obj, path: string, value: Json): void {
  const parts = path.split('.');
  let node: Json = obj;
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const nextIsIndex = /^\d+$/.test(parts[i + 1] ?? '');
    const container = node as Record<string, Json> & Json[];
    const k = /^\d+$/.test(part) && Array.isArray(node) ? Number(part) : part;
    if (last) {
      (container as Record<string | number, Json>)[k] = value;
      return;
    }
    let child = (container as Record<string | number, Json>)[k];
    if (child === undefined || child === null || typeof child !== 'object') {
      child = nextIsIndex ? [] : {};
      (container as Record<string | number, Json>)[k] = child;
    }
    if (Array.isArray(child) && nextIsIndex) {
      const idx = Number(parts[i + 1]);
      for (let j = child.length; j < idx; j++) child.push({ filler: canary() });
    }
    node = child;
  });
}

function getPath(obj: Json | undefined, path: string): Json | undefined {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj) && path in obj) return obj[path];
  let node: Json | undefined = obj;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[Number(part)] : node[part];
  }
  return node;
}

/** The actions `{{ … }}` of a template, skipping `}}` inside quoted and raw strings. */
function actions(template: string): string[] {
  const out: string[] = [];
  let i = template.indexOf('{{');
  while (i >= 0) {
    let j = i + 2;
    let quote: string | undefined;
    for (; j < template.length; j++) {
      const c = template[j];
      if (quote) {
        if (c === '\\' && quote === '"') j++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === '`') quote = c;
      else if (c === '}' && template[j + 1] === '}') break;
    }
    out.push(template.slice(i + 2, j));
    i = template.indexOf('{{', j + 2);
  }
  return out;
}

/** What a template does with a data key: an action `{{ .x | f | g }}` → x and [f, g]. */
function templateRefs(template: string): { ref: string; fns: string[] }[] {
  const out: { ref: string; fns: string[] }[] = [];
  for (const action of actions(template)) {
    const m = /^-?\s*\.([A-Za-z_]\w*)\s*((?:\|\s*\w+\s*)*)-?$/.exec(action);
    if (m)
      out.push({
        ref: m[1] ?? '',
        fns: (m[2] ?? '')
          .split('|')
          .map((f) => f.trim())
          .filter(Boolean),
      });
  }
  return out;
}
const PASS_THROUGH = new Set(['toString', 'lower', 'trim']);

/** The checks on one key of the Secret. */
type Check =
  | { kind: 'exact'; value: Buffer }
  | { kind: 'json'; value: Json }
  | { kind: 'contains'; values: string[] }
  | { kind: 'certificate'; cn: string }
  | { kind: 'privateKey'; keyPem: string }
  | { kind: 'present' };

interface Expected {
  /** Keys with their checks; `unnamed` keys come from a transform rewrite (counted, not named). */
  keys: Map<string, Check[]>;
  unnamed: { count: number; values: string[] };
  type?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function esSpecOf(doc: Record<string, unknown>): EsSpec {
  const spec = (doc.spec ?? {}) as Record<string, unknown>;
  return (doc.kind === 'ClusterExternalSecret' ? spec.externalSecretSpec : spec) as EsSpec;
}

function newBackend(id: string, provider: string, storeKind: string, storeName: string, ns: string): Backend {
  return {
    id,
    provider,
    storeKind,
    storeName,
    storeNamespace: ns,
    seeds: new Map(),
    tags: new Map(),
    unseedable: new Map(),
    label: provider,
  };
}

/** The example's own store: same file, same kind and name, same provider. */
function ownStore(example: Example, all: Example[], kind: string, name: string, provider: string) {
  const doc = all.find(
    (e) =>
      e.file === example.file &&
      e.doc.kind === kind &&
      (e.doc.metadata as { name?: string } | undefined)?.name === name &&
      Object.keys(((e.doc.spec as { provider?: object } | undefined)?.provider ?? {}) as object)[0] === provider,
  );
  if (!doc) return undefined;
  const converted = convertDocument(doc.doc);
  if (converted.kind !== 'converted') return undefined;
  return {
    id: doc.id,
    config: ((converted.object.spec as { provider: Record<string, unknown> }).provider[provider] ?? {}) as Record<
      string,
      unknown
    >,
  };
}

/** Plans every example: namespace, store backend, seeds; returns the plans and backends. */
function plan(m: Measurement, examples: Example[], run: string): { plans: Plan[]; backends: Map<string, Backend> } {
  const byId = new Map(examples.map((e) => [e.id, e]));
  const backends = new Map<string, Backend>();
  const plans: Plan[] = [];
  let regions = 0;
  const candidates = m.examples.filter(
    (e) => !e.outOfScope && e.ferryAccepted && (e.kind === 'ExternalSecret' || e.kind === 'ClusterExternalSecret'),
  );
  candidates.forEach((result, i) => {
    const example = byId.get(result.id);
    if (!example) throw new Error(`example ${result.id} is gone`);
    const converted = convertDocument(example.doc);
    if (converted.kind !== 'converted') throw new Error(`${result.id} was accepted but does not convert`);
    const namespace = `exs-${run}-${i}`;
    const object = converted.object;
    const spec = esSpecOf(object);
    const provider = result.provider === '(generic)' ? 'aws' : result.provider;
    const storeKind = spec.secretStoreRef?.kind ?? 'SecretStore';
    const storeName = spec.secretStoreRef?.name ?? '';
    const id =
      storeKind === 'ClusterSecretStore' ? `ClusterSecretStore/${storeName}` : `SecretStore/${namespace}/${storeName}`;
    let backend = backends.get(id);
    if (!backend) {
      backend = newBackend(
        id,
        provider,
        storeKind,
        storeName,
        storeKind === 'ClusterSecretStore' ? `exs-${run}-stores` : namespace,
      );
      const own = ownStore(example, examples, storeKind, storeName, provider);
      backend.own = own?.config;
      const from = own ? ` (its own store ${own.id}, server and auth the bed's)` : '';
      if (provider === 'aws') {
        backend.service = (own?.config.service as string | undefined) ?? 'SecretsManager';
        backend.region = AWS_REGIONS[regions++ % AWS_REGIONS.length];
        backend.label = `aws ${backend.service} on moto (${backend.region})${from}`;
      } else if (provider === 'vault') {
        backend.vaultNamespace = `exs-${run}-${backends.size}`;
        const path = (own?.config.path as string | undefined) ?? 'secret';
        const version = (own?.config.version as string | undefined) ?? 'v2';
        backend.label = `vault KV ${version} at ${path}/ on OpenBao (namespace ${backend.vaultNamespace})${from}`;
      } else if (provider === 'gcpsm') {
        backend.project = `exs-${run}-${backends.size}`;
        backend.label = `gcpsm on drongo (project ${backend.project})${from}`;
      } else if (provider === 'azurekv') {
        backend.label = `azurekv on the spec-faithful Key Vault test server in test/support${from}`;
      } else {
        backend.label = `fake, the seeded entries${from}`;
      }
      backends.set(id, backend);
    }
    const esName = (object.metadata as { name: string }).name;
    const ces = object.spec as { externalSecretName?: string };
    const effectiveEsName = result.kind === 'ClusterExternalSecret' ? (ces.externalSecretName ?? esName) : esName;
    plans.push({
      result,
      example,
      backend,
      namespace,
      object,
      spec,
      esName: effectiveEsName,
      targetName: spec.target?.name ?? effectiveEsName,
      problem: storeName ? undefined : 'names no store in spec.secretStoreRef',
    });
  });
  for (const p of plans) seedFor(p);
  return { plans, backends };
}

/** The seed of (key, version) in a backend, made on first use. */
function seedOf(b: Backend, key: string, version?: string): Seed | string {
  const name = remoteName(b.provider, key);
  if (typeof name !== 'string') return name.unseedable;
  if (version !== undefined) {
    if (b.provider === 'azurekv') return `reads version "${version}"; Key Vault version IDs are made by the server`;
    if ((b.provider === 'vault' || b.provider === 'gcpsm') && !/^[1-9]\d{0,1}$/.test(version) && version !== 'latest') {
      return `reads version "${version}", which ${b.provider} cannot hold (version numbers only)`;
    }
    if (version === 'latest') version = undefined;
  }
  const id = `${name}@${version ?? ''}`;
  let seed = b.seeds.get(id);
  if (!seed) {
    const azure = b.provider === 'azurekv' ? /^(cert|key)\//.exec(name)?.[1] : undefined;
    if (azure === 'cert') seed = { name, version, azure, bytes: certificateDer(canary()) };
    else if (azure === 'key') {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      seed = { name, version, azure, keyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    } else seed = { name, version, text: canary() };
    b.seeds.set(id, seed);
  }
  return seed;
}

function asObject(seed: Seed): Obj | string {
  if (seed.azure)
    return `is a Key Vault ${seed.azure === 'cert' ? 'certificate' : 'key'}, whose value the server makes`;
  if (seed.bytes) return 'is read both as a PKCS#12 and as JSON';
  if (!seed.object) {
    seed.object = {};
    seed.text = undefined;
  }
  return seed.object;
}

function seedFor(p: Plan): void {
  const b = p.backend;
  const fail = (why: string) => {
    p.problem ??= why;
  };
  const tagsOf = (key: string) => {
    const name = remoteName(b.provider, key);
    const k = typeof name === 'string' ? name : key;
    const t = b.tags.get(k) ?? {};
    b.tags.set(k, t);
    return t;
  };
  // What the templates need the data keys to hold.
  const template = p.spec.target?.template;
  const needs = new Map<string, { p12?: boolean; base64?: boolean; dockerConfig?: boolean }>();
  for (const [key, text] of Object.entries(template?.data ?? {})) {
    const refs = templateRefs(text);
    for (const r of refs) {
      const need = needs.get(r.ref) ?? {};
      if (r.fns.some((f) => f === 'pkcs12cert' || f === 'pkcs12key')) {
        need.p12 = true;
        need.base64 =
          r.fns.indexOf('b64dec') >= 0 && r.fns.indexOf('b64dec') < r.fns.findIndex((f) => f.startsWith('pkcs12'));
      }
      if (
        key === '.dockerconfigjson' &&
        refs.length === 1 &&
        text.trim().startsWith('{{') &&
        text.trim().endsWith('}}') &&
        r.fns.every((f) => PASS_THROUGH.has(f))
      ) {
        need.dockerConfig = true;
      }
      needs.set(r.ref, need);
    }
  }
  for (const item of p.spec.data ?? []) {
    const ref = item.remoteRef;
    if (ref.metadataPolicy === 'Fetch') {
      if (b.provider === 'gcpsm' || b.provider === 'fake') {
        fail(`data "${item.secretKey}" fetches metadata, which ${b.provider} has none of`);
        continue;
      }
      const tags = tagsOf(ref.key);
      if (ref.property) tags[ref.property] ??= canary();
      else if (Object.keys(tags).length === 0) tags.owner = canary();
      const seed = seedOf(b, ref.key); // the secret must exist to carry tags
      if (typeof seed === 'string') fail(`data "${item.secretKey}" ${seed}`);
      continue;
    }
    const seed = seedOf(b, ref.key, ref.version);
    if (typeof seed === 'string') {
      fail(`data "${item.secretKey}" ${seed}`);
      continue;
    }
    const need = needs.get(item.secretKey);
    if (ref.property) {
      const obj = asObject(seed);
      if (typeof obj === 'string') fail(`remote key "${ref.key}" ${obj}`);
      else if (getPath(obj, ref.property) === undefined) setPath(obj, ref.property, canary());
    } else if (b.provider === 'vault') {
      // A Vault secret is a JSON object; read whole, it is that object.
      const obj = asObject(seed);
      if (typeof obj !== 'string' && Object.keys(obj).length === 0) obj.value = canary();
    } else if (seed.azure) {
      if (need?.p12 || need?.dockerConfig) fail(`remote key "${ref.key}" is a Key Vault ${seed.azure}, read as-is`);
    } else if (need?.p12) {
      if (seed.object) fail(`remote key "${ref.key}" is read both as a PKCS#12 and as JSON`);
      else if (!seed.bytes) {
        const cn = canary();
        const { der, keyPem } = pkcs12(cn);
        Object.assign(seed, { bytes: der, text: undefined, p12: { cn, keyPem }, base64: need.base64 });
      }
    } else if (need?.dockerConfig && !seed.object && !seed.bytes) {
      const user = canary();
      seed.text = JSON.stringify({
        auths: {
          'registry.example.com': { username: user, auth: Buffer.from(`${user}:${canary()}`).toString('base64') },
        },
      });
    }
  }
  for (const [i, from] of (p.spec.dataFrom ?? []).entries()) {
    if (from.extract) {
      const ref = from.extract;
      if (ref.metadataPolicy === 'Fetch') {
        if (b.provider === 'gcpsm' || b.provider === 'fake') {
          fail(`dataFrom[${i}] fetches metadata, which ${b.provider} has none of`);
          continue;
        }
        const tags = tagsOf(ref.key);
        tags[`meta-${i}`] ??= canary();
        const seed = seedOf(b, ref.key);
        if (typeof seed === 'string') fail(`dataFrom[${i}] ${seed}`);
        continue;
      }
      const seed = seedOf(b, ref.key, ref.version);
      if (typeof seed === 'string') {
        fail(`dataFrom[${i}] ${seed}`);
        continue;
      }
      const obj = asObject(seed);
      if (typeof obj === 'string') {
        fail(`remote key "${ref.key}" ${obj}`);
        continue;
      }
      let target = obj;
      if (ref.property) {
        const inner = getPath(obj, ref.property);
        if (inner === undefined) setPath(obj, ref.property, {});
        target = getPath(obj, ref.property) as Obj;
      }
      // A few keys of each kind extract expands: plain text and a nested object (written as JSON).
      target.username ??= canary();
      target.password ??= canary();
      target.config ??= { token: canary() };
    }
    if (from.find) {
      const literal = literalFor(from.find.name?.regexp);
      if (literal === undefined) {
        fail(`dataFrom[${i}].find.name.regexp "${from.find.name?.regexp}" is too complex to seed names for`);
        continue;
      }
      if (b.provider === 'gcpsm' && from.find.path) {
        fail(`dataFrom[${i}].find.path is not used by gcpsm`);
        continue;
      }
      // Names the doc's author had in mind: path/literal/<suffix> ('-' where a provider allows no '/').
      const sep = b.provider === 'azurekv' || b.provider === 'gcpsm' ? '-' : '/';
      const path = from.find.path ? from.find.path.replace(/\/?$/, '/') : '';
      for (let n = 0; n < 2; n++) {
        const suffix = `${randomBytes(3).toString('hex')}${n}`;
        const name = `${path}${literal}${literal ? sep : ''}${suffix}`;
        const seed = seedOf(b, name);
        if (typeof seed === 'string') fail(`dataFrom[${i}] ${seed}`);
        if (from.find.tags) Object.assign(tagsOf(name), from.find.tags);
        if (from.find.tags && (b.provider === 'fake' || b.provider === 'gcpsm')) {
          fail(`dataFrom[${i}].find.tags: the ${b.provider} backend of the bed holds no tags`);
        }
      }
    }
  }
}

/** What the Secret must hold, worked out from the seeded backend (after every example seeded it). */
function expectFor(p: Plan): Expected {
  const b = p.backend;
  const keys = new Map<string, Check[]>();
  const unnamed = { count: 0, values: [] as string[] };
  const valueCheck = (bytes: Buffer, object?: Obj): Check =>
    object ? { kind: 'json', value: object } : { kind: 'exact', value: bytes };
  const seedAt = (key: string, version?: string): Seed | undefined => {
    const name = remoteName(b.provider, key);
    if (typeof name !== 'string') return undefined;
    return b.seeds.get(`${name}@${version === 'latest' ? '' : (version ?? '')}`);
  };
  const tagsAt = (key: string) => {
    const name = remoteName(b.provider, key);
    return b.tags.get(typeof name === 'string' ? name : key) ?? {};
  };
  const rewriteAll = (
    entries: [string, Check][],
    rewrites: NonNullable<EsSpec['dataFrom']>[number]['rewrite'],
    convert: boolean,
  ) => {
    if (!rewrites?.length) {
      for (const [k, c] of entries) keys.set(convert ? convertKey(k) : k, [c]);
      return;
    }
    if (rewrites.some((r) => r.transform)) {
      unnamed.count += entries.length;
      for (const [, c] of entries) if (c.kind === 'exact') unnamed.values.push(c.value.toString());
      return;
    }
    for (const [k0, c] of entries) {
      let k = k0;
      for (const r of rewrites) if (r.regexp) k = goReplaceAll(k, r.regexp.source, r.regexp.target);
      keys.set(k, [c]);
    }
  };
  for (const from of p.spec.dataFrom ?? []) {
    if (from.extract) {
      const ref = from.extract;
      let doc: Json | undefined;
      if (ref.metadataPolicy === 'Fetch') doc = tagsAt(ref.key);
      else {
        const seed = seedAt(ref.key, ref.version);
        doc = ref.property ? getPath(seed?.object, ref.property) : seed?.object;
      }
      const entries = Object.entries((doc ?? {}) as Obj).map(([k, v]): [string, Check] => [
        k,
        typeof v === 'string' ? { kind: 'exact', value: Buffer.from(v) } : { kind: 'json', value: v },
      ]);
      rewriteAll(entries, from.rewrite, true);
    }
    if (from.find) {
      const re = from.find.name?.regexp === undefined ? undefined : new RegExp(from.find.name.regexp);
      const entries: [string, Check][] = [];
      for (const seed of b.seeds.values()) {
        if (seed.version !== undefined || seed.azure) continue;
        if (from.find.path && !seed.name.startsWith(from.find.path)) continue;
        if (re && !re.test(seed.name)) continue;
        const tags = b.tags.get(seed.name) ?? {};
        if (!Object.entries(from.find.tags ?? {}).every(([k, v]) => tags[k] === v)) continue;
        entries.push([seed.name, valueCheck(seedBytes(seed), seed.object)]);
      }
      rewriteAll(entries, from.rewrite, true);
    }
  }
  for (const item of p.spec.data ?? []) {
    const ref = item.remoteRef;
    if (ref.metadataPolicy === 'Fetch') {
      const tags = tagsAt(ref.key);
      keys.set(item.secretKey, [
        ref.property ? { kind: 'exact', value: Buffer.from(tags[ref.property] ?? '') } : { kind: 'json', value: tags },
      ]);
      continue;
    }
    const seed = seedAt(ref.key, ref.version);
    if (!seed) continue;
    if (ref.property) {
      const v = getPath(seed.object, ref.property);
      keys.set(item.secretKey, [
        typeof v === 'string' ? { kind: 'exact', value: Buffer.from(v) } : { kind: 'json', value: v ?? null },
      ]);
    } else keys.set(item.secretKey, [valueCheck(seedBytes(seed), seed.object)]);
  }
  const template = p.spec.target?.template;
  if (template?.data || template?.templateFrom) {
    const copied = new Map(keys);
    const seedOfKey = (secretKey: string) => {
      const item = (p.spec.data ?? []).find((d) => d.secretKey === secretKey);
      return item && !item.remoteRef.property ? seedAt(item.remoteRef.key, item.remoteRef.version) : undefined;
    };
    if (template.mergePolicy !== 'Merge') keys.clear();
    for (const [key, text] of Object.entries(template.data ?? {})) {
      const checks: Check[] = [{ kind: 'present' }];
      const contains: string[] = [];
      for (const r of templateRefs(text)) {
        const seed = seedOfKey(r.ref);
        if (seed?.p12 && r.fns.includes('pkcs12cert')) checks.push({ kind: 'certificate', cn: seed.p12.cn });
        if (seed?.p12 && r.fns.includes('pkcs12key')) checks.push({ kind: 'privateKey', keyPem: seed.p12.keyPem });
        const source = copied.get(r.ref)?.[0];
        if (source?.kind === 'exact' && r.fns.every((f) => PASS_THROUGH.has(f))) contains.push(source.value.toString());
      }
      if (contains.length) checks.push({ kind: 'contains', values: contains });
      keys.set(key, checks);
    }
  }
  return {
    keys,
    unnamed,
    type: template?.type,
    labels: template?.metadata?.labels,
    annotations: template?.metadata?.annotations,
  };
}

/** What is wrong with the Secret, or undefined when it holds what the example implies. */
function checkSecret(secret: V1Secret, want: Expected): string | undefined {
  const data = new Map(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  const named = [...want.keys.keys()];
  const missing = named.filter((k) => !data.has(k));
  const extra = [...data.keys()].filter((k) => !want.keys.has(k));
  if (missing.length) return `the Secret lacks key(s) ${missing.join(', ')}`;
  if (extra.length !== want.unnamed.count) {
    return `the Secret has ${extra.length} key(s) beyond those named (${extra.join(', ') || 'none'}), ${want.unnamed.count} expected from transform rewrites`;
  }
  const extraValues = new Set(extra.map((k) => data.get(k)?.toString()));
  if (want.unnamed.values.some((v) => !extraValues.has(v)))
    return 'a value found and rewritten by a transform is missing';
  for (const [key, checks] of want.keys) {
    const got = data.get(key) ?? Buffer.alloc(0);
    for (const c of checks) {
      const bad = `key ${key}: ${c.kind} check failed`;
      if (c.kind === 'exact' && !got.equals(c.value)) return bad;
      if (c.kind === 'json') {
        try {
          if (JSON.stringify(sortKeys(JSON.parse(got.toString()))) !== JSON.stringify(sortKeys(c.value))) return bad;
        } catch {
          return `${bad} (not JSON)`;
        }
      }
      if (c.kind === 'present' && got.length === 0) return `key ${key} is empty`;
      // Each passed-through value whole: not run into other letters or digits (a value with
      // something appended or cut short is not the value).
      if (
        c.kind === 'contains' &&
        !c.values.every((v) => new RegExp(`(?<![\\w])${escapeRe(v)}(?![\\w])`).test(got.toString()))
      )
        return bad;
      if (c.kind === 'certificate') {
        try {
          if (!new X509Certificate(got).subject.includes(`CN=${c.cn}`)) return bad;
        } catch {
          return `${bad} (not a certificate)`;
        }
      }
      if (c.kind === 'privateKey') {
        try {
          const pem = createPrivateKey(got).export({ type: 'pkcs8', format: 'pem' }).toString();
          if (pem !== createPrivateKey(c.keyPem).export({ type: 'pkcs8', format: 'pem' }).toString()) return bad;
        } catch {
          return `${bad} (not a private key)`;
        }
      }
    }
  }
  if (want.type && secret.type !== want.type) return `the Secret's type is ${secret.type}, not ${want.type}`;
  for (const [k, v] of Object.entries(want.labels ?? {}))
    if (secret.metadata?.labels?.[k] !== v) return `the Secret lacks label ${k}`;
  for (const [k, v] of Object.entries(want.annotations ?? {}))
    if (secret.metadata?.annotations?.[k] !== v) return `the Secret lacks annotation ${k}`;
  return undefined;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

async function applySeeds(b: Backend, bed: SyncBed): Promise<void> {
  const current = [...b.seeds.values()].filter((s) => s.version === undefined);
  const versioned = [...b.seeds.values()].filter((s) => s.version !== undefined);
  // A remote key read only at a version still needs a current value (not so a fake entry, which
  // is read by exact version; a current one would join what a find lists).
  for (const v of b.provider === 'fake' ? [] : versioned) {
    if (!current.some((c) => c.name === v.name)) {
      const filler: Seed = { name: v.name, text: canary() };
      b.seeds.set(`${v.name}@`, filler);
      current.push(filler);
    }
  }
  const tags = (name: string) => b.tags.get(name) ?? {};
  if (b.provider === 'aws' && b.service === 'ParameterStore') {
    const ssm = new SSMClient(awsClientConfig(bed.aws, b.region));
    for (const s of current) {
      const t = Object.entries(tags(s.name)).map(([Key, Value]) => ({ Key, Value }));
      await ssm.send(new PutParameterCommand({ Name: s.name, Value: seedBytes(s).toString(), Type: 'SecureString' }));
      if (t.length)
        await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: s.name, Tags: t }));
    }
    for (const s of versioned) {
      const out = await ssm.send(
        new PutParameterCommand({
          Name: s.name,
          Value: seedBytes(s).toString(),
          Type: 'SecureString',
          Overwrite: true,
        }),
      );
      if (!/^\d+$/.test(s.version ?? ''))
        await ssm.send(
          new LabelParameterVersionCommand({ Name: s.name, ParameterVersion: out.Version, Labels: [s.version ?? ''] }),
        );
      // The current value is written again after, so the labelled version is not the latest.
      const cur = current.find((c) => c.name === s.name);
      if (cur)
        await ssm.send(
          new PutParameterCommand({
            Name: s.name,
            Value: seedBytes(cur).toString(),
            Type: 'SecureString',
            Overwrite: true,
          }),
        );
    }
    ssm.destroy();
  } else if (b.provider === 'aws') {
    const sm = new SecretsManagerClient(awsClientConfig(bed.aws, b.region));
    for (const s of current) {
      const t = Object.entries(tags(s.name)).map(([Key, Value]) => ({ Key, Value }));
      const value = s.bytes && !s.base64 ? { SecretBinary: s.bytes } : { SecretString: seedBytes(s).toString() };
      await sm.send(new CreateSecretCommand({ Name: s.name, ...value, Tags: t.length ? t : undefined }));
    }
    for (const s of versioned) {
      const uuid = s.version?.startsWith('uuid/') ? s.version.slice(5) : undefined;
      await sm.send(
        new PutSecretValueCommand({
          SecretId: s.name,
          SecretString: seedBytes(s).toString(),
          ...(uuid
            ? { ClientRequestToken: uuid, VersionStages: ['FERRY_SEEDED'] }
            : { VersionStages: [s.version ?? ''] }),
        }),
      );
    }
    sm.destroy();
  } else if (b.provider === 'vault') {
    const admin = bed.vault.admin;
    await admin.createNamespace(b.vaultNamespace ?? '');
    const ns = admin.inNamespace(b.vaultNamespace ?? '');
    const path = (b.own?.path as string | undefined) ?? 'secret';
    const v2 = ((b.own?.version as string | undefined) ?? 'v2') === 'v2';
    await ns.must('POST', `sys/mounts/${path}`, { type: 'kv', options: { version: v2 ? '2' : '1' } });
    const data = (s: Seed): Obj => s.object ?? { value: seedBytes(s).toString() };
    for (const s of current) {
      const n = Math.max(0, ...versioned.filter((v) => v.name === s.name).map((v) => Number(v.version)));
      for (let i = 1; i <= n; i++) {
        const at = versioned.find((v) => v.name === s.name && Number(v.version) === i);
        await ns.writeKv2(path, s.name, at ? data(at) : { filler: canary() });
      }
      if (v2) await ns.writeKv2(path, s.name, data(s));
      else await ns.writeKv1(path, s.name, data(s));
      const t = tags(s.name);
      if (Object.keys(t).length) await ns.must('POST', `${path}/metadata/${s.name}`, { custom_metadata: t });
    }
  } else if (b.provider === 'gcpsm') {
    const project = b.project ?? '';
    for (const s of current) {
      await bed.gcp.admin.createSecret(project, s.name);
      const n = Math.max(0, ...versioned.filter((v) => v.name === s.name).map((v) => Number(v.version)));
      for (let i = 1; i <= n; i++) {
        const at = versioned.find((v) => v.name === s.name && Number(v.version) === i);
        await bed.gcp.admin.addVersion(project, s.name, at ? seedBytes(at) : canary());
      }
      await bed.gcp.admin.addVersion(project, s.name, seedBytes(s));
    }
  } else if (b.provider === 'azurekv') {
    const kv = b.azure;
    if (!kv) throw new Error('no Key Vault test server');
    for (const s of current) {
      const name = s.name.replace(/^(cert|key)\//, '');
      if (s.azure === 'cert') kv.setCertificate(name, s.bytes ?? Buffer.alloc(0), { tags: tags(s.name) });
      else if (s.azure === 'key') {
        const version = kv.setKey(name, s.keyPem ?? '', { tags: tags(s.name) });
        // What ESO returns for key/<name>: the public JWK's JSON, kid first (its URL names the version).
        const jwk = createPublicKey(s.keyPem ?? '').export({ format: 'jwk' });
        s.text = JSON.stringify({
          kid: `${kv.vaultUrl}/keys/${name}/${version}`,
          kty: 'RSA',
          key_ops: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
          n: jwk.n,
          e: jwk.e,
        });
      } else
        kv.setSecret(s.name, seedBytes(s).toString(s.bytes && !s.base64 ? 'base64' : 'utf8'), {
          tags: tags(s.name),
        });
    }
  }
}

function awsClientConfig(aws: AwsAccess, region?: string) {
  return {
    region,
    endpoint: aws.endpoint,
    credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
  };
}

/** The store's provider config pointing at the backend, with its credentials Secret. */
function storeProvider(
  b: Backend,
  bed: SyncBed,
  creds: string,
): { provider: Record<string, unknown>; secret: Record<string, string> } {
  const ref = (key: string) => ({
    name: creds,
    key,
    ...(b.storeKind === 'ClusterSecretStore' ? { namespace: b.storeNamespace } : {}),
  });
  const own = { ...(b.own ?? {}) };
  switch (b.provider) {
    case 'aws':
      return {
        provider: {
          aws: {
            service: b.service,
            region: b.region,
            auth: { secretRef: { accessKeyIDSecretRef: ref('id'), secretAccessKeySecretRef: ref('secret') } },
          },
        },
        secret: { id: bed.aws.accessKeyId, secret: bed.aws.secretAccessKey },
      };
    case 'vault':
      for (const k of ['caBundle', 'caProvider', 'tls', 'namespace', 'auth', 'server']) delete own[k];
      return {
        provider: {
          vault: {
            path: 'secret',
            version: 'v2',
            ...own,
            server: bed.vault.address,
            namespace: b.vaultNamespace,
            auth: { tokenSecretRef: ref('token') },
          },
        },
        secret: { token: bed.vault.rootToken },
      };
    case 'gcpsm':
      return {
        provider: {
          gcpsm: {
            projectID: b.project,
            transport: 'REST',
            endpoint: bed.gcp.endpoint,
            auth: { secretRef: { secretAccessKeySecretRef: ref('credentials.json') } },
          },
        },
        secret: { 'credentials.json': serviceAccountKeyJson() },
      };
    case 'azurekv': {
      const kv = b.azure;
      if (!kv) throw new Error('no Key Vault test server');
      return {
        provider: {
          azurekv: {
            vaultUrl: kv.vaultUrl,
            environmentType: 'AzureStackCloud',
            customCloudConfig: { activeDirectoryEndpoint: kv.authorityHost },
            tenantId: AZURE_TENANT,
            authSecretRef: { clientId: ref('id'), clientSecret: ref('secret') },
          },
        },
        secret: { id: 'eso-examples', secret: 'eso-examples-secret' },
      };
    }
    default: {
      const data = [...b.seeds.values()].map((s) => ({
        key: s.name,
        value: seedBytes(s).toString(),
        ...(s.version !== undefined ? { version: s.version } : {}),
      }));
      return { provider: { fake: { data } }, secret: {} };
    }
  }
}

async function ensureNamespace(core: CoreV1Api, name: string, labels?: Record<string, string>): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels } } }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
}

/** Waits until the store was reconciled at its current generation; its Ready condition. */
async function storeReconciled(custom: CustomObjectsApi, b: Backend, deadline: number) {
  const plural = b.storeKind === 'ClusterSecretStore' ? 'clustersecretstores' : 'secretstores';
  for (;;) {
    const store = (
      b.storeKind === 'ClusterSecretStore'
        ? await custom.getClusterCustomObject({ ...group, plural, name: b.storeName })
        : await custom.getNamespacedCustomObject({ ...group, plural, namespace: b.storeNamespace, name: b.storeName })
    ) as {
      metadata: { generation?: number };
      status?: { conditions?: { type: string; status: string; message?: string; observedGeneration?: number }[] };
    };
    const ready = store.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready && ready.observedGeneration === store.metadata.generation) return ready;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface SyncOptions {
  /** Per-run prefix of namespaces, Vault namespaces and projects. */
  run?: string;
  /** How long every example gets to become Ready, all waiting together. */
  timeoutMs?: number;
  /** How long a Ready=False must last before it counts (a first read may race the store's cache). */
  settleMs?: number;
}

/**
 * Syncs every accepted in-scope ExternalSecret/ClusterExternalSecret example of `m` on the API
 * server of `kc`, where a Ferry controller watching every namespace must be running. Key Vault
 * test servers are started here (and trusted by this process) and stopped before it returns.
 */
export async function measureSync(
  kc: KubeConfig,
  m: Measurement,
  examples: Example[],
  bed: SyncBed,
  opts: SyncOptions = {},
): Promise<SyncResult[]> {
  const run = opts.run ?? randomBytes(2).toString('hex');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const settleMs = opts.settleMs ?? 3_000;
  withoutMetadataServer();
  const { plans, backends } = plan(m, examples, run);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const servers: KeyVaultTestServer[] = [];
  try {
    // Backends and stores, in parallel.
    const namespaces = new Set([
      ...plans.map((p) => p.namespace),
      ...[...backends.values()].map((b) => b.storeNamespace),
    ]);
    const ces = new Set(plans.filter((p) => p.result.kind === 'ClusterExternalSecret').map((p) => p.namespace));
    await Promise.all([...namespaces].map((n) => ensureNamespace(core, n, ces.has(n) ? cesLabels(n) : undefined)));
    const storeProblems = new Map<string, string>();
    await Promise.all(
      [...backends.values()].map(async (b) => {
        try {
          if (b.provider === 'azurekv') {
            b.azure = await KeyVaultTestServer.start({ tenantId: AZURE_TENANT, ...bed.azure });
            servers.push(b.azure);
            b.azure.trustInThisProcess();
            b.azure.apps.set('eso-examples', { clientId: 'eso-examples', secret: 'eso-examples-secret' });
          }
          await applySeeds(b, bed);
          const creds = `exs-store-${b.storeName}`.slice(0, 63).replace(/-$/, '');
          const { provider, secret } = storeProvider(b, bed, creds);
          if (Object.keys(secret).length) {
            await core.createNamespacedSecret({
              namespace: b.storeNamespace,
              body: { metadata: { name: creds }, stringData: secret },
            });
          }
          const body = {
            apiVersion: 'ferry.dev/v1alpha1',
            kind: b.storeKind,
            metadata: { name: b.storeName },
            spec: { provider },
          };
          if (b.storeKind === 'ClusterSecretStore')
            await custom.createClusterCustomObject({ ...group, plural: 'clustersecretstores', body });
          else
            await custom.createNamespacedCustomObject({
              ...group,
              plural: 'secretstores',
              namespace: b.storeNamespace,
              body,
            });
          const ready = await storeReconciled(custom, b, Date.now() + timeoutMs);
          if (ready?.status !== 'True')
            storeProblems.set(b.id, `store ${b.storeName} not Ready: ${ready?.message ?? 'never reconciled'}`);
        } catch (err) {
          storeProblems.set(b.id, `the bed could not provide store ${b.storeName}: ${(err as Error).message}`);
        }
      }),
    );
    // The examples, all at once.
    const expected = new Map(plans.map((p) => [p, expectFor(p)]));
    const results = await Promise.all(
      plans.map(async (p): Promise<SyncResult> => {
        const base = { id: p.result.id, kind: p.result.kind, provider: p.result.provider, backend: p.backend.label };
        const problem = p.problem ?? storeProblems.get(p.backend.id);
        if (problem) return { ...base, synced: false, reason: problem };
        try {
          await createExample(custom, p);
        } catch (err) {
          return { ...base, synced: false, reason: `applying it failed: ${(err as Error).message}` };
        }
        const outcome = await waitForOutcome(core, custom, p, expected.get(p) as Expected, timeoutMs, settleMs);
        return { ...base, ...outcome };
      }),
    );
    return results;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const cesLabels = (namespace: string) => ({ 'eso-examples.ferry.dev/namespace': namespace });

async function createExample(custom: CustomObjectsApi, p: Plan): Promise<void> {
  const { status: _s, ...rest } = p.object;
  const metadata = { ...((rest.metadata as Record<string, unknown>) ?? {}) };
  if (p.result.kind === 'ExternalSecret') {
    metadata.namespace = p.namespace;
    await custom.createNamespacedCustomObject({
      ...group,
      plural: 'externalsecrets',
      namespace: p.namespace,
      body: { ...rest, metadata },
    });
    return;
  }
  // A ClusterExternalSecret stamps its copy into the example's namespace (labelled at creation),
  // which it selects instead of the namespaces the doc names.
  delete metadata.namespace;
  const spec = { ...(rest.spec as Record<string, unknown>) };
  delete spec.namespaces;
  delete spec.namespaceSelector;
  spec.namespaceSelectors = [{ matchLabels: cesLabels(p.namespace) }];
  const ferry = ferryKinds().get('ClusterExternalSecret');
  await custom.createClusterCustomObject({
    ...group,
    plural: ferry?.plural ?? 'clusterexternalsecrets',
    body: { ...rest, metadata, spec },
  });
}

async function waitForOutcome(
  core: CoreV1Api,
  custom: CustomObjectsApi,
  p: Plan,
  want: Expected,
  timeoutMs: number,
  settleMs: number,
): Promise<{ synced: boolean; reason?: string }> {
  const deadline = Date.now() + timeoutMs;
  let falseSince: number | undefined;
  let wrongSince: number | undefined;
  let last = 'no Ready condition';
  for (;;) {
    const es = (await custom
      .getNamespacedCustomObject({ ...group, plural: 'externalsecrets', namespace: p.namespace, name: p.esName })
      .catch(() => undefined)) as
      | { status?: { conditions?: { type: string; status: string; message?: string }[] } }
      | undefined;
    const ready = es?.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') {
      falseSince = undefined;
      const secret = await core
        .readNamespacedSecret({ namespace: p.namespace, name: p.targetName })
        .catch(() => undefined);
      const wrong = secret ? checkSecret(secret, want) : `Ready, but Secret ${p.targetName} does not exist`;
      if (!wrong) return { synced: true };
      last = wrong;
      wrongSince ??= Date.now();
      if (Date.now() - wrongSince > settleMs) return { synced: false, reason: wrong };
    } else if (ready?.status === 'False') {
      last = `Ready=False: ${ready.message}`;
      falseSince ??= Date.now();
      if (Date.now() - falseSince > settleMs) return { synced: false, reason: last };
    } else if (!es) {
      last = `ExternalSecret ${p.namespace}/${p.esName} does not exist`;
    }
    if (Date.now() > deadline) return { synced: false, reason: `after ${timeoutMs / 1000} s: ${last}` };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Attaches the notSynced entry explaining each failure: by example id, else by text of its reason. */
export function explainSync(results: SyncResult[], entries: NotSyncedEntry[]): void {
  for (const r of results) {
    if (r.synced) continue;
    r.explainedBy =
      entries.find((e) => e.example === r.id) ?? entries.find((e) => e.message && r.reason?.includes(e.message));
  }
}

export function unusedSyncEntries(results: SyncResult[], entries: NotSyncedEntry[]): NotSyncedEntry[] {
  const used = new Set(results.map((r) => r.explainedBy));
  return entries.filter((e) => !used.has(e));
}

export function formatSync(results: SyncResult[]): string {
  const synced = results.filter((r) => r.synced);
  const failed = results.filter((r) => !r.synced);
  const lines = [
    `Ferry syncs ${synced.length} of ${results.length} accepted ExternalSecret examples (provider on the bed)`,
    `  not synced, explained in test/fixtures/eso-examples/scope.yaml (notSynced): ${failed.filter((r) => r.explainedBy).length}`,
    `  not synced, not explained: ${failed.filter((r) => !r.explainedBy).length}`,
  ];
  for (const r of synced) lines.push(`  synced ${r.id} ${r.kind} [${r.backend}]`);
  for (const r of failed) {
    lines.push(`  NOT SYNCED ${r.id} ${r.kind} [${r.backend}]: ${r.reason}`);
    lines.push(r.explainedBy ? `    explained: ${r.explainedBy.reason}` : '    NOT EXPLAINED');
  }
  return lines.join('\n');
}
