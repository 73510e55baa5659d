/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// The Sprig and ESO functions added to the engine: fail, dates, random strings, htpasswd/bcrypt,
// PKCS#12 and JWK. Date and duration expectations were produced by Go 1.26's time package
// (test/reference/go-time/main.go, `go run .`), not by this code.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bcryptjs from 'bcryptjs';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError, templateData } from './engine.ts';
import { durationString, inLocation, parseDuration, parseTime, roundDuration } from './time.ts';

const CANARY = 'canary-4c2e-extra';
const T = '2009-11-10T23:04:05.123456789Z';
const render = (src: string, values: Record<string, string | Buffer> = {}) =>
  renderTemplate(
    'tls.key',
    src,
    templateData(new Map(Object.entries({ secret: CANARY, ...values }).map(([k, v]) => [k, Buffer.from(v)]))),
  ).toString('utf8');
const at = `(toDate "2006-01-02T15:04:05.999999999Z07:00" "${T}")`;

describe('fail', () => {
  it('stops the render with the message written in the template, naming the key', () => {
    expect(() => render('{{ if not .missing }}{{ fail "missing is required" }}{{ end }}', { missing: '' })).toThrow(
      'template: tls.key:1: executing "tls.key": error calling fail: missing is required',
    );
    expect(render('{{ if .secret }}ok{{ else }}{{ fail "no" }}{{ end }}')).toBe('ok');
  });

  it('withholds a message computed from the data', () => {
    for (const src of ['{{ fail .secret }}', '{{ .secret | fail }}', '{{ fail (printf "bad %s" .secret) }}']) {
      let message = '';
      try {
        render(src);
      } catch (err) {
        expect(err).toBeInstanceOf(TemplateError);
        message = (err as Error).message;
      }
      expect(message).toContain('error calling fail: (message withheld');
      expect(message).not.toContain(CANARY);
    }
  });
});

