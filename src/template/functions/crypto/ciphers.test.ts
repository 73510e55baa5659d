/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// rsaDecrypt against `openssl pkeyutl`, encryptAES/decryptAES against `openssl enc`.

import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CANARY, dir, failure, pem, render, usePki } from './fixtures/openssl-pki.ts';

usePki();

describe('rsaDecrypt (ESO)', () => {
  const encrypt = (md: string, plain: string) => {
    writeFileSync(join(dir, 'pub.pem'), createPublicKey(pem.leafKey).export({ type: 'spki', format: 'pem' }));
    return execFileSync(
      'openssl',
      ['pkeyutl', '-encrypt', '-pubin', '-inkey', 'pub.pem', '-pkeyopt', 'rsa_padding_mode:oaep'].concat([
        '-pkeyopt',
        `rsa_oaep_md:${md}`,
        '-pkeyopt',
        `rsa_mgf1_md:${md}`,
      ]),
      { cwd: dir, input: plain },
    ).toString('base64');
  };

  it.each([
    ['SHA256', 'sha256'],
    ['SHA1', 'sha1'],
    ['SHA512', 'sha512'],
    ['None', 'sha256'],
  ])('decrypts RSA-OAEP with hash %s (OpenSSL-encrypted)', (hash, md) => {
    const ct = encrypt(md, 'db-password');
    expect(render(`{{ rsaDecrypt "RSA-OAEP" "${hash}" (.ct | b64dec) .leafKey }}`, { ct })).toBe('db-password');
    expect(render(`{{ .leafKey | rsaDecrypt "RSA-OAEP" "${hash}" (.ct | b64dec) }}`, { ct })).toBe('db-password');
  });

  it('"None" passes the input through; other schemes, keys and ciphertexts fail without the value', () => {
    expect(render('{{ rsaDecrypt "None" "SHA256" "as-is" "" }}')).toBe('as-is');
    const ct = encrypt('sha256', CANARY);
    const cases: [string, RegExp][] = [
      [
        '{{ rsaDecrypt "RSA-OAEP" "SHA1" (.ct | b64dec) .leafKey }}',
        /error decrypting data with RSA: crypto\/rsa: decryption error/,
      ],
      ['{{ rsaDecrypt "RSA-OAEP" "SHA256" (.ct | b64dec) .rootKey }}', /could not parse RSA private key/],
      ['{{ rsaDecrypt "RSA-OAEP" "SHA256" (.ct | b64dec) .secret }}', /rsaDecrypt: failed to decode PEM block/],
      ['{{ rsaDecrypt .secret "SHA256" (.ct | b64dec) .leafKey }}', /decryption scheme is not supported/],
    ];
    for (const [src, want] of cases) {
      const message = failure(src, { ct });
      expect(message).toMatch(want);
      expect(message).not.toContain(CANARY);
    }
  });
});

describe('encryptAES and decryptAES (Sprig)', () => {
  it("decryptAES reads ciphertexts OpenSSL made with Sprig's scheme (key zero-padded to 32 bytes, IV first)", () => {
    // printf plaintext | openssl enc -aes-256-cbc -K <"secretkey" + zeros> -iv 000102…0f, IV prepended
    expect(render('{{ decryptAES "secretkey" "AAECAwQFBgcICQoLDA0OD4aChIkqfhLglmmHSXlA6r0=" }}')).toBe('plaintext');
    // a password past 32 bytes is cut at 32 (key = "0123456789abcdef0123456789abcdef")
    const long = '8ODQwLCgkIBwYFBAMCAQAPa1NOJNA7hjM+B1ZcpfVT5deWrm1DaktVHLK1EcBapoT8Zb4DPDxPFqQJX6oa7E4w==';
    expect(render(`{{ decryptAES "0123456789abcdef0123456789abcdefTAIL" "${long}" }}`)).toBe(
      'a longer plaintext across two blocks',
    );
  });

  it('encryptAES round-trips, OpenSSL decrypts it, and empty input stays empty', () => {
    expect(render('{{ .secret | encryptAES "k" | decryptAES "k" }}')).toBe(CANARY);
    const b64 = render('{{ encryptAES "secretkey" .secret }}');
    const raw = Buffer.from(b64, 'base64');
    const key = Buffer.alloc(32);
    key.write('secretkey');
    const plain = execFileSync(
      'openssl',
      ['enc', '-d', '-aes-256-cbc', '-K', key.toString('hex'), '-iv', raw.subarray(0, 16).toString('hex')],
      {
        input: raw.subarray(16),
      },
    ).toString('utf8');
    expect(plain).toBe(CANARY);
    expect(render('{{ encryptAES "k" "" }}|{{ decryptAES "k" "" }}')).toBe('|');
    for (const src of ['{{ decryptAES "k" .secret }}', '{{ decryptAES "k" (b64enc .secret) }}']) {
      expect(failure(src)).not.toContain(CANARY);
    }
  });
});
