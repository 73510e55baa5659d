// Applies target.template the way ESO does: templateFrom in order, then template.data (which
// wins), then the label and annotation templates; mergePolicy Merge keeps the fetched keys under
// the rendered ones; no data and no templateFrom writes the fetched keys as they are.
// Every error names the template key; rendered values never appear in one.
import { type ExternalSecretSpec, isSecretKey } from '../api/v1alpha1/external-secret.ts';
import {
  ByteLimitReached,
  compileTemplate,
  executeTemplate,
  parseYamlMap,
  TemplateError,
  templateData,
} from '../template/index.ts';
import { type SecretData, SecretValue } from '../values.ts';
import { RenderError } from './render.ts';

type Template = NonNullable<NonNullable<ExternalSecretSpec['target']>['template']>;
type TemplateFromItem = NonNullable<Template['templateFrom']>[number];
type TargetKind = NonNullable<TemplateFromItem['target']>;

/** Where templateFrom reads its ConfigMaps and Secrets (the ExternalSecret's namespace). */
export interface TemplateSources {
  configMap(name: string): Promise<Record<string, string> | undefined>;
  secret(name: string): Promise<Record<string, Buffer> | undefined>;
}

export interface RenderedTarget {
  data: SecretData;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

class Renderer {
  readonly out: RenderedTarget;
  private readonly data: Record<string, unknown>;
  private readonly onTemplate: ((where: string) => void) | undefined;

  constructor(fetched: SecretData, mergeFetched: boolean, onTemplate?: (where: string) => void) {
    this.data = templateData(new Map([...fetched].map(([k, v]) => [k, v.reveal()])));
    this.out = { data: new Map(mergeFetched ? fetched : []), labels: {}, annotations: {} };
    this.onTemplate = onTemplate;
  }

  private render(where: string, key: string, source: string): Buffer {
    this.onTemplate?.(where);
    try {
      return executeTemplate(key, compileTemplate(key, source), this.data);
    } catch (err) {
      if (err instanceof TemplateError && !(err instanceof ByteLimitReached)) {
        throw new RenderError(`${where}: ${err.message}`);
      }
      throw err;
    }
  }

  private put(where: string, target: TargetKind, key: string, value: Buffer): void {
    if (target === 'Data') {
      if (!isSecretKey(key)) {
        throw new RenderError(
          `${where}: rendered key "${key}" is not a valid Secret key (letters, digits, -, _ and . only, not "." and not starting "..")`,
        );
      }
      this.out.data.set(key, SecretValue.fromBytes(value));
      return;
    }
    const what = target === 'Labels' ? 'label' : 'annotation';
    if (!QUALIFIED_NAME.test(key) || key.length > 317)
      throw new RenderError(`${where}: "${key}" is not a valid ${what} key`);
    const text = value.toString('utf8');
    if (target === 'Labels' && (text.length > 63 || !LABEL_VALUE.test(text))) {
      throw new RenderError(
        `${where}: the rendered value of label "${key}" is not a valid label value (at most 63 letters, digits, -, _ and ., starting and ending alphanumeric)`,
      );
    }
    (target === 'Labels' ? this.out.labels : this.out.annotations)[key] = text;
  }

  /** Values: the template's output is the value of `key`. */
  values(where: string, target: TargetKind, key: string, source: string): void {
    this.put(where, target, key, this.render(where, key, source));
  }

