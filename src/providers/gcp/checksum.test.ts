import { describe, expect, it } from 'vitest';
import { crc32c, reportedCrc32c } from './checksum.ts';

describe('crc32c', () => {
  it('matches the Castagnoli check values', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
  });

  it('reads the checksum as REST (decimal string) and gRPC (number or Long) send it', () => {
    expect(reportedCrc32c('3808858755')).toBe(3808858755);
    expect(reportedCrc32c(3808858755)).toBe(3808858755);
    expect(reportedCrc32c({ low: 0xe3069283 | 0, high: 0, unsigned: false })).toBe(3808858755);
    expect(reportedCrc32c(undefined)).toBeUndefined();
    expect(reportedCrc32c(null)).toBeUndefined();
    expect(reportedCrc32c('not-a-number')).toBeNaN();
  });
});
