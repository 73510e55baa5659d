// Where a render worker is: the field of the template it is executing, written into memory the
// pool shares with it, so a render stopped for taking too long is reported by the template that
// was running, without a message per template.
const MAX_BYTES = 1020;
const encoder = new TextEncoder();

export function progressBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(4 + MAX_BYTES);
}

export function writeProgress(buffer: SharedArrayBuffer, where: string): void {
  const { written } = encoder.encodeInto(where, new Uint8Array(buffer, 4, MAX_BYTES));
  Atomics.store(new Int32Array(buffer, 0, 1), 0, written);
}

export function readProgress(buffer: SharedArrayBuffer): string {
  const length = Atomics.load(new Int32Array(buffer, 0, 1), 0);
  return Buffer.from(new Uint8Array(buffer, 4, length)).toString('utf8');
}
