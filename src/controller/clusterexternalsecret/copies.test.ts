import { describe, expect, it } from 'vitest';
import type { ClusterExternalSecret, ExternalSecret } from '../../api/v1alpha1/types.ts';
import { desiredCopy, isCopyOf, updatedCopy } from './copies.ts';
import { inCesTerms } from './reconcile.ts';

const ces: ClusterExternalSecret = {
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'ClusterExternalSecret',
  metadata: { name: 'db', uid: 'u-1', annotations: { 'ferry.dev/force-sync': '42', other: 'not copied' } },
  spec: {
    externalSecretName: 'db-creds',
    externalSecretMetadata: { labels: { team: 'a' }, annotations: { note: 'hi' } },
    externalSecretSpec: { secretStoreRef: { name: 's', kind: 'ClusterSecretStore' }, data: [] },
  },
};

describe('ClusterExternalSecret copies', () => {
  it('carries the spec, the metadata, the force-sync annotation and a controller reference', () => {
    const copy = desiredCopy(ces, 'team-a');
    expect(copy.metadata).toEqual({
      name: 'db-creds',
      namespace: 'team-a',
      labels: { team: 'a' },
      annotations: { note: 'hi', 'ferry.dev/force-sync': '42' },
      ownerReferences: [
        {
          apiVersion: 'ferry.dev/v1alpha1',
          kind: 'ClusterExternalSecret',
          name: 'db',
          uid: 'u-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(copy.spec).toBe(ces.spec.externalSecretSpec);
    expect(isCopyOf(copy, 'db')).toBe(true);
    expect(isCopyOf(copy, 'other')).toBe(false);
  });

  it('an ExternalSecret without a ClusterExternalSecret controller is not a copy', () => {
    const mine = desiredCopy(ces, 'ns');
    const deployment = { ...mine.metadata.ownerReferences?.[0], kind: 'Deployment', apiVersion: 'apps/v1' };
    expect(isCopyOf({ ...mine, metadata: { ...mine.metadata, ownerReferences: [] } }, 'db')).toBe(false);
    expect(isCopyOf({ ...mine, metadata: { ...mine.metadata, ownerReferences: [deployment as never] } }, 'db')).toBe(
      false,
    );
  });

  it('needs no write when the copy is as wanted, and replaces spec, labels and annotations otherwise', () => {
    const desired = desiredCopy(ces, 'ns');
    const current: ExternalSecret = {
      ...desired,
      metadata: { ...desired.metadata, uid: 'c-1', resourceVersion: '7' },
      spec: JSON.parse(JSON.stringify(desired.spec)),
    };
    expect(updatedCopy(current, desired)).toBeUndefined();

    const edited: ExternalSecret = {
      ...current,
      metadata: {
        ...current.metadata,
        labels: { team: 'a', added: 'by hand' },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x-1' },
          ...(current.metadata.ownerReferences ?? []),
        ],
      },
      spec: { ...current.spec, refreshInterval: '5m' },
    };
    const next = updatedCopy(edited, desired);
    expect(next?.spec).toEqual(desired.spec);
    expect(next?.metadata.labels).toEqual({ team: 'a' });
    expect(next?.metadata.resourceVersion).toBe('7');
    expect(next?.metadata.ownerReferences?.map((r) => r.kind)).toEqual(['ConfigMap', 'ClusterExternalSecret']);
  });

  it('words API-server errors about a copy in the ClusterExternalSecret’s own field names', () => {
    expect(inCesTerms('ExternalSecret.ferry.dev "x" is invalid: spec.target.name: Invalid value')).toBe(
      'ExternalSecret.ferry.dev "x" is invalid: spec.externalSecretSpec.target.name: Invalid value',
    );
    expect(inCesTerms('metadata.labels: Invalid value: "a b"')).toBe(
      'spec.externalSecretMetadata.labels: Invalid value: "a b"',
    );
  });
});
