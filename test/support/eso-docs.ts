// The ExternalSecret, SecretStore, ClusterSecretStore and ClusterExternalSecret examples in ESO's
// documentation: every YAML document of those kinds in docs/**/*.yaml and in ```yaml blocks of
// docs/**/*.md, and which provider each one uses (see providerOf for how an ExternalSecret's
// provider is found).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isEsoObject } from '../../src/migrate/convert.ts';

export const EXAMPLE_KINDS = ['ExternalSecret', 'SecretStore', 'ClusterSecretStore', 'ClusterExternalSecret'];
/** The providers Ferry has (the mission's four and fake), by ESO's field name. */
export const FERRY_PROVIDERS = ['aws', 'gcpsm', 'azurekv', 'vault', 'fake'];

export interface Example {
  /** `path/under/docs#n` (n counts the example documents of that file from 1). */
  id: string;
  file: string;
  doc: Record<string, unknown> & { apiVersion: string; kind: string };
}

export interface Unparseable {
  where: string;
  error: string;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (/\.(ya?ml|md)$/.test(name)) out.push(path);
  }
  return out;
}

/** The ```yaml blocks of a Markdown text, dedented when the fence is indented (inside a list). */
export function yamlBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^([ \t]*)```(yaml|yml)\s*$/i.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1] ?? '';
    const body: string[] = [];
    for (i++; i < lines.length && !/^[ \t]*```\s*$/.test(lines[i] ?? ''); i++) {
      const line = lines[i] ?? '';
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    blocks.push(body.join('\n'));
  }
  return blocks;
}

/**
 * The docs site's Jinja markup taken out: `{% raw %}`/`{% endraw %}` around Go templates, and
 * `{% include 'file.yaml' %}` lines (the included snippet is an example of its own).
 */
export function withoutJinja(text: string): string {
  return text
    .replace(/\{%-?\s*(end)?raw\s*-?%\}/g, '')
    .split('\n')
    .filter((line) => !/^\s*\{%-?\s*include\b.*%\}\s*$/.test(line))
    .join('\n');
}

/** Every example document of the four kinds in `docsDir`, and the YAML texts that did not parse. */
export function extractExamples(docsDir: string): { examples: Example[]; unparseable: Unparseable[] } {
  const examples: Example[] = [];
  const unparseable: Unparseable[] = [];
  for (const path of walk(docsDir)) {
    const file = relative(docsDir, path);
    const text = readFileSync(path, 'utf8');
    const sources = (path.endsWith('.md') ? yamlBlocks(text) : [text]).map(withoutJinja);
    let n = 0;
    sources.forEach((source, b) => {
      // Only texts that mention one of the kinds: a block of Helm values that fails to parse is not an example.
      if (!EXAMPLE_KINDS.some((k) => source.includes(`kind: ${k}`))) return;
      for (const doc of parseAllDocuments(source)) {
        const where = path.endsWith('.md') ? `${file} yaml block ${b + 1}` : file;
        let value: unknown;
        try {
          if (doc.errors.length > 0) throw doc.errors[0];
          value = doc.toJS();
        } catch (err) {
          unparseable.push({ where, error: (err as Error).message.split('\n')[0] ?? 'parse error' });
          continue;
        }
        if (!isEsoObject(value) || !EXAMPLE_KINDS.includes(value.kind)) continue;
        n++;
        examples.push({ id: `${file}#${n}`, file, doc: value });
      }
    });
  }
  return { examples, unparseable };
}

/** Names in file names and doc pages that stand for a provider field. */
const ALIASES: Record<string, string> = {
  '1password': 'onepassword',
  '1passwordsdk': 'onepasswordSDK',
  onepassword: 'onepassword',
  azkv: 'azurekv',
  azure: 'azurekv',
  gcp: 'gcpsm',
  google: 'gcpsm',
  gcpsm: 'gcpsm',
  hashicorp: 'vault',
  vault: 'vault',
  aws: 'aws',
  fake: 'fake',
};

export function storeProvider(doc: Example['doc']): string | undefined {
  const provider = (doc.spec as { provider?: Record<string, unknown> } | undefined)?.provider;
  return provider && typeof provider === 'object' ? Object.keys(provider)[0] : undefined;
}

/** The provider a file is about, from its name: `provider/aws-secrets-manager.md`, `snippets/vault-…`. */
export function providerOfFile(file: string, providerNames: string[]): string | undefined {
  const base = (file.split('/').at(-1) ?? '').replace(/\.(ya?ml|md)$/, '').toLowerCase();
  const token = base.split(/[-_.]/)[0] ?? '';
  if (ALIASES[token]) return ALIASES[token];
  if (token.length < 3) return undefined;
  return providerNames.find((p) => p.toLowerCase().startsWith(token) || token.startsWith(p.toLowerCase()));
}

/**
 * The provider an example uses. A store: its provider field. An ExternalSecret (or the spec of a
 * ClusterExternalSecret): the store it names in the same file; else the provider its file is about;
 * else the only provider of the stores with that name anywhere in the docs; else undefined (a
 * generic example, usable with any store).
 */
export function providerOf(example: Example, all: Example[], providerNames: string[]): string | undefined {
  const own = storeProvider(example.doc);
  if (own) return own;
  const spec = (example.doc.spec ?? {}) as Record<string, unknown>;
  const esSpec = (example.doc.kind === 'ClusterExternalSecret' ? spec.externalSecretSpec : spec) as
    | { secretStoreRef?: { name?: string } }
    | undefined;
  const storeName = esSpec?.secretStoreRef?.name;
  const stores = all.filter(
    (e) => (e.doc.kind === 'SecretStore' || e.doc.kind === 'ClusterSecretStore') && storeProvider(e.doc),
  );
  const named = (e: Example) => (e.doc.metadata as { name?: string } | undefined)?.name === storeName;
  const sameFile = stores.find((e) => e.file === example.file && named(e));
  if (sameFile) return storeProvider(sameFile.doc);
  const byFile = providerOfFile(example.file, providerNames);
  if (byFile) return byFile;
  const elsewhere = new Set(stores.filter(named).map((e) => storeProvider(e.doc)));
  return elsewhere.size === 1 ? [...elsewhere][0] : undefined;
}
