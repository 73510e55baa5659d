// The layering of src/, read from the import lines: a module imports only modules of its own layer
// or below, so the data path reads one way (docs/architecture.md). Every source file must sit in
// a layer: a new top-level module is placed here first.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Lowest first. A path matches the first entry that is it or a folder above it. */
const LAYERS: string[][] = [
  ['values.ts', 'errors.ts', 'api', 'go-regexp.ts', 'lazy-require.ts', 'rate-limit.ts'],
  ['template', 'kube', 'observability', 'config.ts'],
  ['providers'],
  ['pipeline'],
  ['sinks'],
  ['controller'],
  ['migrate', 'cli'],
  ['main.ts'],
];

function layerOf(file: string): number {
  const top = file.split('/')[0] ?? file;
  return LAYERS.findIndex((names) => names.includes(top));
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [relative(SRC, path)] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1] ?? m[2] ?? '')));
}

describe('the layering of src/', () => {
  const files = sources(SRC);

  it('places every source file in a layer', () => {
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('has no import that runs upward', () => {
    const upward = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => layerOf(target) > layerOf(file))
        .map((target) => `${file} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it('keeps providers away from the Kubernetes client (they ask through StoreContext, and never write)', () => {
    const kube = files
      .filter((f) => f.startsWith('providers/'))
      .flatMap((file) =>
        importsOf(file)
          .filter((t) => t.startsWith('kube/'))
          .map((t) => `${file} -> ${t}`),
      );
    expect(kube).toEqual([]);
  });

  it('keeps the template library to itself and the base layer', () => {
    const outside = files
      .filter((f) => f.startsWith('template/'))
      .flatMap((file) =>
        importsOf(file)
          .filter((t) => !t.startsWith('template/') && layerOf(t) !== 0)
          .map((t) => `${file} -> ${t}`),
      );
    expect(outside).toEqual([]);
  });

  it('sees the imports it checks (a regression guard for the parser above)', () => {
    expect(importsOf('main.ts')).toContain('observability/logger.ts');
    expect(importsOf('main.ts').some((t) => t.startsWith('cli/'))).toBe(true);
    expect(files.length).toBeGreaterThan(100);
  });
});