  /** KeysAndValues: the template's output is a YAML map of keys to values. */
  keysAndValues(where: string, target: TargetKind, key: string, source: string): void {
    const rendered = this.render(where, key, source).toString('utf8');
    const map = parseYamlMap(rendered);
    if (!map) throw new RenderError(`${where}: the rendered output is not a YAML map of keys to values`);
    for (const [k, v] of map) this.put(where, target, k, Buffer.from(v, 'utf8'));
  }
}

/**
 * The ConfigMap or Secret items each templateFrom entry names, by entry: read before a render so
 * the render itself needs no I/O. `undefined` where the object does not exist, `null` where the
 * entry names none. A Secret's items are template text, read as UTF-8.
 */
export type TemplateFromSources = (Record<string, string> | undefined | null)[];

export async function readTemplateSources(
  template: Template | undefined,
  sources: TemplateSources,
): Promise<TemplateFromSources> {
  const out: TemplateFromSources = [];
  for (const from of template?.templateFrom ?? []) {
    const ref = from.configMap ?? from.secret;
    if (!ref) out.push(null);
    else if (from.configMap) out.push(await sources.configMap(ref.name));
    else out.push(await sources.secret(ref.name).then((s) => s && mapValues(s, (b) => b.toString('utf8'))));
  }
  return out;
}

/** The target of `template` over `fetched`, its templateFrom objects already read. Synchronous: no I/O. */
export function renderTargetFrom(
  template: Template | undefined,
  fetched: SecretData,
  read: TemplateFromSources,
  onTemplate?: (where: string) => void,
): RenderedTarget {
  const labels = template?.metadata?.labels ?? {};
  const annotations = template?.metadata?.annotations ?? {};
  const hasData = Object.keys(template?.data ?? {}).length > 0 || (template?.templateFrom?.length ?? 0) > 0;
  const r = new Renderer(fetched, !hasData || template?.mergePolicy === 'Merge', onTemplate);
  for (const [i, from] of (template?.templateFrom ?? []).entries()) {
    renderTemplateFrom(r, from, `spec.target.template.templateFrom[${i}]`, read[i]);
  }
  for (const [key, source] of Object.entries(template?.data ?? {})) {
    r.values(`spec.target.template.data["${key}"]`, 'Data', key, source);
  }
  for (const [key, source] of Object.entries(labels)) {
    r.values(`spec.target.template.metadata.labels["${key}"]`, 'Labels', key, source);
  }
  for (const [key, source] of Object.entries(annotations)) {
    r.values(`spec.target.template.metadata.annotations["${key}"]`, 'Annotations', key, source);
  }
  return r.out;
}

/** One templateFrom entry: its literal, then the items of its ConfigMap or Secret, in order. */
function renderTemplateFrom(
  r: Renderer,
  from: TemplateFromItem,
  base: string,
  found: Record<string, string> | undefined | null,
): void {
  const target = from.target ?? 'Data';
  if (from.literal !== undefined) r.keysAndValues(`${base}.literal`, target, 'literal', from.literal);
  const ref = from.configMap ?? from.secret;
  if (!ref) return;
  const kind = from.configMap ? 'ConfigMap' : 'Secret';
  if (!found) throw new RenderError(`${base}: ${kind} "${ref.name}" does not exist`);
  for (const item of ref.items) {
    const where = `${base} (${kind} "${ref.name}" key "${item.key}")`;
    const source = Object.hasOwn(found, item.key) ? found[item.key] : undefined;
    if (source === undefined) throw new RenderError(`${where}: the ${kind} has no such key`);
    if (item.templateAs === 'KeysAndValues') r.keysAndValues(where, target, item.key, source);
    else r.values(where, target, item.key, source);
  }
}

function mapValues<A, B>(o: Record<string, A>, fn: (a: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fn(v)]));
}

/** Reads templateFrom sources through a Kubernetes client, in one namespace. */
export function kubeTemplateSources(
  kube: {
    readConfigMap(ns: string, name: string): Promise<{ data?: Record<string, string> } | undefined>;
    readSecret(ns: string, name: string): Promise<{ data?: Record<string, string> } | undefined>;
  },
  namespace: string,
): TemplateSources {
  return {
    configMap: async (name) => (await kube.readConfigMap(namespace, name))?.data ?? undefined,
    secret: async (name) => {
      const s = await kube.readSecret(namespace, name);
      return s ? mapValues(s.data ?? {}, (v) => Buffer.from(v, 'base64')) : undefined;
    },
  };
}
