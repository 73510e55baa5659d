// Checksums and digests: Sprig's sha1sum, sha256sum, adler32sum and ESO's later sha512sum, over
// a value's bytes (binary values as they are).
import { createHash } from 'node:crypto';
import type { TemplateFunction } from '../execute.ts';
import { toBytes } from '../values.ts';
import { bytesParam, checked } from './arguments.ts';

/** RFC 1950's Adler-32, printed in decimal as Sprig's adler32sum does. */
function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const byte of b) {
    a = (a + byte) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

export const hashingFunctions: Record<string, TemplateFunction> = {
  sha1sum: (v) => createHash('sha1').update(toBytes(v)).digest('hex'),
  sha256sum: (v) => createHash('sha256').update(toBytes(v)).digest('hex'),
  sha512sum: (v) => createHash('sha512').update(toBytes(v)).digest('hex'),
  adler32sum: checked('adler32sum', 1, (v) => String(adler32(bytesParam(v, 'adler32sum')))),
};
