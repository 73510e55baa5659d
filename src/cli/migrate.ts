// `ferry migrate [--out DIR] [--drop-unsupported] PATH... | -`: ESO manifests in, Ferry manifests
// out. Reads files, directories (every *.yaml / *.yml / *.json below, sorted) or stdin (`-`), each
// possibly multi-document, and the items of a List. ESO objects get Ferry's apiVersion (comments
// and layout kept; status and server-set metadata dropped); every other document is written
// exactly as it was. Each field Ferry does not support is listed on
// stderr — kept in the output by default, so that applying it fails loudly (strict field
// validation names it) rather than syncing something other than what the manifest says.
// Exit codes: 0 all converted, 3 something is unsupported, 1 unreadable input, 2 usage.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { type Document, parseAllDocuments } from 'yaml';
import { convertDocument, type Unsupported } from '../migrate/convert.ts';

export const EXIT_UNSUPPORTED = 3;
export const EXIT_UNREADABLE = 1;
export const EXIT_USAGE = 2;

const USAGE = `usage: ferry migrate [--out DIR] [--drop-unsupported] PATH... | -
  Converts ESO manifests (external-secrets.io/v1, v1beta1) to Ferry (ferry.dev/v1alpha1).
  PATH: files or directories (*.yaml, *.yml, *.json below them); - reads stdin.
  --out DIR            write one file per input under DIR instead of stdout
  --drop-unsupported   leave unsupported fields out of the output (they are still listed)
  Exit: 0 all converted, 3 some field or kind is unsupported (listed on stderr), 1 unreadable input.`;

export interface MigrateInput {
  /** Where it came from, for messages and --out file names. */
  name: string;
  text: string;
}

export interface Finding extends Unsupported {
  /** `file#n Kind/name`. */
  where: string;
}

export interface MigrateResult {
  text: string;
  findings: Finding[];
  errors: string[];
}

function describe(doc: unknown): string {
  const o = (doc ?? {}) as { kind?: unknown; metadata?: { name?: unknown } };
  return `${String(o.kind ?? '?')}/${String(o.metadata?.name ?? '?')}`;
}

/**
 * Metadata the API server sets on objects it stores (`kubectl get -o yaml` output carries them);
 * a converted object is a new object of another kind, and the API server refuses a create that
 * carries a resourceVersion, so these go.
 */
const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink'];

type Path = (string | number)[];

/**
 * Converts the ESO object at `at` inside `doc` (the document itself, or an item of a List) in
 * place; returns false when it is not an ESO object.
 */
function convertAt(
  doc: Document,
  at: Path,
  value: unknown,
  where: string,
  findings: Finding[],
  opts: { dropUnsupported?: boolean },
): boolean {
  const result = convertDocument(value);
  if (result.kind === 'other') return false;
  const label = `${where}${at.length ? ` ${at.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('')}` : ''}`;
  for (const u of result.unsupported) findings.push({ ...u, where: `${label} ${describe(value)}` });
  if (result.kind === 'unconvertible') return true;
  doc.setIn([...at, 'apiVersion'], result.object.apiVersion);
  doc.deleteIn([...at, 'status']);
  for (const field of SERVER_METADATA) doc.deleteIn([...at, 'metadata', field]);
  if (opts.dropUnsupported) {
    for (const u of result.unsupported) {
      if (u.reason === 'unknown field') doc.deleteIn([...at, ...pathOf(u.path)]);
    }
  }
  return true;
}

/** A `kind: List` (or `…List`) of objects, as `kubectl get -o yaml` prints several. */
function listItems(value: unknown): unknown[] | undefined {
  const v = value as { kind?: unknown; items?: unknown } | null;
  return v && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items) ? v.items : undefined;
}

