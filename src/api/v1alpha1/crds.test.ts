import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCrdFiles } from '../../cli/crds.ts';
import type { JSONSchemaProps } from '../schema.ts';
import { customResourceDefinitions } from './crds.ts';
import type { ExternalSecretSpec } from './external-secret.ts';

const crdDir = new URL('../../../crds/', import.meta.url).pathname;

function walk(node: JSONSchemaProps, path: string, visit: (n: JSONSchemaProps, p: string) => void): void {
  visit(node, path);
  for (const [k, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${k}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (node.additionalProperties) walk(node.additionalProperties, `${path}{}`, visit);
}

function schemaOf(kind: string): JSONSchemaProps {
  const crd = customResourceDefinitions().find((c) => c.spec.names.kind === kind);
  const schema = crd?.spec.versions[0]?.schema.openAPIV3Schema;
  if (!schema) throw new Error(`no CRD for ${kind}`);
  return schema as JSONSchemaProps;
}

describe('CRDs', () => {
  it('committed crds/ match what the schemas in src/api generate (run `npm run crds` after a change)', async () => {
    const generated = renderCrdFiles();
    const committed = (await readdir(crdDir)).filter((f) => f.endsWith('.yaml')).sort();
    expect(committed).toEqual([...generated.keys()].sort());
    for (const [name, text] of generated) {
      expect(await readFile(join(crdDir, name), 'utf8'), name).toBe(text);
    }
  });

  it('the YAML files parse back to exactly the CRD objects (no schema key lost in writing)', async () => {
    for (const crd of customResourceDefinitions()) {
      const text = await readFile(join(crdDir, `${crd.metadata.name}.yaml`), 'utf8');
      expect(parse(text)).toEqual(crd);
    }
  });

  it.each(['ExternalSecret', 'SecretStore', 'ClusterSecretStore', 'ClusterExternalSecret'])(
    '%s has a description on every field',
    (kind) => {
      const missing: string[] = [];
      walk(schemaOf(kind), kind, (node, path) => {
        if (!path.endsWith('.metadata') && !node.description) missing.push(path);
      });
      expect(missing).toEqual([]);
    },
  );

  it.each(['ExternalSecret', 'SecretStore', 'ClusterSecretStore', 'ClusterExternalSecret'])(
    '%s sets no server-side default anywhere',
    (kind) => {
      const withDefault: string[] = [];
      walk(schemaOf(kind), kind, (node, path) => {
        if ('default' in node) withDefault.push(path);
      });
      expect(withDefault).toEqual([]);
    },
  );

  it('each CRD fits in the 256 KiB last-applied annotation of client-side kubectl apply', () => {
    for (const crd of customResourceDefinitions()) {
      expect(JSON.stringify(crd).length, crd.metadata.name).toBeLessThan(256 * 1024);
    }
  });

  it('the exactly-one-provider rule names every provider the schema defines', () => {
    const provider = schemaOf('SecretStore').properties?.spec?.properties?.provider;
    const rule = provider?.['x-kubernetes-validations']?.[0]?.rule ?? '';
    for (const name of Object.keys(provider?.properties ?? {})) expect(rule).toContain(`has(self.${name})`);
  });

  it('infers TypeScript types from the same schema objects', () => {
    // Compile-time check (npm run typecheck): a wrong field name or enum value fails the build.
    const spec: ExternalSecretSpec = {
      secretStoreRef: { name: 'demo', kind: 'ClusterSecretStore' },
      target: { creationPolicy: 'Owner', deletionPolicy: 'Retain' },
      data: [{ secretKey: 'a', remoteRef: { key: 'k', decodingStrategy: 'Base64' } }],
    };
    // @ts-expect-error: creationPolicy is an enum
    const wrong: ExternalSecretSpec = { secretStoreRef: { name: 'x' }, target: { creationPolicy: 'Always' } };
    expect(spec.data?.[0]?.secretKey).toBe('a');
    expect(wrong.target?.creationPolicy).toBe('Always');
  });
});
