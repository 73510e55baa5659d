// CRC32C (Castagnoli) of a payload, to check Secret Manager's dataCrc32c. Node's zlib.crc32 is
// the IEEE polynomial, not this one, and the algorithm is a dozen lines: no dependency for it.
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The checksum a response carries, as a number: REST sends int64 as a decimal string, gRPC as a
 * number or a Long-like object. Undefined when the response carries none.
 */
export function reportedCrc32c(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  if (typeof value === 'object' && 'low' in value && 'high' in value) {
    const { low, high } = value as { low: number; high: number };
    return (high >>> 0) * 2 ** 32 + (low >>> 0);
  }
  if (typeof value === 'object' && 'toString' in value) {
    const text = String(value);
    if (/^\d+$/.test(text)) return Number(text);
  }
  return Number.NaN;
}
