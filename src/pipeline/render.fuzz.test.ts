// Property tests (fast-check) for the render step: whatever a provider returns — binary, huge,
// invalid UTF-8, deeply nested JSON, odd keys — rendering either succeeds or fails with a
// RenderError that names the key, and no error message carries the value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import type { FetchedValue } from '../providers/provider.ts';
import { SecretValue } from '../values.ts';
import { RenderError, readId, renderSecretData } from './render.ts';

const CANARY = 'CANARY-3b9f0c';

/** Nested JSON as text, `depth` levels deep, with the canary at the bottom. */
const deepJson = (depth: number, array: boolean) =>
  array
    ? `${'['.repeat(depth)}"${CANARY}"${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}"${CANARY}"${'}'.repeat(depth)}`;

const oddKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', '.', '..', 'a.b', 'a/b', '__proto__', 'constructor', 'ключ', 'k'.repeat(300), 'a b', 'a\u0000b'),
);

/** Payloads as a provider could return them, each carrying the canary somewhere. */
const payload: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from(b), Buffer.from(CANARY)])),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Buffer.from(s + CANARY, 'utf8')),
  fc.constant(Buffer.from([0xff, 0xfe, 0xc3, 0x28, ...Buffer.from(CANARY), 0xa0, 0xa1])),
  fc
    .dictionary(
      oddKey,
      fc.oneof(
        fc.constant(CANARY),
        fc.json({ maxDepth: 3 }).map((j) => JSON.parse(j)),
      ),
      {
        maxKeys: 6,
      },
    )
    .map((o) => Buffer.from(JSON.stringify({ ...o, secret: CANARY }))),
  fc.integer({ min: 1, max: 120_000 }).chain((d) => fc.boolean().map((a) => Buffer.from(deepJson(d, a)))),
  fc.constant(Buffer.from(`{"big":"${CANARY}${'x'.repeat(1024 * 1024)}"}`)),
  fc.constant(Buffer.from(Buffer.from(`{"b64":"${CANARY}"}`).toString('base64'))),
);

const decoding = fc.constantFrom(undefined, 'None', 'Base64', 'Base64URL', 'Auto') as fc.Arbitrary<
  'None' | 'Base64' | 'Base64URL' | 'Auto' | undefined
>;
const property = fc.option(fc.oneof(oddKey, fc.constantFrom('a', 'a.a.a', 'secret', 'big', 'b64')), {
  nil: undefined,
});

const spec: fc.Arbitrary<ExternalSecretSpec> = fc.record({
  secretStoreRef: fc.constant({ name: 'store' }),
  data: fc.array(
    fc.record({
      secretKey: fc.constantFrom('a', 'b', 'c.d'),
      remoteRef: fc.record({ key: fc.constantFrom('k1', 'k2'), property, decodingStrategy: decoding }),
    }),
    { maxLength: 3 },
  ),
  dataFrom: fc.array(
    fc.record({
      extract: fc.record({ key: fc.constantFrom('k1', 'k2'), property, decodingStrategy: decoding }),
      rewrite: fc.constantFrom(
        undefined,
        [{ regexp: { source: '(.*)', target: 'x-$1' } }],
        [{ regexp: { source: '.', target: '' } }],
      ),
    }),
    { maxLength: 2 },
  ),
}) as fc.Arbitrary<ExternalSecretSpec>;

function fetched(k1: Buffer, k2: Buffer): Map<string, FetchedValue> {
  return new Map([
    [readId({ key: 'k1' }), { value: SecretValue.fromBytes(k1) } as FetchedValue],
    [readId({ key: 'k2' }), { value: SecretValue.fromBytes(k2) } as FetchedValue],
  ]);
}

describe('render under arbitrary provider payloads', () => {
  it('either renders or throws a RenderError that carries no value', () => {
    fc.assert(
      fc.property(spec, payload, payload, (s, k1, k2) => {
        try {
          const out = renderSecretData(s, fetched(k1, k2));
          for (const key of out.keys()) expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
        } catch (err) {
          expect(err).toBeInstanceOf(RenderError);
          expect((err as Error).message).not.toContain(CANARY);
        }
      }),
      { numRuns: 300 },
    );
    // A 1 MiB payload is among the cases: generous time on a loaded 2-core machine.
  }, 60_000);

  it('a property that points into JSON nested deeper than the stack allows is a RenderError naming the key', () => {
    const deep = Buffer.from(deepJson(200_000, false));
    const s = {
      secretStoreRef: { name: 'store' },
      data: [{ secretKey: 'a', remoteRef: { key: 'k1', property: 'a' } }],
    } as ExternalSecretSpec;
    expect(() => renderSecretData(s, fetched(deep, deep))).toThrow(RenderError);
    expect(() => renderSecretData(s, fetched(deep, deep))).toThrow(/secretKey "a"/);
  });
});
