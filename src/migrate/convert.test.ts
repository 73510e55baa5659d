import { describe, expect, it } from 'vitest';
import { convertDocument, ferryKinds, unsupportedFields } from './convert.ts';

const es = (spec: Record<string, unknown>, apiVersion = 'external-secrets.io/v1') => ({
  apiVersion,
  kind: 'ExternalSecret',
  metadata: { name: 'db', namespace: 'app' },
  spec,
});
const minimal = { secretStoreRef: { name: 's' }, data: [{ secretKey: 'p', remoteRef: { key: 'k' } }] };

describe('convertDocument', () => {
  it('rewrites only the apiVersion of a supported v1 ExternalSecret, leaving the input as it was', () => {
    const input = es(minimal);
    const out = convertDocument(input);
    expect(out).toEqual({ kind: 'converted', object: { ...input, apiVersion: 'ferry.dev/v1alpha1' }, unsupported: [] });
    expect(input.apiVersion).toBe('external-secrets.io/v1');
  });

  it('treats v1beta1 as v1 (ESO converts nothing between them) and drops status', () => {
    const out = convertDocument({ ...es(minimal, 'external-secrets.io/v1beta1'), status: { refreshTime: 'x' } });
    expect(out.kind).toBe('converted');
    if (out.kind !== 'converted') return;
    expect(out.object.apiVersion).toBe('ferry.dev/v1alpha1');
    expect(out.object).not.toHaveProperty('status');
  });

  it('names unknown fields with their list index and unsupported enum values with the value', () => {
    const out = convertDocument(
      es({
        ...minimal,
        data: [{ secretKey: 'p', remoteRef: { key: 'k' }, sourceRef: { generatorRef: { kind: 'Password' } } }],
        target: { manifest: { kind: 'ConfigMap' }, template: { engineVersion: 'v1' } },
      }),
    );
    expect(out.kind === 'converted' && out.unsupported).toEqual([
      {
        path: 'spec.data[0].sourceRef.generatorRef',
        reason: 'generators are not supported by Ferry; name a store in sourceRef.storeRef',
      },
      { path: 'spec.target.manifest', reason: 'unknown field' },
      {
        path: 'spec.target.template.engineVersion',
        value: 'v1',
        reason: 'value "v1" is not supported (Ferry accepts v2)',
      },
    ]);
  });

  it('reads support from the CRD schema: free-form maps (template.data) admit any key', () => {
    const out = convertDocument(
      es({ ...minimal, target: { template: { data: { 'any.key': '{{ .p }}' }, metadata: { labels: { a: 'b' } } } } }),
    );
    expect(out.kind === 'converted' && out.unsupported).toEqual([]);
  });

  it('leaves kinds Ferry has no CRD for, and ESO v1alpha1, unconverted and says so', () => {
    const push = { apiVersion: 'external-secrets.io/v1alpha1', kind: 'PushSecret', metadata: { name: 'p' }, spec: {} };
    expect(convertDocument(push)).toEqual({
      kind: 'unconvertible',
      unsupported: [{ path: 'apiVersion', reason: expect.stringContaining('only external-secrets.io/v1 and v1beta1') }],
    });
    const gen = { apiVersion: 'external-secrets.io/v1', kind: 'Password', metadata: { name: 'p' } };
    expect(convertDocument(gen)).toEqual({
      kind: 'unconvertible',
      unsupported: [{ path: 'kind', reason: 'Ferry has no kind Password; the document is left as it was' }],
    });
  });

  it('passes anything that is not an ESO object through', () => {
    expect(convertDocument({ apiVersion: 'v1', kind: 'Secret' })).toEqual({ kind: 'other' });
    expect(convertDocument('text')).toEqual({ kind: 'other' });
    expect(convertDocument(null)).toEqual({ kind: 'other' });
  });
});

describe('unsupportedFields', () => {
  it('walks the store schema of every Ferry kind', () => {
    const store = ferryKinds().get('SecretStore');
    expect(store?.plural).toBe('secretstores');
    const schema = store?.schema;
    if (!schema) throw new Error('no SecretStore schema');
    expect(
      unsupportedFields(
        { spec: { provider: { aws: { region: 'x', additionalRoles: [], noSuchField: 1 }, doppler: {} } } },
        schema,
        '',
      ),
    ).toEqual([
      { path: 'spec.provider.aws.noSuchField', reason: 'unknown field' },
      { path: 'spec.provider.doppler', reason: 'unknown field' },
    ]);
  });
});
