// One render as data that can cross to a worker thread and back: the spec, the fetched values as
// bytes in one transferred buffer, the find listings and the templateFrom objects already read.
// runRenderJob is the render step itself (renderSecretData, then the target template) under one
// budget of costly template functions; it does no I/O.
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import type { FetchedValue } from '../providers/provider.ts';
import { withCostBudget } from '../template/index.ts';
import { type SecretData, SecretValue } from '../values.ts';
import { renderSecretData } from './render.ts';
import { type RenderedTarget, renderTargetFrom, type TemplateFromSources } from './target-template.ts';

export interface RenderJob {
  spec: ExternalSecretSpec;
  /** Fetched values by read id (see readId). */
  values: Map<string, FetchedValue>;
  /** Names each dataFrom[].find listed, by dataFrom index. */
  found: Map<number, string[]>;
  templateFrom: TemplateFromSources;
}

/**
 * The render step, on the calling thread. `onTemplate` hears where each template starts; with
 * `maxBytes`, the render throws ByteLimitReached once its function calls read and made more.
 */
export function runRenderJob(job: RenderJob, onTemplate?: (where: string) => void, maxBytes?: number): RenderedTarget {
  return withCostBudget(
    () =>
      renderTargetFrom(
        job.spec.target?.template,
        renderSecretData(job.spec, job.values, job.found),
        job.templateFrom,
        onTemplate,
      ),
    maxBytes,
  );
}

/** Byte strings packed into one fresh buffer (never a pooled slab shared with other values). */
interface PackedBytes {
  names: string[];
  /** End offset of each value in `bytes`. */
  ends: number[];
  bytes: ArrayBuffer;
}

function pack(entries: [string, Buffer][]): PackedBytes {
  const total = entries.reduce((n, [, b]) => n + b.length, 0);
  const bytes = new ArrayBuffer(total);
  const view = new Uint8Array(bytes);
  const ends: number[] = [];
  let at = 0;
  for (const [, b] of entries) {
    view.set(b, at);
    at += b.length;
    ends.push(at);
  }
  return { names: entries.map(([n]) => n), ends, bytes };
}

function unpack(p: PackedBytes): [string, SecretValue][] {
  let start = 0;
  return p.names.map((name, i) => {
    const end = p.ends[i] as number;
    const value = SecretValue.fromBytes(new Uint8Array(p.bytes, start, end - start));
    start = end;
    return [name, value];
  });
}

/** A RenderJob as a worker receives it; `values.bytes` is transferred, not copied. */
export interface PackedRenderJob {
  spec: ExternalSecretSpec;
  values: PackedBytes;
  found: [number, string[]][];
  templateFrom: TemplateFromSources;
}

export function packJob(job: RenderJob): { message: PackedRenderJob; transfer: ArrayBuffer[] } {
  const values = pack([...job.values].map(([id, f]) => [id, f.value.reveal()]));
  const message = { spec: job.spec, values, found: [...job.found], templateFrom: job.templateFrom };
  return { message, transfer: [values.bytes] };
}

export function unpackJob(p: PackedRenderJob): RenderJob {
  return {
    spec: p.spec,
    values: new Map(unpack(p.values).map(([id, value]) => [id, { value }])),
    found: new Map(p.found),
    templateFrom: p.templateFrom,
  };
}

export interface PackedRenderedTarget {
  data: PackedBytes;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function packTarget(t: RenderedTarget): { message: PackedRenderedTarget; transfer: ArrayBuffer[] } {
  const data = pack([...t.data].map(([k, v]) => [k, v.reveal()]));
  return { message: { data, labels: t.labels, annotations: t.annotations }, transfer: [data.bytes] };
}

export function unpackTarget(p: PackedRenderedTarget): RenderedTarget {
  const data: SecretData = new Map(unpack(p.data));
  return { data, labels: p.labels, annotations: p.annotations };
}
