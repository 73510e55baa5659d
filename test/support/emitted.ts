// Everything the operator emits during a test run, kept for one scan at the end of the suite
// (test/global-setup.ts): each in-process controller's and CSI plugin's log lines are written to
// the run directory when it stops. Canary values look like `canary-<16 hex>`.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CANARY_PATTERN = /canary-[0-9a-f]{16}/i;

export function emittedDir(runDir: string): string {
  return join(runDir, 'emitted');
}

/** Keeps `lines` (one component's log) for the suite-wide canary scan. */
export function keepEmitted(runDir: string, component: string, lines: string[]): void {
  const dir = emittedDir(runDir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${component}-${process.pid}-${randomBytes(4).toString('hex')}.log`), lines.join(''));
}
