// Writes the values table of helm/ferry/README.md from helm/ferry/values.schema.json and the
// defaults in values.yaml, between the "values-table" markers. `--check` fails when it is stale.
// Usage: node helm/values-table.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

interface SchemaNode {
  type?: string | string[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  enum?: string[];
}

const dir = new URL('./ferry/', import.meta.url);
const BEGIN = '<!-- values-table:begin -->';
const END = '<!-- values-table:end -->';

function lookup(values: unknown, path: string[]): unknown {
  return path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), values);
}

function rows(node: SchemaNode, values: unknown, path: string[] = []): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const here = [...path, key];
    if (key === 'global') continue;
    if (child.type === 'object' && child.properties) {
      out.push(...rows(child, values, here));
      continue;
    }
    const type = Array.isArray(child.type) ? child.type.join(' or ') : (child.type ?? '');
    const allowed = child.enum ? ` (${child.enum.join(', ')})` : '';
    const value = JSON.stringify(lookup(values, here)) ?? '';
    const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
    out.push(`| \`${here.join('.')}\` | ${type} | \`${cell(value)}\` | ${cell(child.description ?? '')}${allowed} |`);
  }
  return out;
}

export function valuesTable(): string {
  const schema = JSON.parse(readFileSync(new URL('values.schema.json', dir), 'utf8')) as SchemaNode;
  const values = parse(readFileSync(new URL('values.yaml', dir), 'utf8'));
  return ['| Value | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows(schema, values)].join('\n');
}

export function readmeWithTable(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`helm/ferry/README.md lacks the ${BEGIN} … ${END} markers`);
  return `${readme.slice(0, start + BEGIN.length)}\n${valuesTable()}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = new URL('README.md', dir);
  const current = readFileSync(file, 'utf8');
  const next = readmeWithTable(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      process.stderr.write('helm/ferry/README.md values table is stale: run npm run chart:docs\n');
      process.exit(1);
    }
  } else writeFileSync(file, next);
}
