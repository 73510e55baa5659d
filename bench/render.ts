// Render latency: what the read pipeline's render step (ReadPipeline.render: property selection,
// dataFrom, then target.template) costs per ExternalSecret, with no server involved.
//
//   npm run bench:render -- [--batches 30] [--per-batch 200] [--workers 1]
//
// Shapes: `plain` (10 keys, no template), `template` (10 keys and 6 template.data entries of the
// kinds ESO's guides use), `keys-and-values` (a templateFrom literal rendered as a YAML map),
// `looped` (the template shape plus a `range until 10`, which a render worker runs: the pool's
// round trip; compare with --workers 0). Each line says where the shape rendered.
// Each is timed one render at a time (latency) and 20 in flight at once (what the controller's
// default --concurrency asks of it). Figures are the median and 90th percentile of the per-render
// time over the batches; nothing passes or fails. Timings depend on the machine's load.
// --workers is the render pool's size, as the controller's --render-workers (0: on the main thread).
import { parseArgs } from 'node:util';
import type { ExternalSecretSpec } from '../src/api/v1alpha1/external-secret.ts';
import type { FetchOutcome } from '../src/pipeline/fetch.ts';
import { rendersInline } from '../src/pipeline/inline-render.ts';
import { noTemplateSources, ReadPipeline, type ReadPipelineDeps } from '../src/pipeline/read-pipeline.ts';
import { readId } from '../src/pipeline/render.ts';
import { RenderPool } from '../src/pipeline/render-pool.ts';
import { SecretValue } from '../src/values.ts';

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '30' },
    'per-batch': { type: 'string', default: '200' },
    workers: { type: 'string', default: '1' },
  },
});
const BATCHES = Number(args.batches);
const PER_BATCH = Number(args['per-batch']);

const KEYS = Array.from({ length: 10 }, (_, i) => `key-${i}`);

function outcome(): FetchOutcome {
  const values = new Map(
    KEYS.map((k, i) => [
      readId({ key: k }),
      {
        value: SecretValue.fromString(
          i === 0 ? JSON.stringify({ user: 'app', pass: 'pa ss/wörd', port: 5432 }) : `value-${i}-${'x'.repeat(40)}`,
        ),
      },
    ]),
  );
  return { values, errors: new Map(), keys: new Map(), found: new Map(), filtered: new Map(), slots: new Map() };
}

const data = KEYS.map((k) => ({ secretKey: k.replace('-', '_'), remoteRef: { key: k } }));
const SHAPES: Record<string, ExternalSecretSpec> = {
  plain: { secretStoreRef: { name: 's' }, data },
  template: {
    secretStoreRef: { name: 's' },
    data,
    target: {
      template: {
        mergePolicy: 'Merge',
        data: {
          url: '{{ $c := .key_0 | fromJson }}postgres://{{ $c.user }}:{{ $c.pass | urlquery }}@db:{{ $c.port }}/app',
          'config.json': '{{ dict "token" .key_1 "other" .key_2 | toJson }}',
          upper: '{{ .key_3 | upper }}',
          b64: '{{ .key_4 | b64enc }}',
          joined: '{{ list .key_5 .key_6 | join "," }}',
          sha: '{{ .key_7 | sha256sum }}',
        },
      },
    },
  },
  'keys-and-values': {
    secretStoreRef: { name: 's' },
    data,
    target: {
      template: {
        templateFrom: [
          {
            literal:
              '{{ range $k, $v := . }}{{ $k }}: {{ $v | b64enc | quote }}\n{{ end }}extra: {{ .key_8 | trunc 8 | quote }}',
          },
        ],
      },
    },
  },
};
SHAPES.looped = {
  ...SHAPES.template,
  target: {
    template: {
      ...SHAPES.template?.target?.template,
      data: { ...SHAPES.template?.target?.template?.data, looped: '{{ range until 10 }}{{ . }},{{ end }}' },
    },
  },
};

// render() uses none of the read side's clients or stores. The pool is the controller's default.
const renders = new RenderPool({ workers: Number(args.workers), timeoutMs: 10_000 });
const pipeline = new ReadPipeline({ shareWindowMs: 0, renders } as unknown as ReadPipelineDeps);
const sources = noTemplateSources('the benchmark');

async function renderOnce(spec: ExternalSecretSpec, fetched: FetchOutcome): Promise<void> {
  const rendered = await pipeline.render(spec, fetched, sources);
  if (rendered.data.size === 0) throw new Error('rendered nothing');
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function time(spec: ExternalSecretSpec, inFlight: number): Promise<{ median: number; p90: number }> {
  const fetched = outcome();
  for (let i = 0; i < 300; i++) await renderOnce(spec, fetched);
  const perRender: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < PER_BATCH; i += inFlight) {
      await Promise.all(Array.from({ length: inFlight }, () => renderOnce(spec, fetched)));
    }
    perRender.push(Number(process.hrtime.bigint() - start) / 1000 / PER_BATCH);
  }
  perRender.sort((a, b) => a - b);
  return { median: quantile(perRender, 0.5), p90: quantile(perRender, 0.9) };
}

process.stdout.write(`render latency: µs per render, median (p90) of ${BATCHES} batches of ${PER_BATCH}\n`);
for (const [name, spec] of Object.entries(SHAPES)) {
  const one = await time(spec, 1);
  const twenty = await time(spec, 20);
  const where =
    renders && Number(args.workers) > 0 && !rendersInline({ spec, ...outcome(), templateFrom: [] })
      ? 'worker'
      : 'inline';
  process.stdout.write(
    `  ${name.padEnd(16)} ${where} one at a time ${one.median.toFixed(1).padStart(7)} (${one.p90.toFixed(1)})` +
      `   20 in flight ${twenty.median.toFixed(1).padStart(7)} (${twenty.p90.toFixed(1)})\n`,
  );
}
await renders.close();
