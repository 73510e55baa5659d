// Generated ExternalSecrets (fast-check) against the real API server and a running controller:
// whatever the API server admits gets a Ready condition that says what happened, what it refuses
// is refused naming a field, no value reaches logs, Events or status, and an ordinary
// ExternalSecret created next to them keeps syncing and rotating.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const CANARY = `canary-${randomBytes(8).toString('hex')}`;
const DEPTH = 20_000;

/** Provider payloads that have hurt parsers: deep, broken, binary-as-base64, large, non-ASCII. */
const PAYLOADS: Record<string, string> = {
  plain: CANARY,
  json: JSON.stringify({ a: CANARY, b: { c: CANARY }, 'bad key': CANARY, n: 1, list: [CANARY] }),
  deep: `${'{"a":'.repeat(DEPTH)}"${CANARY}"${'}'.repeat(DEPTH)}`,
  broken: `{"a": "${CANARY}`,
  b64: Buffer.from(`${CANARY}\u0000\u00ff`, 'latin1').toString('base64'),
  big: `${CANARY}${'x'.repeat(300_000)}`,
  unicode: `ключ🔑${CANARY}\u202e`,
};

/** Mostly values a user would write, sometimes ones the schema or the controller must refuse. */
const usually = <T>(good: T[], bad: T[]): fc.Arbitrary<T> =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...bad) });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const remoteKey = usually(Object.keys(PAYLOADS), ['missing']);
const property = maybe(usually(['a', 'b.c', 'bad key', 'list', 'n'], ['nope', '']));
const decodingStrategy = maybe(usually(['None', 'Auto'], ['Base64', 'Base64URL', 'Hex']));
/** A property only where the payload is JSON, usually: a property on text is a user error. */
const remoteRef = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ key: fc.constant('json'), property, decodingStrategy }, { requiredKeys: ['key'] }),
  },
  { weight: 3, arbitrary: fc.record({ key: remoteKey, decodingStrategy }, { requiredKeys: ['key'] }) },
  { weight: 1, arbitrary: fc.record({ key: remoteKey, property, decodingStrategy }, { requiredKeys: ['key'] }) },
);
const secretKey = usually(['a', 'b.c', 'x-y_z', 'k1', 'k2'], ['bad key', '', '..', 'k'.repeat(254)]);
const templateSource = usually(
  ['{{ .a }}', '{{ .a | upper | quote }}', '{{ range $k, $v := . }}{{ $k }},{{ end }}', 'literal'],
  ['{{ .a | b64dec }}', '{{ .a | fromJson | toJson }}', '{{ .missing }}', '{{ .a | nosuchfunction }}', '{{ if'],
);

