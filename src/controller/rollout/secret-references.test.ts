import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { referencedSecrets, repointSecrets } from './secret-references.ts';

const spec = (): V1PodSpec => ({
  volumes: [
    { name: 'a', secret: { secretName: 'db-0123456789' } },
    { name: 'b', projected: { sources: [{ secret: { name: 'db' } }, { configMap: { name: 'cm' } }] } },
    { name: 'c', emptyDir: {} },
  ],
  initContainers: [{ name: 'init', envFrom: [{ secretRef: { name: 'other' } }] }],
  containers: [
    {
      name: 'app',
      env: [
        { name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'p' } } },
        { name: 'X', value: 'x' },
      ],
    },
  ],
});

describe('secret references', () => {
  it('finds secret and projected volumes, env secretKeyRef and envFrom in every container', () => {
    expect([...referencedSecrets(spec())].sort()).toEqual(['db', 'db-0123456789', 'other']);
  });

  it('repoints only matching names, and reports whether anything changed', () => {
    const s = spec();
    const version = /^db(-[0-9a-f]{10})?$/;
    expect(repointSecrets(s, (n) => version.test(n), 'db-aaaaaaaaaa')).toBe(true);
    expect([...referencedSecrets(s)].sort()).toEqual(['db-aaaaaaaaaa', 'other']);
    expect(repointSecrets(s, (n) => version.test(n), 'db-aaaaaaaaaa')).toBe(false);
  });
});
