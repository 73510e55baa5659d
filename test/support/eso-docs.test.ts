import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractExamples, providerOf, providerOfFile, withoutJinja, yamlBlocks } from './eso-docs.ts';

describe('yamlBlocks', () => {
  it('finds yaml/yml fences, dedenting those inside lists, and skips other languages', () => {
    const md = [
      'text',
      '```yaml',
      'a: 1',
      '```',
      '```bash',
      'echo',
      '```',
      '1. step',
      '   ```yml',
      '   b: 2',
      '     c: 3',
      '   ```',
    ].join('\n');
    expect(yamlBlocks(md)).toEqual(['a: 1', 'b: 2\n  c: 3']);
  });
});

describe('withoutJinja', () => {
  it('drops raw markers and include lines, keeping Go templates', () => {
    expect(withoutJinja("{% raw %}\nv: '{{ .x }}'\n{% endraw %}\n{% include 'a.yaml' %}\n")).toBe(
      "\nv: '{{ .x }}'\n\n",
    );
  });
});

describe('providers of examples', () => {
  const names = ['aws', 'vault', 'doppler', 'onepassword', 'gcpsm'];
  it('reads the provider a file is about from its name', () => {
    expect(providerOfFile('provider/aws-secrets-manager.md', names)).toBe('aws');
    expect(providerOfFile('snippets/1password-secret-store.yaml', names)).toBe('onepassword');
    expect(providerOfFile('snippets/doppler-fetch.yaml', names)).toBe('doppler');
    expect(providerOfFile('snippets/full-external-secret.yaml', names)).toBeUndefined();
  });

  it('takes an ExternalSecret’s provider from the store it names in the same file first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-examples-'));
    try {
      await mkdir(join(dir, 'snippets'));
      await writeFile(
        join(dir, 'snippets', 'doppler-mixed.yaml'),
        `apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: backend}
spec: {provider: {vault: {server: x}}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: a}
spec: {secretStoreRef: {name: backend}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: b}
spec: {secretStoreRef: {name: elsewhere}}
---
apiVersion: v1
kind: Secret
metadata: {name: not-an-example}
`,
      );
      await writeFile(join(dir, 'guide.md'), '```yaml\nkind: ExternalSecret\n  bad: [\n```\n');
      const { examples, unparseable } = extractExamples(dir);
      expect(examples.map((e) => e.id)).toEqual([
        'snippets/doppler-mixed.yaml#1',
        'snippets/doppler-mixed.yaml#2',
        'snippets/doppler-mixed.yaml#3',
      ]);
      expect(unparseable.map((u) => u.where)).toEqual(['guide.md yaml block 1']);
      const [store, a, b] = examples;
      if (!store || !a || !b) throw new Error('examples missing');
      expect(providerOf(store, examples, names)).toBe('vault');
      expect(providerOf(a, examples, names)).toBe('vault');
      expect(providerOf(b, examples, names)).toBe('doppler');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
