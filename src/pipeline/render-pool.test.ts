import { afterEach, describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import { SecretValue } from '../values.ts';
import { INLINE_MAX_VALUE_BYTES, rendersInline } from './inline-render.ts';
import { readId } from './render.ts';
import { RenderError } from './render-error.ts';
import type { RenderJob } from './render-job.ts';
import { RenderPool } from './render-pool.ts';

const CANARY = 'canary-7f3a-render-pool';
const BINARY = Buffer.from([0, 255, 128, 10, 0xc3, 0x28]);

/**
 * A job reading `secret` (the canary), `bin` (bytes that are not UTF-8) and `pad` (more bytes than
 * a render kept inline may read, so every template goes to a worker), with `template`.
 */
function job(template: NonNullable<ExternalSecretSpec['target']>['template']): RenderJob {
  const spec: ExternalSecretSpec = {
    secretStoreRef: { name: 's' },
    data: [
      { secretKey: 'secret', remoteRef: { key: 'app' } },
      { secretKey: 'bin', remoteRef: { key: 'blob' } },
      { secretKey: 'pad', remoteRef: { key: 'pad' } },
    ],
    target: { template },
  };
  return {
    spec,
    values: new Map([
      [readId({ key: 'app' }), { value: SecretValue.fromString(CANARY) }],
      [readId({ key: 'blob' }), { value: SecretValue.fromBytes(BINARY) }],
      [readId({ key: 'pad' }), { value: SecretValue.fromBytes(Buffer.alloc(INLINE_MAX_VALUE_BYTES)) }],
    ]),
    found: new Map(),
    templateFrom: [],
  };
}

/** A template that only burns CPU: 2^40 calls of a defined template, within every step limit. */
const CPU_LOOP =
  '{{ define "burn" }}{{ if lt . 40 }}{{ template "burn" (add1 .) }}{{ template "burn" (add1 .) }}{{ end }}{{ end }}{{ template "burn" 0 }}';

async function failure(p: Promise<unknown>): Promise<RenderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RenderError);
  return err as RenderError;
}

