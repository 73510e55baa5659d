import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyIndex } from './key-index.ts';

describe('KeyIndex', () => {
  it('answers as a Map of Sets does, whatever the adds and removes', () => {
    const key = fc.constantFrom('s1', 's2', undefined);
    const value = fc.constantFrom('a', 'b', 'c');
    const op = fc.record({ add: fc.boolean(), key, value });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const index = new KeyIndex();
        const model = new Map<string, Set<string>>();
        for (const o of ops) {
          if (o.add) {
            index.add(o.key, o.value);
            if (o.key !== undefined) model.set(o.key, (model.get(o.key) ?? new Set()).add(o.value));
          } else {
            index.remove(o.key, o.value);
            if (o.key !== undefined) model.get(o.key)?.delete(o.value);
          }
          for (const k of ['s1', 's2']) expect(index.get(k).sort()).toEqual([...(model.get(k) ?? [])].sort());
        }
      }),
      { numRuns: 500 },
    );
  });
});