const spec = (store: string): fc.Arbitrary<Record<string, unknown>> =>
  fc.record(
    {
      secretStoreRef: fc.constant({ name: store, kind: 'SecretStore' }),
      refreshInterval: usually(['0', '1s', '1h'], ['90m', 'soon', '-1s']),
      data: fc.array(
        fc.record(
          {
            secretKey,
            remoteRef,
          },
          { requiredKeys: ['secretKey', 'remoteRef'] },
        ),
        { maxLength: 3 },
      ),
      dataFrom: fc.array(
        fc.record(
          {
            extract: fc.record(
              { key: remoteKey, property: fc.constant(undefined), decodingStrategy },
              { requiredKeys: ['key'] },
            ),
            rewrite: usually(
              [[{ regexp: { source: '[^a-z]', target: '_' } }], [{ regexp: { source: '(.*)', target: 'p-$1' } }]],
              [[{ regexp: { source: '[', target: 'x' } }], [{ transform: { template: '{{ .value | upper }}' } }]],
            ),
          },
          { requiredKeys: ['extract'] },
        ),
        { maxLength: 1 },
      ),
      target: fc.record(
        {
          name: usually(['ok-name', 'shared-out'], ['UPPER', 'a..b']),
          creationPolicy: usually(['Owner', 'Orphan', 'Merge', 'None'], ['Sometimes']),
          deletionPolicy: usually(['Retain', 'Delete', 'Merge'], ['Never']),
          immutable: fc.boolean(),
          template: fc.record(
            {
              type: usually(['Opaque'], ['kubernetes.io/tls', 'kubernetes.io/dockerconfigjson']),
              mergePolicy: fc.constantFrom('Replace', 'Merge'),
              data: fc.dictionary(secretKey, templateSource, { maxKeys: 2 }),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['secretStoreRef', 'data'] },
  );

let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'fuzz');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
});

describe('generated ExternalSecrets', () => {
  it('each one admitted gets a clear Ready condition, the refused name a field, nothing leaks, and others keep syncing', async () => {
    const store = uniqueName('fuzz');
    await o.secretStore(store, {
      fake: {
        data: [
          ...Object.entries(PAYLOADS).map(([key, value]) => ({ key, value })),
          { key: 'control', value: 'control-v1' },
        ],
      },
    });
    const seed = Number(process.env.FERRY_FUZZ_SEED ?? Date.now() % 2 ** 31);
    process.stdout.write(`fuzz seed ${seed} (FERRY_FUZZ_SEED=${seed} repeats this run)\n`);
    const specs = fc.sample(spec(store), { numRuns: 120, seed });
    const admitted: string[] = [];
    const refusals: string[] = [];
    for (const [i, s] of specs.entries()) {
      const name = `fuzz-${i}`;
      try {
        await o.externalSecret(name, s as unknown as ExternalSecretSpec);
        admitted.push(name);
      } catch (err) {
        const body = (err as { body?: unknown }).body;
        const message = typeof body === 'string' ? body : JSON.stringify(body);
        expect((err as { code?: number }).code, message).toBe(422);
        expect(message, 'a refusal names the field').toMatch(/spec\.[a-zA-Z]/);
        refusals.push(name);
      }
    }
    process.stdout.write(
      `${admitted.length} of ${specs.length} admitted, ${refusals.length} refused by the API server\n`,
    );

    await o.externalSecret('control', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      target: { name: 'control-out' },
      data: [{ secretKey: 'v', remoteRef: { key: 'control' } }],
    });
    await o.waitForSecret('control-out', (d) => d.v === 'control-v1', 'the control Secret');

    const outcomes = new Map<string, number>();
    for (const name of admitted) {
      const ready = await eventually(
        `a Ready condition on ${name}`,
        async () => {
          const es = await o.getExternalSecret(name);
          return es.status?.conditions?.find((c) => c.type === 'Ready' && (c.message ?? '').length > 0);
        },
        60_000,
      );
      if (process.env.FERRY_FUZZ_VERBOSE) process.stdout.write(`${name}: ${ready.message}\n`);
      outcomes.set(`${ready.status} ${ready.reason}`, (outcomes.get(`${ready.status} ${ready.reason}`) ?? 0) + 1);
    }
    process.stdout.write(`Ready conditions: ${JSON.stringify(Object.fromEntries(outcomes))}\n`);
    // Both kinds of outcome happened, so the checks below covered written Secrets and refusals.
    expect([...outcomes.keys()].some((k) => k.startsWith('True'))).toBe(true);
    expect([...outcomes.keys()].some((k) => k.startsWith('False'))).toBe(true);

    // The control object still rotates.
    await o.patch('secretstores', store, {
      spec: {
        provider: {
          fake: {
            data: [
              ...Object.entries(PAYLOADS).map(([key, value]) => ({ key, value })),
              { key: 'control', value: 'control-v2' },
            ],
          },
        },
      },
    });
    await o.waitForSecret('control-out', (d) => d.v === 'control-v2', 'the control Secret rotated');

    const statuses = await Promise.all(admitted.map((n) => o.getExternalSecret(n).then((es) => JSON.stringify(es))));
    const events = JSON.stringify(await o.events());
    const b64 = Buffer.from(CANARY).toString('base64');
    for (const [what, text] of [
      ['logs', ctl.logs.join('\n')],
      ['events', events],
      ['status', statuses.join('\n')],
    ] as const) {
      expect(text.includes(CANARY), `the canary in ${what}`).toBe(false);
      expect(text.includes(b64), `the canary, base64, in ${what}`).toBe(false);
    }
  });
});
