import { describe, expect, it } from 'vitest';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { Metrics } from '../../observability/metrics.ts';
import { fetchRemoteValues } from '../../pipeline/fetch.ts';
import type { Fetched } from '../../pipeline/index.ts';
import { settingsOf } from '../../pipeline/settings.ts';
import { ProviderError } from '../../providers/provider.ts';
import { SharedReads, type StoreHandle } from '../../providers/shared-reads.ts';
import { TokenBucket } from '../../rate-limit.ts';
import { SecretValue } from '../../values.ts';
import { decideMissing, noteVanishedNames, without } from './missing.ts';
import type { ObjectState } from './object-state.ts';

const es = (spec: ExternalSecret['spec'], generation = 1): ExternalSecret => ({
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'ExternalSecret',
  metadata: { name: 'es', namespace: 'ns', generation },
  spec: { refreshInterval: '1m', secretStoreRef: { name: 's' }, ...spec },
});

/** A fetch outcome with `missing` keys not found and `found` keys read. */
function fetched(missing: string[], opts: { found?: string[]; stores?: string } = {}): Fetched {
  const errors = new Map(missing.map((k) => [k, new ProviderError('NotFound', 'gone')]));
  return {
    values: new Map((opts.found ?? []).map((k) => [k, { value: SecretValue.fromString('v') }])),
    errors,
    keys: new Map(missing.map((k) => [k, k])),
    found: new Map(),
    filtered: new Map(),
    slots: new Map(),
    storeIdentity: opts.stores ?? 'store@1',
  };
}

/** No store finds nothing at all. */
const none = () => [];

describe('decideMissing', () => {
  const del = settingsOf(es({ target: { deletionPolicy: 'Delete' } }));
  const merge = settingsOf(es({ target: { deletionPolicy: 'Merge' } }));

  it('keeps everything under Retain, and acts on Delete and Merge only a refresh later', () => {
    const state: ObjectState = {};
    expect(decideMissing(fetched(['a']), settingsOf(es({})), state, 0, none).kind).toBe('wait');
    expect(decideMissing(fetched(['a']), del, state, 0, none).kind).toBe('wait');
    expect(decideMissing(fetched(['a']), del, state, 59_000, none).kind).toBe('wait');
    expect(decideMissing(fetched(['a']), del, state, 60_000, none).kind).toBe('delete');
    const m: ObjectState = {};
    decideMissing(fetched(['a'], { found: ['b'] }), merge, m, 0, none);
    expect(decideMissing(fetched(['a'], { found: ['b'] }), merge, m, 60_000, none)).toEqual({
      kind: 'merge',
      gone: new Set(['a']),
    });
  });

  it('starts the confirmation again when a store the keys are read through was edited', () => {
    const state: ObjectState = {};
    decideMissing(fetched(['a'], { stores: 'store@1' }), del, state, 0, none);
    // The store's generation moved between the two refreshes: the first sighting does not count.
    expect(decideMissing(fetched(['a'], { stores: 'store@2' }), del, state, 60_000, none).kind).toBe('wait');
    expect(decideMissing(fetched(['a'], { stores: 'store@2' }), del, state, 120_000, none).kind).toBe('delete');
  });

  it('never counts a not-found while a store finds nothing at all, and says why', () => {
    const state: ObjectState = {};
    decideMissing(fetched(['a', 'b']), del, state, 0, none);
    const held = decideMissing(fetched(['a', 'b']), del, state, 60_000, () => ['SecretStore/ns/s']);
    expect(held.kind).toBe('wait');
    expect(held.kind === 'wait' && held.note).toMatch(
      /nothing Ferry reads through SecretStore\/ns\/s is found, which looks like a misconfigured store/,
    );
    // Once the store finds something again, the confirmation counts from then, not from before.
    expect(decideMissing(fetched(['a', 'b']), del, state, 90_000, none).kind).toBe('wait');
    expect(decideMissing(fetched(['a', 'b']), del, state, 150_000, none).kind).toBe('delete');
  });
});

describe('dataFrom.find and deletionPolicy', () => {
  const names = (keys: string[]) => ({
    key: 'fake',
    providerName: 'fake',
    budget: new TokenBucket(1000, 1000),
    client: {
      async read(ref: { key: string }) {
        if (!keys.includes(ref.key)) throw new ProviderError('NotFound', 'gone');
        return { value: SecretValue.fromString(`v-${ref.key}`) };
      },
      async find() {
        return keys;
      },
      async validate() {},
      close() {},
    },
  });
  const reads = () => new SharedReads({ metrics: new Metrics(), signal: new AbortController().signal });
  const spec = { dataFrom: [{ extract: { key: 'x' } }, { find: { name: { regexp: '.*' } } }] };

  async function outcome(keys: string[]): Promise<Fetched> {
    const handle = names(keys) as unknown as StoreHandle;
    const f = await fetchRemoteValues(es(spec).spec, handle, reads(), 0);
    return { ...f, storeIdentity: 'fake' };
  }

  it('takes an empty listing as a not-found of the find, not as an empty Secret', async () => {
    const f = await outcome([]);
    expect(f.found.has(1)).toBe(false);
    expect([...f.errors.entries()].map(([, e]) => `${e.kind}: ${e.message}`)).toContain('NotFound: no secret matched');
    expect([...f.keys.values()]).toContain('dataFrom[1].find');
  });

  it('takes a name an earlier listing of this generation held as not found; a new generation starts afresh', async () => {
    const state: ObjectState = { found: { generation: 1, names: new Map([[1, ['a', 'b']]]) } };
    const f = await outcome(['x', 'a']);
    noteVanishedNames(es(spec).spec, 1, f, state);
    expect([...f.errors.keys()].map((id) => f.keys.get(id))).toEqual(['b", listed by "dataFrom[1].find']);
    const g = await outcome(['x', 'a']);
    noteVanishedNames(es(spec).spec, 2, g, state);
    expect(g.errors.size).toBe(0);
  });

  it('leaves a gone entry empty under Merge, so later listings keep their index', () => {
    const gone = new Set(['x\u0000']);
    expect(without(es(spec).spec, gone).dataFrom).toEqual([{}, spec.dataFrom[1]]);
    expect(without(es(spec).spec, new Set(['find\u00001'])).dataFrom).toEqual([spec.dataFrom[0], {}]);
  });
});
