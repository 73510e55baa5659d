// The template library's size and boundary: its non-test source stays within a stated budget,
// and it imports nothing from the rest of the product but the Go regexp adapter and the lazy loader.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Ported Go (text/template, Sprig, x509, PKCS#12) grows one function at a time; past this, weigh a library or a package split first.
const BUDGET_LINES = 7_000;
const ALLOWED_OUTSIDE = ['src/go-regexp.ts', 'src/lazy-require.ts'];

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(root, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('src/template', () => {
  const files = sourceFiles(root);

  it(`stays within ${BUDGET_LINES} lines of non-test source`, () => {
    const lines = files.reduce((sum, f) => sum + readFileSync(f, 'utf8').split('\n').length - 1, 0);
    expect(lines).toBeLessThanOrEqual(BUDGET_LINES);
  });

  it('imports only the Go regexp adapter and the lazy loader from the rest of the product', () => {
    const outside = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/^import [^;]*? from '(\.[^']+)';/gms)]
        .map((m) => relative(repo, resolve(f, '..', m[1] as string)))
        .filter((target) => !target.startsWith('src/template/') && !ALLOWED_OUTSIDE.includes(target))
        .map((target) => `${relative(repo, f)} → ${target}`),
    );
    expect(outside).toEqual([]);
  });
});
