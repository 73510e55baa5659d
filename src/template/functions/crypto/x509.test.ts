/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// filterCertChain, filterPEM and certSANs over an OpenSSL-made chain.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dir, failure, file, pem, render, ssl, usePki } from './fixtures/openssl-pki.ts';

usePki();

describe('filterCertChain and filterPEM', () => {
  it.each([
    ['leaf', 'full chain, shuffled', () => pem.root + pem.leaf + pem.inter, () => pem.leaf],
    ['intermediate', 'full chain, shuffled', () => pem.root + pem.leaf + pem.inter, () => pem.inter],
    ['root', 'full chain, shuffled', () => pem.root + pem.leaf + pem.inter, () => pem.root],
    ['leaf', 'chain without root', () => pem.inter + pem.leaf, () => pem.leaf],
    ['intermediate', 'chain without root', () => pem.inter + pem.leaf, () => pem.inter],
    ['root', 'chain without root', () => pem.inter + pem.leaf, () => ''],
    ['leaf', 'leaf only', () => pem.leaf, () => pem.leaf],
    ['intermediate', 'leaf only', () => pem.leaf, () => ''],
    ['leaf', 'root only', () => pem.root, () => ''],
    ['root', 'root only', () => pem.root, () => pem.root],
    ['other', 'full chain', () => pem.root + pem.leaf + pem.inter, () => ''],
  ])('%s of %s', (type, _, input, want) => {
    expect(render(`{{ filterCertChain "${type}" .chain }}`, { chain: input() })).toBe(want());
  });

  it('fails on no certificate, a key among them, and disjunct certificates', () => {
    expect(failure('{{ filterCertChain "leaf" "" }}')).toMatch(/filterCertChain: no leaf certificate found/);
    expect(failure('{{ filterCertChain "leaf" .c }}', { c: pem.leaf + pem.leafKey })).toMatch(
      /filterCertChain: x509: malformed certificate/,
    );
    expect(failure('{{ filterCertChain "leaf" .c }}', { c: pem.leaf + pem.root })).toMatch(
      /found multiple leaf or disjunct certificates/,
    );
  });

  it('filterPEM picks blocks by type (any case), skips leading junk, refuses junk-only input', () => {
    expect(render('{{ filterPEM "CERTIFICATE" .x }}', { x: pem.leafKey + pem.leaf })).toBe(pem.leaf);
    expect(render('{{ filterPEM "certificate" .x }}', { x: pem.leafKey + pem.leaf + pem.root })).toBe(
      pem.leaf + pem.root,
    );
    expect(render('{{ filterPEM "PRIVATE KEY" .x }}', { x: `some junk${pem.leaf}${pem.leafKey}tail ---junk---` })).toBe(
      pem.leafKey,
    );
    // Junk between blocks ends the decoding, as Go's pem.Decode does.
    expect(failure('{{ filterPEM "PRIVATE KEY" .x }}', { x: `${pem.leaf}some junk${pem.leafKey}` })).toMatch(
      /error calling filterPEM: error filtering pem: found junk/,
    );
    expect(failure('{{ filterPEM "PRIVATE KEY" "---junk---" }}')).toMatch(/found junk/);
    const legacy =
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n';
    expect(render('{{ filterPEM "RSA PRIVATE KEY" .x }}', { x: legacy })).toBe(legacy);
  });
});

describe('certSANs (ESO 2.2+)', () => {
  it("lists DNS names, IP addresses, emails and URIs in Go's order and spelling", () => {
    writeFileSync(
      join(dir, 'san.cnf'),
      '[s]\nsubjectAltName=URI:spiffe://ns/sa,email:ops@example.com,IP:::ffff:10.1.2.3,IP:2001:db8:0:0:1:0:0:1,DNS:a.example,IP:192.0.2.1,DNS:b.example\n',
    );
    ssl(
      ['req', '-x509', '-new', '-key', 'inter.key', '-subj', '/CN=san', '-days', '1', '-out', 'san.pem'].concat([
        '-extensions',
        's',
        '-config',
        'san.cnf',
      ]),
    );
    expect(render('{{ certSANs .c | join "," }}', { c: `junk ${file('san.pem')}` })).toBe(
      'a.example,b.example,10.1.2.3,2001:db8::1:0:0:1,192.0.2.1,ops@example.com,spiffe://ns/sa',
    );
    expect(render('{{ certSANs .root | len }}')).toBe('0');
    expect(failure('{{ certSANs .secret }}')).toMatch(/certSANs: failed to decode PEM block/);
  });
});