let pool: RenderPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('RenderPool', () => {
  it('renders in a worker: values cross as bytes both ways, binary ones unchanged, labels and annotations too', async () => {
    pool = new RenderPool({ workers: 1, timeoutMs: 10_000 });
    const rendered = await pool.render(
      job({
        mergePolicy: 'Merge',
        data: { copy: '{{ .secret }}', b64: '{{ .bin | b64enc }}' },
        metadata: { labels: { app: '{{ "web" }}' }, annotations: { note: 'length {{ len .secret }}' } },
      }),
      'ns-a',
    );
    expect(rendered.data.get('copy')?.revealText()).toBe(CANARY);
    expect(rendered.data.get('secret')?.revealText()).toBe(CANARY);
    expect(rendered.data.get('bin')?.reveal()).toEqual(BINARY);
    expect(rendered.data.get('b64')?.revealText()).toBe(BINARY.toString('base64'));
    expect(rendered.labels).toEqual({ app: 'web' });
    expect(rendered.annotations).toEqual({ note: `length ${CANARY.length}` });
  });

  it('stops a render past its time limit, names the template that ran, and serves the next render', async () => {
    pool = new RenderPool({ workers: 1, timeoutMs: 500 });
    const err = await failure(pool.render(job({ data: { ok: 'fine', bomb: CPU_LOOP } }), 'ns-a'));
    expect(err.message).toBe(
      'spec.target.template.data["bomb"]: stopped after 0.5s, the longest one render may run (--render-timeout)',
    );
    const next = await pool.render(job({ data: { ok: '{{ .secret | upper }}' } }), 'ns-b');
    expect(next.data.get('ok')?.revealText()).toBe(CANARY.toUpperCase());
  });

  it('refuses costly functions past the render budget, with an error that names the budget and no value', async () => {
    pool = new RenderPool({ workers: 1, timeoutMs: 60_000 });
    const err = await failure(
      pool.render(job({ data: { hashes: '{{ range until 40 }}{{ htpasswd "u" $.secret }}{{ end }}' } }), 'ns-a'),
    );
    expect(err.message).toMatch(
      /^spec\.target\.template\.data\["hashes"\]: .*error calling htpasswd: the render's budget/,
    );
    expect(err.message).not.toContain(CANARY);
  });

  it("keeps values out of a worker's errors", async () => {
    pool = new RenderPool({ workers: 1, timeoutMs: 10_000 });
    const messages = await Promise.all(
      [
        '{{ .secret | fromJson }}',
        '{{ fail .secret }}',
        '{{ .secret | toJson | fromYaml | keys }}',
        '{{ index .secret 99 }}',
        '{{ .secret | mustRegexFind "(" }}',
      ].map(async (t) => (await failure(pool?.render(job({ data: { k: t } }), 'ns-a') as Promise<unknown>)).message),
    );
    for (const m of messages) {
      expect(m).toMatch(/^spec\.target\.template\.data\["k"\]: /);
      expect(m).not.toContain(CANARY);
      expect(m).not.toContain(CANARY.slice(0, 12));
    }
  });

  it('serves waiting tenants in turn: a namespace with a queue cannot keep another behind it', async () => {
    pool = new RenderPool({ workers: 1, timeoutMs: 30_000 });
    await pool.render(job({ data: { k: 'started' } }), 'ns-a');
    const slow = job({ data: { k: '{{ range until 20000 }}{{ $.secret | sha256sum | trunc 1 }}{{ end }}' } });
    const done: string[] = [];
    const track = (name: string, p: Promise<unknown>) => p.then(() => done.push(name));
    // a1 starts at once; a2..a4 wait; b1 arrives last, while ns-a's render runs.
    const a = [1, 2, 3, 4].map((i) => track(`a${i}`, (pool as RenderPool).render(slow, 'ns-a')));
    const b = track('b1', pool.render(job({ data: { k: '{{ .secret }}' } }), 'ns-b'));
    await Promise.all([...a, b]);
    expect(done).toEqual(['a1', 'b1', 'a2', 'a3', 'a4']);
    // Queued together before any ran, the first tenant's first render goes first, then the other's.
    const c = [1, 2].map((i) => track(`c${i}`, (pool as RenderPool).render(slow, 'ns-c')));
    const d = track('d1', pool.render(slow, 'ns-d'));
    await Promise.all([...c, d]);
    expect(done.slice(5)).toEqual(['c1', 'd1', 'c2']);
  });

  it('starts a straight-line render over in a worker when it handles more bytes than an inline render may', async () => {
    pool = new RenderPool({ workers: 1, timeoutMs: 10_000 });
    const big = 'x'.repeat(INLINE_MAX_VALUE_BYTES / 2);
    const small: RenderJob = {
      spec: {
        secretStoreRef: { name: 's' },
        data: [{ secretKey: 'big', remoteRef: { key: 'big' } }],
        target: { template: { data: { n: '{{ .big | len }}'.repeat(40) } } },
      },
      values: new Map([[readId({ key: 'big' }), { value: SecretValue.fromString(big) }]]),
      found: new Map(),
      templateFrom: [],
    };
    expect(rendersInline(small)).toBe(true);
    const rendered = await pool.render(small, 'ns-a');
    expect(rendered.data.get('n')?.revealText()).toBe(String(big.length).repeat(40));
  });

  it('with workers 0 renders every spec on the calling thread', async () => {
    pool = new RenderPool({ workers: 0, timeoutMs: 1 });
    const rendered = await pool.render(
      job({ data: { k: '{{ range list 1 }}{{ $.secret | lower }}{{ end }}' } }),
      'ns-a',
    );
    expect(rendered.data.get('k')?.revealText()).toBe(CANARY.toLowerCase());
  });

  it('writes the same htpasswd hash in a worker, in a replaced worker and on the main thread', async () => {
    const hashed = job({ data: { line: '{{ htpasswd "admin" .secret }}' } });
    const inline = (await new RenderPool({ workers: 0, timeoutMs: 1 }).render(hashed, 'ns-a')).data.get('line');
    pool = new RenderPool({ workers: 1, timeoutMs: 1_000 });
    const first = (await pool.render(hashed, 'ns-a')).data.get('line');
    await failure(pool.render(job({ data: { bomb: CPU_LOOP } }), 'ns-b'));
    const replaced = (await pool.render(hashed, 'ns-a')).data.get('line');
    expect(first?.revealText()).toMatch(/^admin:\$2a\$10\$/);
    expect(replaced?.revealText()).toBe(first?.revealText());
    expect(inline?.revealText()).toBe(first?.revealText());
  });

  it('fails renders still waiting when it is closed', async () => {
    pool = new RenderPool({ workers: 1, timeoutMs: 10_000 });
    await pool.render(job({ data: { k: 'started' } }), 'ns-a');
    const running = failure(pool.render(job({ data: { bomb: CPU_LOOP } }), 'ns-a'));
    const waiting = failure(pool.render(job({ data: { k: 'x' } }), 'ns-a'));
    await pool.close();
    expect((await running).message).toBe('the render was stopped');
    expect((await waiting).message).toMatch(/stopping; the render was not started/);
  });
});
