// Which renders stay on the calling thread instead of a render worker: a spec without templates
// (property selection, decoding, dataFrom: work bounded by the values' size), and small
// straight-line templates over small values (each action runs at most once, only linear
// functions), which the pool runs with a limit on the bytes their calls read and make,
// INLINE_MAX_BYTES, starting them over in a worker past it. A worker's round trip costs more than
// such a render (docs/performance.md).
import { compileTemplate, runsStraight } from '../template/index.ts';
import type { RenderJob } from './render-job.ts';

/** Most templates (data, labels, annotations, templateFrom items) of a render kept inline. */
export const INLINE_MAX_TEMPLATES = 16;
/** Longest template source, in characters, of a render kept inline. */
export const INLINE_MAX_SOURCE = 1024;
/** Most bytes of values read by a templated render kept inline. */
export const INLINE_MAX_VALUE_BYTES = 64 * 1024;
/** Most bytes the function calls of an inline render may read and make (a few ms of one core). */
export const INLINE_MAX_BYTES = 1024 * 1024;

/** Every template source the render of `job` executes, as far as its objects were found. */
function templateSources(job: RenderJob): string[] {
  const t = job.spec.target?.template;
  const out = [
    ...Object.values(t?.data ?? {}),
    ...Object.values(t?.metadata?.labels ?? {}),
    ...Object.values(t?.metadata?.annotations ?? {}),
  ];
  for (const [i, from] of (t?.templateFrom ?? []).entries()) {
    if (from.literal !== undefined) out.push(from.literal);
    const found = job.templateFrom[i];
    for (const item of (from.configMap ?? from.secret)?.items ?? []) {
      const source = found && Object.hasOwn(found, item.key) ? found[item.key] : undefined;
      if (source !== undefined) out.push(source);
    }
  }
  return out;
}

export function rendersInline(job: RenderJob): boolean {
  if ((job.spec.dataFrom ?? []).some((d) => (d.rewrite ?? []).some((r) => r.transform !== undefined))) return false;
  const sources = templateSources(job);
  if (sources.length === 0) return true;
  if (sources.length > INLINE_MAX_TEMPLATES || sources.some((s) => s.length > INLINE_MAX_SOURCE)) return false;
  let bytes = 0;
  for (const f of job.values.values()) bytes += f.value.byteLength;
  if (bytes > INLINE_MAX_VALUE_BYTES) return false;
  return sources.every(straight);
}

/** Whether each source seen lately runs straight, so a refresh does not parse it twice. */
const STRAIGHT = new Map<string, boolean>();
const STRAIGHT_CACHE_SIZE = 1024;

function straight(source: string): boolean {
  const known = STRAIGHT.get(source);
  if (known !== undefined) return known;
  let answer: boolean;
  try {
    answer = runsStraight(compileTemplate('source', source));
  } catch {
    // A template that does not parse fails at once wherever it renders.
    answer = true;
  }
  STRAIGHT.set(source, answer);
  if (STRAIGHT.size > STRAIGHT_CACHE_SIZE) STRAIGHT.delete(STRAIGHT.keys().next().value as string);
  return answer;
}
