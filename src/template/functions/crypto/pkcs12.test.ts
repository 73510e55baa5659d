/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// PKCS#12: reading keystores made by node-forge and OpenSSL 3 (pkcs12key, pkcs12cert), and
// writing them as go-pkcs12's Modern encoder does (pemToPkcs12 and friends), read back by OpenSSL
// and node-forge.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import {
  CANARY,
  certsIn,
  der,
  dir,
  failure,
  file,
  opensslPkcs12,
  pem,
  render,
  ssl,
  usePki,
} from './fixtures/openssl-pki.ts';

usePki();

describe('pemToPkcs12 and friends (go-pkcs12 Modern, as ESO encodes)', () => {
  it('pemToPkcs12 writes an archive OpenSSL and node-forge read back: the key and its certificate', () => {
    const b64 = render('{{ pemToPkcs12 .leaf .leafKey }}');
    const info = opensslPkcs12(b64, '');
    expect(info).toContain('MAC: sha256, Iteration 2048');
    expect(info).toContain('PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256');
    expect(info).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256');
    expect(certsIn(info).map(der)).toEqual([der(pem.leaf)]);

    const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(Buffer.from(b64, 'base64').toString('binary')), '');
    const certBags = p12.getBags({ bagType: forge.pki.oids.certBag as string })[forge.pki.oids.certBag as string] ?? [];
    expect(certBags).toHaveLength(1);
    const keyOid = forge.pki.oids.pkcs8ShroudedKeyBag as string;
    const key = (p12.getBags({ bagType: keyOid })[keyOid] ?? [])[0]?.key as forge.pki.rsa.PrivateKey;
    const want = createPrivateKey(pem.leafKey).export({ format: 'jwk' });
    expect(Buffer.from(key.n.toString(16).padStart(512, '0'), 'hex').toString('base64url')).toBe(want.n);
    // the key bag and the certificate bag share the localKeyId (SHA-1 of the certificate)
    expect(info.match(/localKeyID: ([0-9A-F ]+)/g)).toHaveLength(2);
  });

  it('only the first certificate goes in with pemToPkcs12; Ferry reads the archive back with pkcs12key/pkcs12cert', () => {
    const chain = pem.leaf + pem.inter + pem.root;
    const b64 = render('{{ pemToPkcs12 .chain .leafKey }}', { chain });
    expect(certsIn(opensslPkcs12(b64, '')).map(der)).toEqual([der(pem.leaf)]);
    expect(render('{{ .p | b64dec | pkcs12cert }}', { p: b64 })).toBe(pem.leaf);
    const key = render('{{ .p | b64dec | pkcs12key }}', { p: b64 });
    expect(createPrivateKey(key).export({ format: 'jwk' })).toEqual(
      createPrivateKey(pem.leafKey).export({ format: 'jwk' }),
    );
  });

  it('pemToPkcs12Pass encrypts under the password (EC key); a wrong password fails the MAC', () => {
    const b64 = render('{{ pemToPkcs12Pass .ecCert .ecKey "p4ss-wörd" }}');
    const info = opensslPkcs12(b64, 'p4ss-wörd');
    expect(certsIn(info).map(der)).toEqual([der(pem.ecCert)]);
    const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----\n/.exec(info)?.[0] ?? '';
    expect(createPrivateKey(keyPem).export({ format: 'jwk' })).toEqual(
      createPrivateKey(pem.ecKey).export({ format: 'jwk' }),
    );
    expect(() => opensslPkcs12(b64, 'wrong')).toThrow();
  });

  it('fullPemToPkcs12Pass carries the whole chain, leaf first, and pkcs12certPass orders it back', () => {
    const chain = pem.leaf + pem.root + pem.inter;
    const b64 = render('{{ fullPemToPkcs12Pass .chain .leafKey "s3cret" }}', { chain });
    expect(certsIn(opensslPkcs12(b64, 's3cret')).map(der)).toEqual([der(pem.leaf), der(pem.root), der(pem.inter)]);
    expect(render('{{ .p | b64dec | pkcs12certPass "s3cret" }}', { p: b64 })).toBe(pem.leaf + pem.inter + pem.root);
    const plain = render('{{ fullPemToPkcs12 .chain .leafKey }}', { chain: pem.leaf + pem.inter });
    expect(certsIn(opensslPkcs12(plain, '')).map(der)).toEqual([der(pem.leaf), der(pem.inter)]);
  });

  it('pemTruststoreToPKCS12(Pass) holds only certificates, each named by its subject as Go prints it', () => {
    const chain = pem.root + pem.inter;
    for (const [src, password] of [
      ['{{ pemTruststoreToPKCS12 .chain }}', ''],
      ['{{ pemTruststoreToPKCS12Pass .chain "s3cret" }}', 's3cret'],
    ] as const) {
      const info = opensslPkcs12(render(src, { chain }), password);
      expect(certsIn(info).map(der)).toEqual([der(pem.root), der(pem.inter)]);
      expect(info).not.toContain('PRIVATE KEY');
      // pkix.Name.String: reversed RDNs, ',' escaped
      expect([...info.matchAll(/friendlyName: (.*)/g)].map((m) => m[1])).toEqual([
        'CN=Root CA,O=Ferry Test,C=DE',
        'CN=Intermediate\\, One',
      ]);
    }
    // Go writes its parsed fields in its own order (a multi-valued O+OU becomes two), escapes a
    // leading '#' and a trailing space, and puts an attribute it has no name for last, as the
    // DER of its string (UTF8String here: '@' is not printable)
    const odd = opensslPkcs12(render('{{ pemTruststoreToPKCS12 .odd }}'), '');
    expect(/friendlyName: (.*)/.exec(odd)?.[1]).toBe(
      `CN=\\#x\\ ,OU=B,O=A,1.2.840.113549.1.9.1=#0c0f${Buffer.from('ops@example.com').toString('hex')}`,
    );
  });

  it('fails naming the function, never carrying the key, password or input', () => {
    const badKey = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(CANARY).toString('base64')}\n-----END PRIVATE KEY-----\n`;
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        '{{ pemToPkcs12 .secret .leafKey }}',
        {},
        /error calling pemToPkcs12: pemToPkcs12: no PEM data found in the certificate/,
      ],
      ['{{ pemToPkcs12Pass .leaf .badKey .secret }}', { badKey }, /pemToPkcs12Pass: unable to parse private key type/],
      ['{{ pemToPkcs12 .leaf .secret }}', {}, /pemToPkcs12: no PEM data found in the private key/],
      [
        '{{ pemToPkcs12 .badCert .leafKey }}',
        { badCert: badKey.replaceAll('PRIVATE KEY', 'CERTIFICATE') },
        /pemToPkcs12: x509: malformed certificate/,
      ],
      [
        '{{ fullPemToPkcs12 .chain .leafKey }}',
        { chain: `${pem.leaf}${CANARY}` },
        /fullPemToPkcs12: no PEM data found in the certificate chain/,
      ],
      [
        '{{ pemTruststoreToPKCS12Pass .root .pw }}',
        { pw: `${CANARY}😀` },
        /pkcs12: string contains characters that cannot be encoded in UCS-2/,
      ],
      ['{{ pemToPkcs12 1 2 }}', {}, /expected string; found 1/],
      ['{{ pemToPkcs12 (len .secret) 2 }}', {}, /wrong type for value; expected string; got int/],
    ];
    for (const [src, values, want] of cases) {
      const message = failure(src, values);
      expect(message).toMatch(want);
      expect(message).not.toContain(CANARY);
      expect(message).not.toContain(Buffer.from(CANARY).toString('base64'));
    }
  });
});

/** A self-signed CA, a leaf it signs, and a PKCS#12 of the leaf's key with leaf and CA certificates. */
function pkcs12Fixture(password: string, caFirst = false) {
  const pki = forge.pki;
  const make = (
    cn: string,
    issuer: forge.pki.CertificateField[] | undefined,
    signer: forge.pki.rsa.PrivateKey | undefined,
  ) => {
    const keys = pki.rsa.generateKeyPair(1024);
    const cert = pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = cn === 'ca' ? '01' : '02';
    cert.validity.notBefore = new Date(Date.UTC(2024, 0, 1));
    cert.validity.notAfter = new Date(Date.UTC(2034, 0, 1));
    cert.setSubject([{ name: 'commonName', value: cn }]);
    cert.setIssuer(issuer ?? [{ name: 'commonName', value: cn }]);
    cert.sign(signer ?? keys.privateKey, forge.md.sha256.create());
    return { keys, cert };
  };
  const ca = make('ca', undefined, undefined);
  const leaf = make('leaf', ca.cert.subject.attributes, ca.keys.privateKey);
  const chain = caFirst ? [ca.cert, leaf.cert] : [leaf.cert, ca.cert];
  const p12 = forge.pkcs12.toPkcs12Asn1(leaf.keys.privateKey, chain, password, { algorithm: '3des' });
  const der = Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
  const keyPem = pki.privateKeyInfoToPem(pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(leaf.keys.privateKey)));
  return { der, keyPem, leafPem: pki.certificateToPem(leaf.cert), caPem: pki.certificateToPem(ca.cert) };
}

describe('PKCS#12 (ESO helpers)', () => {
  const open = pkcs12Fixture('');
  const locked = pkcs12Fixture('s3cret');
  const crlf = (s: string) => s.replace(/\r\n/g, '\n');

  it('pkcs12key / pkcs12cert read the key (PKCS#8 PEM) and the chain, leaf first, from binary data', () => {
    expect(render('{{ .p12 | pkcs12key }}', { p12: open.der })).toBe(crlf(open.keyPem));
    expect(render('{{ .p12 | pkcs12cert }}', { p12: open.der })).toBe(crlf(open.leafPem + open.caPem));
    // Stored CA first: go-pkcs12 takes the first certificate as the leaf, and ESO's reordering by key
    // identifiers gives up on certificates that have none, so the CA stays first (checked with ESO).
    const reordered = pkcs12Fixture('', true);
    expect(render('{{ .p12 | pkcs12cert }}', { p12: reordered.der })).toBe(crlf(reordered.caPem + reordered.leafPem));
    // The usual shape: the keystore stored base64 in the provider.
    expect(render('{{ .p12 | b64dec | pkcs12key }}', { p12: open.der.toString('base64') })).toBe(crlf(open.keyPem));
  });

  it('pkcs12keyPass / pkcs12certPass take the password first; a wrong one fails without values', () => {
    expect(render('{{ .p12 | pkcs12keyPass "s3cret" }}', { p12: locked.der })).toBe(crlf(locked.keyPem));
    expect(render('{{ .p12 | pkcs12certPass "s3cret" }}', { p12: locked.der })).toBe(
      crlf(locked.leafPem + locked.caPem),
    );
    expect(() => render('{{ .p12 | pkcs12keyPass .secret }}', { p12: locked.der })).toThrow(
      /error calling pkcs12keyPass: pkcs12keyPass: unable to decode pkcs12/,
    );
    try {
      render('{{ .p12 | pkcs12keyPass .secret }}', { p12: locked.der });
    } catch (err) {
      expect((err as Error).message).not.toContain(CANARY);
    }
    expect(() => render('{{ .secret | pkcs12key }}')).toThrow(/unable to decode pkcs12/);
  });
});

describe('PKCS#12 keystores made by OpenSSL 3 (test/reference/pkcs12)', () => {
  const ref = (name: string) => readFileSync(new URL(`../../../../test/reference/pkcs12/${name}`, import.meta.url));
  it.each(['aes256-sha256.p12', 'legacy-3des-sha1.p12'])('%s: the key as OpenSSL wrote it, leaf then CA', (file) => {
    const values = { p12: ref(file) };
    expect(render('{{ .p12 | pkcs12keyPass "ferry" }}', values)).toBe(ref('leaf.key').toString());
    expect(render('{{ .p12 | pkcs12certPass "ferry" }}', values)).toBe(
      ref('leaf.pem').toString() + ref('ca.pem').toString(),
    );
    expect(() => render('{{ .p12 | pkcs12key }}', values)).toThrow(/unable to decode pkcs12/);
  });
});

describe('PKCS#12 keystores of EC keys (as go-pkcs12 reads them)', () => {
  it('pkcs12key reads an EC key, and pkcs12cert its certificate; pemToPkcs12 of an EC key reads back', () => {
    ssl(['req', '-x509', '-new', '-key', 'root.key', '-subj', '/CN=ec-p12', '-days', '30', '-out', 'ec-p12.pem']);
    ssl(['pkcs12', '-export', '-inkey', 'root.key', '-in', 'ec-p12.pem', '-out', 'ec.p12', '-passout', 'pass:']);
    const p12 = readFileSync(join(dir, 'ec.p12'));
    const key = createPrivateKey(pem.rootKey).export({ type: 'pkcs8', format: 'pem' });
    expect(render('{{ .p12 | pkcs12key }}', { p12 })).toBe(key);
    expect(render('{{ .p12 | pkcs12cert }}', { p12 })).toBe(file('ec-p12.pem'));
    expect(render('{{ pemToPkcs12 .ecCert .ecKey | b64dec | pkcs12key }}')).toBe(
      createPrivateKey(pem.ecKey).export({ type: 'pkcs8', format: 'pem' }),
    );
  });
});
