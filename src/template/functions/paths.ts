// Sprig's path functions: Go's path package (base, dir, clean, ext, isAbs), and the os* forms,
// which are path/filepath's and on Linux the same.
import type { TemplateFunction } from '../execute.ts';
import { fixed, strval } from './arguments.ts';

function clean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out.at(-1) !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(seg);
  }
  const joined = (rooted ? '/' : '') + out.join('/');
  return joined === '' ? '.' : joined;
}

function base(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function dir(p: string): string {
  return clean(p.slice(0, p.lastIndexOf('/') + 1));
}

function ext(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

export const pathFunctions: Record<string, TemplateFunction> = Object.fromEntries([
  fixed('base', 1, (p) => base(strval(p))),
  fixed('dir', 1, (p) => dir(strval(p))),
  fixed('clean', 1, (p) => clean(strval(p))),
  fixed('ext', 1, (p) => ext(strval(p))),
  fixed('isAbs', 1, (p) => strval(p).startsWith('/')),
  fixed('osBase', 1, (p) => base(strval(p))),
  fixed('osDir', 1, (p) => dir(strval(p))),
  fixed('osClean', 1, (p) => clean(strval(p))),
  fixed('osExt', 1, (p) => ext(strval(p))),
  fixed('osIsAbs', 1, (p) => strval(p).startsWith('/')),
]);
