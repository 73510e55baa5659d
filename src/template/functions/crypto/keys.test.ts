/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// genPrivateKey, read back by OpenSSL.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CANARY, dir, failure, render, ssl, usePki } from './fixtures/openssl-pki.ts';

usePki();

describe('genPrivateKey', () => {
  it.each([
    ['rsa', 'RSA PRIVATE KEY', 'rsa'],
    ['', 'RSA PRIVATE KEY', 'rsa'],
    ['ecdsa', 'EC PRIVATE KEY', 'ec'],
    ['ed25519', 'PRIVATE KEY', 'ed25519'],
    ['dsa', 'DSA PRIVATE KEY', 'dsa'],
  ])(
    'genPrivateKey %j writes a %s that OpenSSL reads',
    (type, header, kind) => {
      const key = render(`{{ genPrivateKey "${type}" }}`);
      expect(key.startsWith(`-----BEGIN ${header}-----\n`)).toBe(true);
      writeFileSync(join(dir, 'gen.key'), key);
      const text = ssl(['pkey', '-in', 'gen.key', '-noout', '-text']);
      if (kind === 'rsa') expect(text).toContain('Private-Key: (4096 bit, 2 primes)');
      if (kind === 'ec') expect(text).toContain('NIST CURVE: P-256');
      if (kind === 'ed25519') expect(text).toContain('ED25519 Private-Key');
      if (kind === 'dsa') expect(text).toMatch(/Private-Key: \(2048 bit\)[\s\S]*Q:/);
    },
    30_000,
  );

  it('genPrivateKey refuses an unknown type instead of writing Sprig\'s "Unknown type" into the Secret', () => {
    expect(failure('{{ genPrivateKey .secret }}')).toMatch(/genPrivateKey: unknown key type/);
    expect(failure('{{ genPrivateKey .secret }}')).not.toContain(CANARY);
  });
});
