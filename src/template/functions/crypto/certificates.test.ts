/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// Sprig's certificate generation, checked with node:crypto's X509Certificate and OpenSSL.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CANARY, certsIn, dir, failure, pem, render, ssl, usePki } from './fixtures/openssl-pki.ts';

usePki();

describe('Sprig certificate generation', () => {
  it('genCA and genSignedCert: the CA signs the leaf, with the names, usages and lifetime Sprig sets', () => {
    const out = render(
      '{{ $ca := genCA "ferry-ca" 365 }}{{ $c := genSignedCert "svc.example" (list "10.0.0.7" "::1") (list "svc.example" "alt.example") 30 $ca }}' +
        '{{ $ca.Cert }}{{ $c.Cert }}{{ $c.Key }}{{ $ca.Key }}',
    );
    const [caPem, leafPem] = certsIn(out);
    const ca = new X509Certificate(caPem as string);
    const leaf = new X509Certificate(leafPem as string);
    expect(ca.subject).toBe('CN=ferry-ca');
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.subjectAltName).toBe(
      'DNS:svc.example, DNS:alt.example, IP Address:10.0.0.7, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    expect(days).toBe(30);
    // the keys come back as Sprig writes them: PKCS#1 for RSA
    expect(out.match(/-----BEGIN RSA PRIVATE KEY-----/g)).toHaveLength(2);
    const leafKey = /-----BEGIN RSA PRIVATE KEY-----[\s\S]*?-----END RSA PRIVATE KEY-----\n/.exec(out)?.[0] as string;
    expect(leaf.checkPrivateKey(createPrivateKey(leafKey))).toBe(true);
    // OpenSSL agrees: the chain verifies and the extensions read as Go writes them
    writeFileSync(join(dir, 'gen-ca.pem'), caPem as string);
    writeFileSync(join(dir, 'gen-leaf.pem'), leafPem as string);
    expect(ssl(['verify', '-CAfile', 'gen-ca.pem', 'gen-leaf.pem'])).toContain('gen-leaf.pem: OK');
    const text = ssl(['x509', '-in', 'gen-ca.pem', '-noout', '-text']);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment, Certificate Sign/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    // filterCertChain finds the root through the CA's key id
    expect(render('{{ filterCertChain "root" .c }}', { c: caPem as string })).toBe(caPem);
  });

  it('filterCertChain on a Sprig CA and leaf fails as in ESO: neither has the other key id, and Go matches nil to nil', () => {
    // The CA has no AuthorityKeyId and the leaf no SubjectKeyId; bytes.Equal(nil, nil) makes each
    // the other's parent, so ESO finds no leaf. Ferry keeps that rather than guess.
    const src =
      '{{ $ca := genCA "ca" 1 }}{{ $c := genSignedCert "l" nil nil 1 $ca }}{{ filterCertChain "leaf" (print $c.Cert $ca.Cert) }}';
    expect(failure(src)).toMatch(/filterCertChain: no leaf certificate found/);
  });

  it('genSelfSignedCert(WithKey) and genCAWithKey use the given key (EC, Ed25519) and re-encode it as Sprig does', () => {
    const ed = createPrivateKey(execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519'])).export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const ecPkcs8 = createPrivateKey(pem.ecKey).export({ type: 'pkcs8', format: 'pem' }) as string;
    for (const [key, header] of [
      [ecPkcs8, 'EC PRIVATE KEY'],
      [ed, 'PRIVATE KEY'],
    ] as const) {
      const out = render(
        '{{ $c := genSelfSignedCertWithKey "self.example" nil (list "self.example") 10 .k }}{{ $c.Cert }}{{ $c.Key }}',
        { k: key },
      );
      const cert = new X509Certificate(certsIn(out)[0] as string);
      expect(cert.verify(createPublicKey(key))).toBe(true);
      expect(cert.checkHost('self.example')).toBe('self.example');
      expect(out).toContain(`-----BEGIN ${header}-----`);
      const ca = render('{{ (genCAWithKey "k-ca" 5 .k).Cert }}', { k: key });
      expect(new X509Certificate(ca).ca).toBe(true);
    }
    const self = render('{{ $c := genSelfSignedCert "plain.example" nil nil 1 }}{{ $c.Cert }}');
    const cert = new X509Certificate(self);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
  });

  it('genSignedCertWithKey signs the given key; a CA whose key does not match its certificate is refused', () => {
    const out = render(
      '{{ $ca := genCA "ca" 1 }}{{ $c := genSignedCertWithKey "k.example" nil nil 1 $ca .k }}{{ $ca.Cert }}{{ $c.Cert }}',
      { k: pem.ecKey },
    );
    const [caPem, leafPem] = certsIn(out);
    const leaf = new X509Certificate(leafPem as string);
    expect(leaf.verify(new X509Certificate(caPem as string).publicKey)).toBe(true);
    expect(leaf.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      createPublicKey(pem.ecKey).export({ type: 'spki', format: 'der' }),
    );
    expect(
      failure('{{ $ca := buildCustomCert (b64enc .root) (b64enc .leafKey) }}{{ genSignedCert "x" nil nil 1 $ca }}'),
    ).toMatch(/genSignedCert: error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey/);
    expect(failure('{{ genSignedCert "x" nil nil 1 .secret }}')).toMatch(
      /wrong type for value; expected sprig.certificate; got string/,
    );
  });

  it('buildCustomCert takes base64 PEM and exposes .Cert and .Key; bad input fails without it', () => {
    expect(render('{{ (buildCustomCert (b64enc .root) (b64enc .rootKey)).Cert }}')).toBe(pem.root);
    expect(render('{{ (buildCustomCert (b64enc .root) (b64enc .rootKey)).Key }}')).toBe(pem.rootKey);
    for (const [src, want] of [
      ['{{ buildCustomCert .secret (b64enc .rootKey) }}', /unable to decode base64 certificate/],
      ['{{ buildCustomCert (b64enc .secret) (b64enc .rootKey) }}', /buildCustomCert: unable to decode certificate/],
      ['{{ buildCustomCert (b64enc .root) (b64enc .secret) }}', /error parsing private key: no PEM data in input/],
      [
        '{{ (buildCustomCert (b64enc .root) (b64enc .rootKey)).Nope }}',
        /can't evaluate field Nope in type sprig.certificate/,
      ],
    ] as const) {
      const message = failure(src);
      expect(message).toMatch(want);
      expect(message).not.toContain(CANARY);
    }
  });

  it('rejects bad names, IPs and keys with the field named and no value', () => {
    for (const [src, want] of [
      ['{{ genSelfSignedCert "x" (list .secret) nil 1 }}', /genSelfSignedCert: error parsing ip: not an IP address/],
      ['{{ genSelfSignedCert "x" (list 1) nil 1 }}', /error parsing ip: an element is not a string/],
      ['{{ genSelfSignedCert "x" nil nil "1" }}', /expected integer; found "1"/],
      ['{{ genSelfSignedCert "x" nil nil .secret }}', /wrong type for value; expected int; got string/],
      ['{{ genCAWithKey "x" 1 .secret }}', /genCAWithKey: parsing private key: no PEM data in input/],
      ['{{ genCAWithKey "x" 1 .leaf }}', /parsing private key: no private key data in PEM block of type CERTIFICATE/],
      [
        '{{ genCAWithKey "x" 1 (printf "-----BEGIN %s-----\\nAAAA\\n-----END %s-----\\n" .secret .secret) }}',
        /no private key data in PEM block of type \(another label\)/,
      ],
      [
        '{{ genCAWithKey "x" 1 (printf "-----BEGIN %s PRIVATE KEY-----\\nAAAA\\n-----END %s PRIVATE KEY-----\\n" .secret .secret) }}',
        /invalid private key type \(another label\)/,
      ],
      ['{{ genCAWithKey "x" 1 (genPrivateKey "dsa") }}', /does not implement crypto.Signer/],
    ] as const) {
      const message = failure(src);
      expect(message).toMatch(want);
      expect(message).not.toContain(CANARY);
    }
  });
});
