// The production entry the image and the `ferry` bin run: dist/ferry/main.js, made by esbuild
// from tsc's dist/main.js. Ferry's own code and @kubernetes/client-node are bundled and
// whitespace/syntax-minified; every other dependency stays a plain import from node_modules
// (the cloud SDKs and gRPC read files next to their own modules at run time). Why: V8 keeps
// the source text of every loaded module, and client-node's KubeConfig pulls in its ~2,700
// generated model files. Measured with `npm run bench -- s1 --objects 2000` (2026-11-29): idle
// controller 134 → 117 MiB RSS and 39 → 26 MiB heap after GC, peak 164 → 144 MiB. Identifiers
// are kept, so stack traces stay readable. Dynamic imports stay separate chunks (--splitting),
// so a provider's SDK still loads only when a store first uses it.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
const bundled = new Set(['@kubernetes/client-node']);
const external = Object.keys(pkg.dependencies)
  .filter((name) => !bundled.has(name))
  .flatMap((name) => [name, `${name}/*`]);

// Chunk names carry content hashes: without a clean start, every build would leave the last one's
// chunks beside its own.
rmSync('dist/ferry', { recursive: true, force: true });
await build({
  // The render worker is an entry of its own beside main.js: src/pipeline/render-pool.ts starts it
  // from the directory of the chunk that holds the pool, which is dist/ferry.
  entryPoints: { main: 'dist/main.js', 'render-worker': 'dist/pipeline/render-worker.js' },
  outdir: 'dist/ferry',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  external,
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // client-node is CommonJS inside; an ES module bundle needs a require for its node: imports.
  banner: {
    js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// V8 keeps a module's source as one string, and one character above U+00FF anywhere makes all of
// it two bytes per character. esbuild escapes non-ASCII everywhere except in regular expression
// literals, where a Greek mu once doubled the main chunk (2.7 MB of source, 5.4 MiB resident);
// so the build refuses non-ASCII output, and such characters are written as \u escapes.
for (const file of readdirSync('dist/ferry').filter((f) => f.endsWith('.js'))) {
  const text = readFileSync(`dist/ferry/${file}`, 'utf8');
  let at = 0;
  while (at < text.length && text.charCodeAt(at) <= 0x7f) at++;
  if (at < text.length) {
    throw new Error(
      `dist/ferry/${file}: non-ASCII character ${JSON.stringify(text[at])} in ${JSON.stringify(text.slice(Math.max(0, at - 60), at + 20))}; write it as a \\u escape in the source`,
    );
  }
}
