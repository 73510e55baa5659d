#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --optimize-for-size
// CLI entry: `ferry <command> [flags]`, one module per command under cli/.
// A small young generation (--max-semi-space-size=4) and V8's --optimize-for-size (memory over
// speed: the heap grows less between collections) keep the controller's RSS close to what it
// holds: 171 MiB peak on the 3,000-object benchmark against 286 MiB with the first flag alone.
// MALLOC_ARENA_MAX=2 (glibc) keeps freed memory of helper threads from piling up in arenas of
// their own: 214 against 228 MiB peak at 10,000 (docs/performance.md). The Dockerfile sets the
// same.
import { logger } from './observability/logger.ts';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  crds: async () => (await import('./cli/crds.ts')).command,
  controller: async () => (await import('./cli/controller.ts')).command,
  'csi-node': async () => (await import('./cli/csi-node.ts')).command,
  'csi-uninstall-check': async () => (await import('./cli/csi-uninstall-check.ts')).command,
  migrate: async () => (await import('./cli/migrate.ts')).command,
  render: async () => (await import('./cli/render.ts')).command,
};

function usage(): string {
  return ['usage: ferry <command> [flags]', '', 'commands:']
    .concat(Object.keys(commands).map((name) => `  ${name}`))
    .join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`${usage()}\n`);
    return name === undefined || name === 'help' || name === '--help' ? 0 : 2;
  }
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    logger.fatal({ err }, 'ferry failed');
    process.exitCode = 1;
  },
);
