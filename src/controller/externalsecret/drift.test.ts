// Ferry's own writes are not drift: neither once the write has returned (state.written) nor when
// the watch delivers the write before its response does (state.writing).
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { settingsOf } from '../../pipeline/settings.ts';
import { SecretValue } from '../../values.ts';
import { isIntact, writtenRecord } from './drift.ts';
import type { ObjectState } from './object-state.ts';

function es(creationPolicy: 'Owner' | 'Merge'): ExternalSecret {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ExternalSecret',
    metadata: { name: 'app', namespace: 'ns' },
    spec: {
      secretStoreRef: { name: 's' },
      target: { creationPolicy },
      data: [{ secretKey: 'password', remoteRef: { key: 'k' } }],
    },
  } as ExternalSecret;
}

const data = (v: string) => new Map([['password', SecretValue.fromString(v)]]);
const secret = (v: string, extra: Record<string, string> = {}): V1Secret => ({
  metadata: { name: 'app', namespace: 'ns' },
  type: 'Opaque',
  data: { password: Buffer.from(v).toString('base64'), ...extra },
});

describe('drift', () => {
  for (const policy of ['Owner', 'Merge'] as const) {
    const s = settingsOf(es(policy));
    it(`${policy}: the write in flight is not drift; anything else still is`, () => {
      const state: ObjectState = { written: writtenRecord(s, data('v1')) };
      expect(isIntact(secret('v1'), s, state)).toBe(true);
      // The watch delivers v2 before the write's response: without the record of the write in
      // flight it looks like someone changed the Secret.
      expect(isIntact(secret('v2'), s, state)).toBe(false);
      state.writing = writtenRecord(s, data('v2'));
      expect(isIntact(secret('v2'), s, state)).toBe(true);
      expect(isIntact(secret('v1'), s, state)).toBe(true);
      expect(isIntact(secret('tampered'), s, state)).toBe(false);
    });
  }

  it('Merge: keys Ferry does not own may change', () => {
    const s = settingsOf(es('Merge'));
    const state: ObjectState = { written: writtenRecord(s, data('v1')) };
    expect(isIntact(secret('v1', { other: 'eA==' }), s, state)).toBe(true);
  });
});
