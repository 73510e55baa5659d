import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { migrateText, pathOf } from './migrate.ts';

const input = `# a Secret the ESO store reads its credentials from
apiVersion: v1
kind: Secret
metadata: {name: creds}   # flow style kept as written
stringData: {token: abc}
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db
spec:
  secretStoreRef:
    name: vault   # the team's store
  target:
    manifest: {apiVersion: v1, kind: ConfigMap}
    template: {engineVersion: v1}
  data:
    - secretKey: password
      remoteRef: {key: db, conversionStrategy: Unicode}
      sourceRef: {storeRef: {name: other}}
---
apiVersion: external-secrets.io/v1
kind: PushSecret
metadata:
  name: push
spec: {}
`;

describe('migrateText', () => {
  const result = migrateText({ name: 'in.yaml', text: input });
  const docs = parseAllDocuments(result.text).map((d) => d.toJS());

  it('keeps every document in order, non-ESO ones byte for byte', () => {
    expect(docs).toHaveLength(3);
    expect(result.text.startsWith(input.split('---\n')[0] ?? '')).toBe(true);
  });

  it('rewrites the apiVersion of ESO documents Ferry has a kind for, keeping comments and every field', () => {
    expect(docs[1]).toEqual({ ...parseAllDocuments(input).map((d) => d.toJS())[1], apiVersion: 'ferry.dev/v1alpha1' });
    expect(result.text).toContain("name: vault # the team's store");
  });

  it('leaves kinds Ferry lacks as they were and lists every unsupported field', () => {
    expect(docs[2]).toMatchObject({ apiVersion: 'external-secrets.io/v1', kind: 'PushSecret' });
    expect(result.findings.map((f) => `${f.where} ${f.path}`)).toEqual([
      'in.yaml#2 ExternalSecret/db spec.target.manifest',
      'in.yaml#2 ExternalSecret/db spec.target.template.engineVersion',
      'in.yaml#2 ExternalSecret/db spec.data[0].remoteRef.conversionStrategy',
      'in.yaml#3 PushSecret/push kind',
    ]);
    expect(result.errors).toEqual([]);
  });

  it('--drop-unsupported removes unknown fields but keeps unsupported values (they still change meaning)', () => {
    const dropped = migrateText({ name: 'in.yaml', text: input }, { dropUnsupported: true });
    const es = parseAllDocuments(dropped.text).map((d) => d.toJS())[1];
    expect(es.spec.target).toEqual({ template: { engineVersion: 'v1' } });
    expect(es.spec.data[0].sourceRef).toEqual({ storeRef: { name: 'other' } });
    expect(dropped.findings).toHaveLength(4);
  });

  it('reports a document that is not YAML and keeps its text', () => {
    const bad = migrateText({ name: 'bad.yaml', text: 'a: [1\n' });
    expect(bad.errors[0]).toMatch(/^bad.yaml#1: not valid YAML/);
    expect(bad.text).toContain('a: [1');
  });
});

describe('migrateText on edge cases', () => {
  it('keeps a comment-only document and drops empty ones', () => {
    const r = migrateText({ name: 'c.yaml', text: '---\n# just a note\n---\n---\napiVersion: v1\nkind: ConfigMap\n' });
    expect(r.text).toBe('# just a note\n---\napiVersion: v1\nkind: ConfigMap\n');
  });
});

describe('migrateText on kubectl get -o yaml output', () => {
  const list = `apiVersion: v1
kind: List
items:
  - apiVersion: external-secrets.io/v1
    kind: ExternalSecret
    metadata:
      name: db
      namespace: app
      uid: 6f1c
      resourceVersion: "4242"
      generation: 3
      creationTimestamp: "2026-01-01T00:00:00Z"
      managedFields: [{manager: kubectl}]
      labels: {team: a}
    spec:
      secretStoreRef: {name: s}
      data: [{secretKey: k, remoteRef: {key: r, conversionStrategy: Unicode}}]
    status: {refreshTime: "2026-01-01T00:00:00Z"}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: keep, uid: x}
`;

  it('converts each ESO item of a List, dropping status and server-set metadata, and names findings by item', () => {
    const r = migrateText({ name: 'get.yaml', text: list });
    const [doc] = parseAllDocuments(r.text).map((d) => d.toJS());
    expect(doc.items[0]).toEqual({
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExternalSecret',
      metadata: { name: 'db', namespace: 'app', labels: { team: 'a' } },
      spec: {
        secretStoreRef: { name: 's' },
        data: [{ secretKey: 'k', remoteRef: { key: 'r', conversionStrategy: 'Unicode' } }],
      },
    });
    expect(doc.items[1]).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', uid: 'x' } });
    expect(r.findings.map((f) => `${f.where}: ${f.path}`)).toEqual([
      'get.yaml#1 items[0] ExternalSecret/db: spec.data[0].remoteRef.conversionStrategy',
    ]);
  });
});

describe('pathOf', () => {
  it('splits dotted paths with list indexes', () => {
    expect(pathOf('spec.data[2].remoteRef')).toEqual(['spec', 'data', 2, 'remoteRef']);
  });
});
