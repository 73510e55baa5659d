// Renders templates with ESO's own engine (the Go reference program of test/reference/eso-template,
// provisioned as `eso-template`): many cases in one process, as JSON lines in and out. A case that
// hangs or crashes the program is reported as such and the rest continue in a new process.
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { esoTemplateReference } from '../testbed/tools.ts';

export interface TemplateCase {
  /** The template's key in target.template.data (it names the template in Go's messages). */
  key?: string;
  template: string;
  data: Record<string, Buffer>;
}

export type Rendered = { output: Buffer } | { error: string };

/** Renders every case with ESO's engine, in order. Throws (naming the provisioning command) when it is missing. */
export async function renderWithEso(cases: TemplateCase[], timeoutSeconds = 20): Promise<Rendered[]> {
  const { binary } = esoTemplateReference();
  const results: Rendered[] = [];
  while (results.length < cases.length) {
    const batch = cases.slice(results.length);
    const got = await runBatch(binary, batch, timeoutSeconds);
    results.push(...got.rendered);
    if (got.rendered.length < batch.length) {
      // The program stopped on the case after the last answer: it timed out or crashed there.
      results.push({ error: `reference program stopped: ${got.stopped}` });
    }
  }
  return results;
}

async function runBatch(
  binary: string,
  cases: TemplateCase[],
  timeoutSeconds: number,
): Promise<{ rendered: Rendered[]; stopped: string }> {
  // TZ empty: Go's time.Local is UTC named "UTC", as in ESO's container (no TZ, no /etc/localtime).
  const child = spawn(binary, [`-timeout=${timeoutSeconds}s`], {
    env: { PATH: process.env.PATH ?? '', TZ: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<string>((resolve) =>
    child.on('close', (code, signal) => resolve(`exit ${code ?? signal}: ${stderr.trim().split('\n').at(-1) ?? ''}`)),
  );
  // A program that stops early closes stdin under us: the write error is its exit, read below.
  child.stdin.on('error', () => {});
  const lines = createInterface({ input: child.stdout });
  const writing = (async () => {
    for (const c of cases) {
      const data = Object.fromEntries(Object.entries(c.data).map(([k, v]) => [k, v.toString('base64')]));
      const line = `${JSON.stringify({ key: c.key ?? 'k', template: c.template, data })}\n`;
      if (!child.stdin.write(line)) await new Promise((r) => child.stdin.once('drain', r));
      if (child.stdin.destroyed) return;
    }
    child.stdin.end();
  })();
  const rendered: Rendered[] = [];
  for await (const line of lines) {
    const answer = JSON.parse(line) as { output?: string; error?: string };
    if (answer.error === 'timeout') break;
    rendered.push(
      answer.output !== undefined ? { output: Buffer.from(answer.output, 'base64') } : { error: answer.error ?? '' },
    );
  }
  await writing;
  const stopped = await exited;
  return { rendered, stopped: rendered.length < cases.length ? stopped : '' };
}

/**
 * What kind of failure a message reports, the same way for Go's messages and Ferry's (their texts
 * differ: Go names the column and the node, Ferry withholds values). A differential case passes
 * when both engines fail with the same class.
 */
export type ErrorClass =
  /** The template does not parse (syntax, undefined variable, break outside range). */
  | 'parse'
  /** The template names a function the engine does not have (a parse error in Go). */
  | 'unknown-function'
  /** A field of the data map or a dict that is not there (missingkey=error). */
  | 'missing-key'
  /** Go refused the arguments before calling: their number, or a type the parameter cannot take. */
  | 'bad-arguments'
  /** The function ran and returned an error (or panicked). */
  | 'function-failed'
  /** Anything else while executing: a field of a non-map, ranging over a scalar, nil pointers. */
  | 'execution'
  /** One of Ferry's render limits (output size, work, depth); ESO has none. */
  | 'limit'
  /** The reference program timed out or crashed on the case. */
  | 'reference-stopped';

export function errorClass(message: string): ErrorClass {
  if (message.startsWith('reference program stopped')) return 'reference-stopped';
  if (/function "[^"]+" not defined/.test(message)) return 'unknown-function';
  if (
    /output over \d+ bytes|result over \d+ bytes|too much work|more than \d+ elements|range over too many elements|contains itself|nests over \d+ deep|exceeded maximum template depth/.test(
      message,
    )
  )
    return 'limit';
  // Go: "unable to parse template at key k: template: k:1: …"; Ferry's parse errors have no "executing".
  if (/unable to parse template/.test(message) || !/executing "/.test(message)) return 'parse';
  if (/map has no entry for key/.test(message)) return 'missing-key';
  if (
    /wrong number of args for|wrong type for value|expected (integer|unsigned integer|string|bool|float|complex); found|can't handle .* for arg of type|invalid value; expected/.test(
      message,
    )
  )
    return 'bad-arguments';
  if (/error calling /.test(message)) return 'function-failed';
  return 'execution';
}

/** A case's result as one line for a report: the bytes (quoted, cut at 200) or the error class and message. */
export function describeRendered(r: Rendered): string {
  if ('output' in r) {
    const text = JSON.stringify(r.output.toString('latin1'));
    return text.length > 200 ? `${text.slice(0, 200)}…(${r.output.length} bytes)` : text;
  }
  return `${errorClass(r.error)}: ${r.error.length > 300 ? `${r.error.slice(0, 300)}…` : r.error}`;
}

/** Whether two results agree: the same bytes, or failures of the same class. */
export function sameResult(a: Rendered, b: Rendered): boolean {
  if ('output' in a && 'output' in b) return a.output.equals(b.output);
  if ('error' in a && 'error' in b) return errorClass(a.error) === errorClass(b.error);
  return false;
}

/** The Go type of every function of ESO's engine (the program's -signatures), by name. */
export async function esoSignatures(): Promise<Record<string, string>> {
  const { binary } = esoTemplateReference();
  const { stdout } = await promisify(execFile)(binary, ['-signatures']);
  return JSON.parse(stdout) as Record<string, string>;
}
