// What the informers' transforms keep of an object, and that what they keep stays compact: an
// object V8 has deleted a property from becomes a hash table (dictionary mode), several times the
// size of the same object with fast properties, and cached objects live as long as the controller.
import { setFlagsFromString } from 'node:v8';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { MERGE_MANAGER_PREFIX, trimManagedSecret } from '../sinks/secret/secret-writer.ts';
import { LAST_APPLIED_ANNOTATION, lostLastApplied, trimBookkeeping } from './informer.ts';

setFlagsFromString('--allow-natives-syntax');
// Compiled after the flag is set, so the intrinsic parses; V8 answers for the object it is given.
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

/** An object as the API server sends it: parsed from JSON, as the informer receives it. */
function parsed<T = KubernetesObject>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const managedFields = [
  {
    manager: 'kubectl',
    operation: 'Update',
    apiVersion: 'v1',
    time: '2026-11-30T00:00:00Z',
    fieldsV1: { 'f:data': {} },
  },
  {
    manager: `${MERGE_MANAGER_PREFIX}app`,
    operation: 'Apply',
    apiVersion: 'v1',
    time: '2026-11-30T00:00:00Z',
    fieldsV1: { 'f:data': { 'f:password': {}, 'f:user': {} }, 'f:metadata': { 'f:labels': {} } },
  },
];

describe('trimBookkeeping', () => {
  it('drops managedFields and the last-applied annotation and keeps everything else', () => {
    const obj = parsed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'a',
        namespace: 'ns',
        uid: 'u-1',
        resourceVersion: '42',
        labels: { app: 'x' },
        annotations: { keep: 'me', [LAST_APPLIED_ANNOTATION]: '{"big":"copy"}' },
        managedFields,
      },
    });
    const out = trimBookkeeping(obj);
    expect(out).toBe(obj);
    expect(out.metadata).toEqual({
      name: 'a',
      namespace: 'ns',
      uid: 'u-1',
      resourceVersion: '42',
      labels: { app: 'x' },
      annotations: { keep: 'me' },
    });
    expect(lostLastApplied(out)).toBe(true);
    expect(hasFastProperties(out.metadata as object)).toBe(true);
    expect(hasFastProperties(out.metadata?.annotations as object)).toBe(true);
  });

  it('leaves an object without bookkeeping untouched', () => {
    const obj = parsed({ metadata: { name: 'a', annotations: { keep: 'me' } } });
    const meta = obj.metadata;
    trimBookkeeping(obj);
    expect(obj.metadata).toBe(meta);
    expect(lostLastApplied(obj)).toBe(false);
  });

  it('keeps the managedFields entries it is asked to keep', () => {
    const obj = parsed({ metadata: { name: 'a', managedFields } });
    trimBookkeeping(obj, (m) => m.operation === 'Apply');
    expect(obj.metadata?.managedFields?.map((m) => m.manager)).toEqual([`${MERGE_MANAGER_PREFIX}app`]);
    expect(hasFastProperties(obj.metadata as object)).toBe(true);
  });
});

describe('trimManagedSecret', () => {
  it("keeps only the data keys of Ferry's own apply managers, in compact objects", () => {
    const secret = parsed<V1Secret>({
      metadata: { name: 's', namespace: 'ns', managedFields, annotations: { [LAST_APPLIED_ANNOTATION]: '{}' } },
      data: { user: 'dQ==', password: 'cA==' },
    });
    trimManagedSecret(secret);
    expect(secret.metadata?.managedFields).toEqual([
      {
        manager: `${MERGE_MANAGER_PREFIX}app`,
        operation: 'Apply',
        fieldsV1: { 'f:data': { 'f:password': {}, 'f:user': {} } },
      },
    ]);
    expect(secret.metadata?.annotations).toEqual({});
    expect(secret.data).toEqual({ user: 'dQ==', password: 'cA==' });
    expect(hasFastProperties(secret.metadata as object)).toBe(true);
    for (const m of secret.metadata?.managedFields ?? []) expect(hasFastProperties(m)).toBe(true);
  });
});