/** Converts one YAML stream; the output has the same documents in the same order. */
export function migrateText(input: MigrateInput, opts: { dropUnsupported?: boolean } = {}): MigrateResult {
  const findings: Finding[] = [];
  const errors: string[] = [];
  const parts: string[] = [];
  const docs = parseAllDocuments(input.text);
  if (!Array.isArray(docs)) return { text: input.text, findings, errors };
  let end = 0;
  docs.forEach((doc, i) => {
    // From the end of the previous document, so comments above the first one are kept too.
    const original = input.text.slice(end, doc.range[2]).replace(/^(\s*---[^\n]*(\n|$))+/, '');
    end = doc.range[2];
    const where = `${input.name}#${i + 1}`;
    let value: unknown;
    try {
      if (doc.errors.length > 0) throw doc.errors[0];
      value = doc.toJS();
    } catch (err) {
      errors.push(`${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      parts.push(original);
      return;
    }
    const before = findings.length;
    const items = listItems(value);
    const changed = items
      ? items.map((item, n) => convertAt(doc, ['items', n], item, where, findings, opts)).some(Boolean)
      : convertAt(doc, [], value, where, findings, opts);
    const convertedSome = changed && JSON.stringify(doc.toJS()) !== JSON.stringify(value);
    if (!convertedSome) {
      // Not ESO, or ESO that Ferry cannot take (reported above): exactly as it was. Comment-only
      // documents are kept too; only empty ones vanish.
      if ((value !== null && value !== undefined) || original.trim() !== '' || findings.length > before) {
        parts.push(original);
      }
      return;
    }
    parts.push(doc.toString({ lineWidth: 0 }).replace(/^---\n/, ''));
  });
  const text = parts.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('---\n');
  return { text, findings, errors };
}

/** `spec.data[2].remoteRef` → ['spec', 'data', 2, 'remoteRef']. */
export function pathOf(path: string): (string | number)[] {
  return path.split('.').flatMap((part) =>
    part.split(/\[(\d+)\]/).flatMap((p, i): (string | number)[] => {
      if (p === '') return [];
      return i % 2 === 1 ? [Number(p)] : [p];
    }),
  );
}

async function collect(path: string, base: string): Promise<MigrateInput[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [{ name: relative(base, path) || path, text: await readFile(path, 'utf8') }];
  const names = (await readdir(path)).sort();
  const out: MigrateInput[] = [];
  for (const n of names) {
    const child = join(path, n);
    if ((await stat(child)).isDirectory() || /\.(ya?ml|json)$/.test(n)) out.push(...(await collect(child, base)));
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const command = {
  summary: 'convert ESO manifests to Ferry manifests, listing what Ferry does not support',
  async run(argv: string[]): Promise<number> {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length === 0) {
      process.stderr.write(`${USAGE}\n`);
      return EXIT_USAGE;
    }
    const inputs: MigrateInput[] = [];
    const errors: string[] = [];
    for (const p of positionals) {
      if (p === '-') {
        inputs.push({ name: 'stdin.yaml', text: await readStdin() });
        continue;
      }
      try {
        const info = await stat(p);
        inputs.push(...(await collect(p, info.isDirectory() ? p : dirname(p))));
      } catch (err) {
        errors.push(`${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const findings: Finding[] = [];
    const outputs: { name: string; text: string }[] = [];
    for (const input of inputs) {
      const result = migrateText(input, { dropUnsupported: values['drop-unsupported'] });
      findings.push(...result.findings);
      errors.push(...result.errors);
      outputs.push({ name: input.name, text: result.text });
    }
    if (values.out) {
      for (const o of outputs) {
        const file = join(values.out, o.name);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, o.text);
      }
    } else {
      process.stdout.write(outputs.map((o) => o.text).join('---\n'));
    }
    for (const f of findings) process.stderr.write(`unsupported: ${f.where}: ${f.path}: ${f.reason}\n`);
    for (const e of errors) process.stderr.write(`error: ${e}\n`);
    if (findings.length > 0) {
      const kept = values['drop-unsupported'] ? 'left out of the output' : 'kept in the output';
      process.stderr.write(`${findings.length} unsupported field(s) (${kept}); see docs/migrating-from-eso.md\n`);
    }
    if (errors.length > 0) return EXIT_UNREADABLE;
    return findings.length > 0 ? EXIT_UNSUPPORTED : 0;
  },
};

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      'drop-unsupported': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