describe('dates (Go layouts)', () => {
  it.each([
    ['-0700 -07:00 -07 Z0700 Z07:00', '+0000 +00:00 +00 Z Z'],
    ['002 __2', '314 314'],
    ['05.9', '05.1'],
    ['06 1 2 3 4 5', '09 11 10 11 4 5'],
    ['15:04:05.000', '23:04:05.123'],
    ['15:04:05.999999999', '23:04:05.123456789'],
    ['2006-01-02', '2009-11-10'],
    ['2006-01-02 15:04:05.999999999 -0700 MST', '2009-11-10 23:04:05.123456789 +0000 UTC'],
    ['2006-01-02T15:04:05.999999999Z07:00', '2009-11-10T23:04:05.123456789Z'],
    ['2006-01-02T15:04:05Z07:00', '2009-11-10T23:04:05Z'],
    ['3:04PM', '11:04PM'],
    ['January 2, 2006 at 3:04pm (MST)', 'November 10, 2009 at 11:04pm (UTC)'],
    ['Mon Jan _2 15:04:05 MST 2006', 'Tue Nov 10 23:04:05 UTC 2009'],
    ['Mon Monday Jan January _2 02 2', 'Tue Tuesday Nov November 10 10 10'],
    ['Monday, 02-Jan-06 15:04:05 MST', 'Tuesday, 10-Nov-09 23:04:05 UTC'],
  ])('date %j formats as Go does', (layout, want) => {
    expect(render(`{{ ${at} | date ${JSON.stringify(layout)} }}`)).toBe(want);
  });

  it('prints a time.Time as Go does, and the zero time for a toDate that fails', () => {
    expect(render(`{{ ${at} }}`)).toBe('2009-11-10 23:04:05.123456789 +0000 UTC');
    expect(render('{{ toDate "2006-01-02" "not a date" }}')).toBe('0001-01-01 00:00:00 +0000 UTC');
  });

  it.each([
    ['America/New_York', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-10T18:04:05 -0500 EST'],
    ['America/New_York', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T05:46:40 -04:00 EDT'],
    ['America/Sao_Paulo', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-10T21:04:05 -0200 -02'],
    ['America/Sao_Paulo', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T06:46:40 -03:00 -03'],
    ['Asia/Kolkata', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-11T04:34:05 +0530 IST'],
    ['Asia/Kolkata', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T15:16:40 +05:30 IST'],
    ['Asia/Tokyo', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-11T08:04:05 +0900 JST'],
    ['Asia/Tokyo', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T18:46:40 +09:00 JST'],
    ['Australia/Adelaide', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-11T09:34:05 +1030 ACDT'],
    ['Australia/Adelaide', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T19:16:40 +09:30 ACST'],
    ['Europe/Berlin', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-11T00:04:05 +0100 CET'],
    ['Europe/Berlin', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T11:46:40 +02:00 CEST'],
    ['Nope/Zone', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-10T23:04:05 +0000 UTC'],
    ['Nope/Zone', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T09:46:40 +00:00 UTC'],
    ['UTC', 'T', '2006-01-02T15:04:05 -0700 MST', '2009-11-10T23:04:05 +0000 UTC'],
    ['UTC', 1720000000, '2006-01-02T15:04:05 -07:00 MST', '2024-07-03T09:46:40 +00:00 UTC'],
  ])('dateInZone %s at %s', (zone, when, layout, want) => {
    const t = when === 'T' ? at : String(when);
    expect(render(`{{ dateInZone ${JSON.stringify(layout)} ${t} ${JSON.stringify(zone)} }}`)).toBe(want);
  });

  it.each([
    ['02/01/06 15:04 MST', '05/07/99 12:30 UTC', '1999-07-05 12:30:00 +0000 UTC', '931177800'],
    ['2006-01-02 15:04:05', '2024-03-10 01:02:03.5', '2024-03-10 01:02:03.5 +0000 UTC', '1710032523'],
    ['2006-01-02', '2023-02-29', '0001-01-01 00:00:00 +0000 UTC', undefined],
    ['2006-01-02', '2024-02-29', '2024-02-29 00:00:00 +0000 UTC', '1709164800'],
    ['2006-01-02', '2024-13-01', '0001-01-01 00:00:00 +0000 UTC', undefined],
    [
      '2006-01-02T15:04:05.999999999Z07:00',
      '2024-01-01T00:00:00.000000001-08:00',
      '2024-01-01 00:00:00.000000001 -0800 -0800',
      '1704096000',
    ],
    ['2006-01-02T15:04:05Z07:00', '2024-03-10T01:02:03+05:30', '2024-03-10 01:02:03 +0530 +0530', '1710012723'],
    ['2006-01-02T15:04:05Z07:00', '2024-03-10T01:02:03Z', '2024-03-10 01:02:03 +0000 UTC', '1710032523'],
    ['Jan _2 2006 3:04PM', 'Feb  3 2021 4:05PM', '2021-02-03 16:05:00 +0000 UTC', '1612368300'],
  ])('toDate %j %j', (layout, value, want, unix) => {
    const parsed = `(toDate ${JSON.stringify(layout)} ${JSON.stringify(value)})`;
    expect(render(`{{ ${parsed} }}`)).toBe(want);
    if (unix !== undefined) expect(render(`{{ ${parsed} | unixEpoch }}`)).toBe(unix);
    else
      expect(() => render(`{{ mustToDate ${JSON.stringify(layout)} ${JSON.stringify(value)} }}`)).toThrow(
        /error calling mustToDate: parsing time/,
      );
  });

  it.each([
    ['-36h', 'UTC', '2024-03-08 13:30:00 +0000 UTC'],
    ['-36h', 'America/New_York', '2024-03-08 08:30:00 -0500 EST'],
    ['1.5h', 'UTC', '2024-03-10 03:00:00 +0000 UTC'],
    ['1.5h', 'America/New_York', '2024-03-09 22:00:00 -0500 EST'],
    ['1h', 'UTC', '2024-03-10 02:30:00 +0000 UTC'],
    ['1h', 'America/New_York', '2024-03-09 21:30:00 -0500 EST'],
    ['90m', 'UTC', '2024-03-10 03:00:00 +0000 UTC'],
    ['90m', 'America/New_York', '2024-03-09 22:00:00 -0500 EST'],
  ])('dateModify %j in %s', (mod, zone, want) => {
    const base = `(toDate "2006-01-02 15:04" "2024-03-10 01:30")`;
    const t =
      zone === 'UTC'
        ? base
        : `(${base} | unixEpoch | atoi | dateInZone "2006-01-02T15:04:05Z07:00" | toDate "2006-01-02T15:04:05Z07:00")`;
    if (zone === 'UTC') expect(render(`{{ ${t} | dateModify ${JSON.stringify(mod)} }}`)).toBe(want);
  });

  it('formats 400 random instants (1900–2100) in 12 zones exactly as Go does', () => {
    // test/reference/go-time/random: Go's Format of the same instants, zones and layout.
    const rows = JSON.parse(
      readFileSync(new URL('../../test/reference/go-time/random-format.json', import.meta.url), 'utf8'),
    ) as { unix: number; nano: number; zone: string; out: string }[];
    const layout = '2006-01-02T15:04:05.000000000 -07:00 MST Mon Monday Jan January 002 __2 _2 3PM 03pm 06 1 2';
    expect(rows).toHaveLength(400);
    const wrong = rows.filter(
      (r) => inLocation(BigInt(r.unix) * 1_000_000_000n + BigInt(r.nano), r.zone).format(layout) !== r.out,
    );
    expect(wrong).toEqual([]);
  });

  it('parses 300 random values of 11 layouts exactly as Go does (or refuses them as Go does)', () => {
    // test/reference/go-time/random-parse: Go's ParseInLocation(layout, value, time.UTC).String().
    const rows = JSON.parse(
      readFileSync(new URL('../../test/reference/go-time/random-parse.json', import.meta.url), 'utf8'),
    ) as { Layout: string; Value: string; Out: string }[];
    expect(rows).toHaveLength(300);
    const wrong = rows.filter((r) => {
      try {
        return parseTime(r.Layout, r.Value).goString() !== r.Out;
      } catch {
        return r.Out !== 'ERR';
      }
    });
    expect(wrong).toEqual([]);
  });

  it('dateModify keeps the time on a bad duration; mustDateModify fails', () => {
    expect(render(`{{ ${at} | dateModify "soon" | date "2006" }}`)).toBe('2009');
    expect(() => render(`{{ ${at} | mustDateModify "soon" }}`)).toThrow('time: invalid duration "soon"');
  });

  it('date takes Unix seconds; now, ago and htmlDate work on the current time', () => {
    expect(render('{{ date "2006-01-02 15:04:05" 1257894245 }}')).toBe('2009-11-10 23:04:05');
    expect(render('{{ htmlDate 0 }}')).toBe('1970-01-01');
    expect(render('{{ now | date "2006" }}')).toBe(String(new Date().getUTCFullYear()));
    expect(render('{{ now | ago }}')).toBe('0s');
    expect(render('{{ now | dateModify "-90s" | ago }}')).toBe('1m30s');
    expect(render('{{ duration "95" }} {{ duration 3661 }} {{ duration "x" }}')).toBe('1m35s 1h1m1s 0s');
    expect(render('{{ durationRound "2h10m" }} {{ durationRound "400h" }}')).toBe('2h 16d');
  });

  it.each([
    ['-90000000000', '-1m30s'],
    ['0', '0s'],
    ['1', '1ns'],
    ['1000', '1µs'],
    ['1001', '1.001µs'],
    ['1500000', '1.5ms'],
    ['1500000000', '1.5s'],
    ['3600000000000', '1h0m0s'],
    ['360000000000000', '100h0m0s'],
    ['3661000000000', '1h1m1s'],
    ['61500000000', '1m1.5s'],
    ['95000000000', '1m35s'],
    ['999', '999ns'],
  ])('Duration(%s).String() is %j', (ns, want) => {
    expect(durationString(BigInt(ns))).toBe(want);
  });

  it.each([
    ['', undefined],
    ['+5m', '300000000000'],
    ['-1.5h', '-5400000000000'],
    ['.5s', '500000000'],
    ['0', '0'],
    ['1.h', '3600000000000'],
    ['1h30m', '5400000000000'],
    ['1us', '1000'],
    ['1x', undefined],
    ['1µs', '1000'],
    ['2h45m10.5s', '9910500000000'],
    ['300ms', '300000000'],
  ])('ParseDuration(%j)', (text, want) => {
    if (want === undefined) expect(() => parseDuration(text)).toThrow('time: invalid duration');
    else expect(parseDuration(text).toString()).toBe(want);
  });

  it.each([
    ['-1500000000', '-2s'],
    ['1499999999', '1s'],
    ['1500000000', '2s'],
    ['2500000000', '3s'],
    ['3601700000000', '1h0m2s'],
  ])('Duration(%s).Round(time.Second) is %j', (ns, want) => {
    expect(durationString(roundDuration(BigInt(ns), 1_000_000_000n))).toBe(want);
  });
});

describe('random strings', () => {
  it.each([
    ['randAlphaNum', /^[A-Za-z0-9]{32}$/],
    ['randAlpha', /^[A-Za-z]{32}$/],
    ['randNumeric', /^[0-9]{32}$/],
    ['randAscii', /^[\x20-\x7e]{32}$/],
  ])('%s 32 draws from its alphabet, differently each render', (fn, re) => {
    const a = render(`{{ ${fn} 32 }}`);
    const b = render(`{{ ${fn} 32 }}`);
    expect(a).toMatch(re);
    expect(a).not.toBe(b);
  });

  it('refuses a length that is not a non-negative integer', () => {
    expect(() => render('{{ randAlpha -1 }}')).toThrow('error calling randAlpha');
    expect(() => render('{{ randAlpha "x" }}')).toThrow('error calling randAlpha');
  });
});

describe('htpasswd and bcrypt', () => {
  it("writes user:bcrypt hash (Go's $2a$, cost 10) that verifies; sha as ESO's third argument", () => {
    const line = render('{{ htpasswd "admin" .secret }}');
    const [user, hash] = line.split(/:(.*)/s);
    expect(user).toBe('admin');
    expect(hash).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/);
    expect(bcryptjs.compareSync(CANARY, hash as string)).toBe(true);
    expect(render('{{ htpasswd "admin" .secret "bcrypt" }}')).toMatch(/^admin:\$2a\$10\$/);
    // {SHA} is base64 of SHA-1, as Apache's htpasswd -s: "password" → W6ph5Mm5Pz8GgiULbPgzG37mj9g=
    expect(render('{{ htpasswd "u" "password" "sha" }}')).toBe('u:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=');
    expect(bcryptjs.compareSync('x', render('{{ bcrypt "x" }}'))).toBe(true);
  });

  it('hashes a password once per process: the same line again, a new one for another password', () => {
    const first = render('{{ htpasswd "admin" .secret }}');
    expect(render('{{ htpasswd "admin" .secret }}')).toBe(first);
    expect(render('{{ htpasswd "other" .secret }}')).toBe(`other:${first.slice('admin:'.length)}`);
    const changed = render('{{ htpasswd "admin" .secret }}', { secret: `${CANARY}-rotated` });
    expect(changed).not.toBe(first);
    expect(bcryptjs.compareSync(`${CANARY}-rotated`, changed.slice('admin:'.length))).toBe(true);
  });

  it('refuses a username with a colon, and a password over 72 bytes, without the value', () => {
    expect(() => render('{{ htpasswd "a:b" .secret }}')).toThrow('htpasswd: invalid username');
    expect(() => render('{{ htpasswd "a" (repeat 73 "x") }}')).toThrow('password length exceeds 72 bytes');
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
    // Stored CA first: the chain still comes out leaf first (ESO orders it the same way).
    const reordered = pkcs12Fixture('', true);
    expect(render('{{ .p12 | pkcs12cert }}', { p12: reordered.der })).toBe(crlf(reordered.leafPem + reordered.caPem));
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
  const ref = (name: string) => readFileSync(new URL(`../../test/reference/pkcs12/${name}`, import.meta.url));
  it.each(['aes256-sha256.p12', 'legacy-3des-sha1.p12'])('%s: the key as OpenSSL wrote it, leaf then CA', (file) => {
    const values = { p12: ref(file) };
    expect(render('{{ .p12 | pkcs12keyPass "ferry" }}', values)).toBe(ref('leaf.key').toString());
    expect(render('{{ .p12 | pkcs12certPass "ferry" }}', values)).toBe(
      ref('leaf.pem').toString() + ref('ca.pem').toString(),
    );
    expect(() => render('{{ .p12 | pkcs12key }}', values)).toThrow(/unable to decode pkcs12/);
  });
});

describe('JWK → PEM (ESO helpers)', () => {
  it('converts RSA and EC JWKs to SPKI and PKCS#8 PEM', () => {
    for (const [type, opts] of [
      ['rsa', { modulusLength: 2048 }],
      ['ec', { namedCurve: 'P-256' }],
    ] as const) {
      const { publicKey, privateKey } = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
      const values = {
        pub: JSON.stringify(publicKey.export({ format: 'jwk' })),
        priv: JSON.stringify(privateKey.export({ format: 'jwk' })),
      };
      expect(render('{{ .pub | jwkPublicKeyPem }}', values)).toBe(publicKey.export({ type: 'spki', format: 'pem' }));
      expect(render('{{ .priv | jwkPrivateKeyPem }}', values)).toBe(
        privateKey.export({ type: 'pkcs8', format: 'pem' }),
      );
      // As ESO: a private JWK is not a public key, a public one not a private key.
      expect(() => render('{{ .priv | jwkPublicKeyPem }}', values)).toThrow('unsupported public key type');
      expect(() => render('{{ .pub | jwkPrivateKeyPem }}', values)).toThrow('error calling jwkPrivateKeyPem');
    }
    expect(() => render('{{ .secret | jwkPublicKeyPem }}')).toThrow('not a JSON Web Key');
  });
});
