import { describe, expect, it } from 'vitest';
import {
  CONTEXT,
  driverPolicy,
  PublishArgumentError,
  PublishRefusedError,
  parsePublishContext,
} from './publish-context.ts';

const trusted = driverPolicy('csi.ferry.dev', {
  spec: { podInfoOnMount: true, tokenRequests: [{ audience: 'vault' }, { audience: 'sts.amazonaws.com' }] },
});

const kubelet = (extra: Record<string, string> = {}): Record<string, string> => ({
  externalSecret: 'db',
  [CONTEXT.podName]: 'app-1',
  [CONTEXT.podNamespace]: 'payments',
  [CONTEXT.podUid]: 'uid-1',
  [CONTEXT.serviceAccount]: 'app',
  [CONTEXT.ephemeral]: 'true',
  ...extra,
});

const tokens = (audiences: string[]) =>
  JSON.stringify(
    Object.fromEntries(audiences.map((a) => [a, { token: `t-${a}`, expirationTimestamp: '2099-01-01T00:00:00Z' }])),
  );

describe('parsePublishContext', () => {
  it("takes the pod's identity from kubelet's keys and tokens for the CSIDriver's audiences only", () => {
    const ctx = parsePublishContext(kubelet({ [CONTEXT.tokens]: tokens(['vault', '', 'other']) }), trusted);
    expect(ctx.pod).toEqual({ name: 'app-1', namespace: 'payments', uid: 'uid-1', serviceAccount: 'app' });
    expect(ctx.externalSecret).toBe('db');
    expect([...ctx.tokens.keys()]).toEqual(['vault']);
  });

  it('ignores tokens when the CSIDriver requests none: kubelet then passes through what the pod wrote', () => {
    const bare = driverPolicy('csi.ferry.dev', { spec: { podInfoOnMount: true } });
    expect(parsePublishContext(kubelet({ [CONTEXT.tokens]: tokens(['vault']) }), bare).tokens.size).toBe(0);
  });

  it('refuses to serve when the CSIDriver is missing or lacks podInfoOnMount', () => {
    expect(() => parsePublishContext(kubelet(), driverPolicy('csi.ferry.dev', undefined))).toThrow(
      /CSIDriver object csi\.ferry\.dev does not exist/,
    );
    const noInfo = driverPolicy('csi.ferry.dev', { spec: { podInfoOnMount: false } });
    expect(() => parsePublishContext(kubelet(), noInfo)).toThrow(PublishRefusedError);
    expect(() => parsePublishContext(kubelet(), noInfo)).toThrow(/does not set podInfoOnMount: true/);
  });

  it('refuses a context without the pod keys kubelet adds, naming them', () => {
    const partial = kubelet();
    delete partial[CONTEXT.podUid];
    delete partial[CONTEXT.serviceAccount];
    expect(() => parsePublishContext(partial, trusted)).toThrow(
      /lacks csi\.storage\.k8s\.io\/pod\.uid, csi\.storage\.k8s\.io\/serviceAccount\.name/,
    );
  });

  it('refuses volumes that are not inline ephemeral, and a volume without externalSecret', () => {
    expect(() => parsePublishContext(kubelet({ [CONTEXT.ephemeral]: 'false' }), trusted)).toThrow(PublishArgumentError);
    const noName = kubelet();
    delete noName.externalSecret;
    expect(() => parsePublishContext(noName, trusted)).toThrow(/volumeAttributes\.externalSecret is required/);
  });
});
