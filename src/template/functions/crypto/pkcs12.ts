// PKCS#12 keystores, read and written as ESO does: pkcs12key/pkcs12cert (and their Pass forms)
// decode one (go-pkcs12's DecodeChain: the key as PKCS#8 PEM, the chain leaf first), and
// pemToPkcs12, fullPemToPkcs12 and pemTruststoreToPKCS12 (and Pass forms) encode one as
// go-pkcs12's Modern encoder does, base64 of the DER. node-forge reads; der.ts writes.
import { createCipheriv, createHash, createHmac, type KeyObject, pbkdf2Sync, randomBytes } from 'node:crypto';
import type Forge from 'node-forge';
import { lazyRequire } from '../../../lazy-require.ts';
import { FunctionError, type TemplateFunction } from '../../execute.ts';
import { toBytes } from '../../values.ts';
import { checked, stringNamed, stringParam } from '../arguments.ts';
import { ctx, octets, oid, seq, setOf, tlv, uint } from './der.ts';
import { esoPrivateKey, tryKey } from './keys.ts';
import { OID } from './oids.ts';
import { pemDecode, pemEncode } from './pem.ts';
import { allCerts, type CertInfo, firstCert, nameString, orderChain, parseCert } from './x509.ts';

const loadForge = lazyRequire<typeof Forge>('node-forge');

// Reading: go-pkcs12's DecodeChain.
interface Decoded {
  /** The private key of the first key bag, as Go's x509.ParsePKCS8PrivateKey reads it. */
  key: KeyObject;
  /** The certificates of the cert bags, in the keystore's order: the first is the leaf. */
  certs: Buffer[];
}

/** go-pkcs12's DecodeChain: exactly one key bag, at least one certificate. */
function decodePkcs12(input: unknown, password: string, fn: string): Decoded {
  const forge = loadForge();
  const bytes = toBytes(input).toString('binary');
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(bytes), false, password);
  } catch (err) {
    // forge's messages name structures, never the content.
    const reason = err instanceof Error ? err.message.replace(/\s+/g, ' ').slice(0, 120) : 'error';
    throw new FunctionError(`${fn}: unable to decode pkcs12: ${reason}`);
  }
  const der = (asn1: Forge.asn1.Asn1) => Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  let key: KeyObject | undefined;
  for (const type of [forge.pki.oids.pkcs8ShroudedKeyBag, forge.pki.oids.keyBag] as string[]) {
    for (const bag of p12.getBags({ bagType: type })[type] ?? []) {
      if (key) throw new FunctionError(`${fn}: pkcs12: expected exactly one key bag`);
      // forge parses RSA keys itself and hands other kinds (EC, Ed25519) over as PrivateKeyInfo.
      const info = bag.key
        ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key as Forge.pki.rsa.PrivateKey))
        : (bag.asn1 as Forge.asn1.Asn1 | undefined);
      key = info ? tryKey(der(info), 'pkcs8') : undefined;
      if (!key) throw new FunctionError(`${fn}: x509: unsupported private key in the pkcs12`);
    }
  }
  const certType = forge.pki.oids.certBag as string;
  const certs: Buffer[] = [];
  for (const bag of p12.getBags({ bagType: certType })[certType] ?? []) {
    if (bag.cert) certs.push(der(forge.pki.certificateToAsn1(bag.cert)));
    else if (bag.asn1) certs.push(der(bag.asn1 as Forge.asn1.Asn1));
  }
  if (certs.length === 0) throw new FunctionError(`${fn}: pkcs12: certificate missing`);
  if (!key) throw new FunctionError(`${fn}: pkcs12: private key missing`);
  return { key, certs };
}

/** ESO's pkcs12key: the key as PKCS#8 PEM. */
function pkcs12key(password: string, input: unknown, fn: string): string {
  const { key } = decodePkcs12(input, password, fn);
  return pemEncode('PRIVATE KEY', key.export({ type: 'pkcs8', format: 'der' }));
}

/** ESO's pkcs12cert: the first certificate, then the others, ordered as a chain when they form one. */
function pkcs12cert(password: string, input: unknown, fn: string): string {
  const { certs } = decodePkcs12(input, password, fn);
  const pem = (der: Buffer) => pemEncode('CERTIFICATE', der);
  try {
    return orderChain(
      certs.map((c) => parseCert(c, fn)),
      fn,
    )
      .map((c) => pem(c.raw))
      .join('');
  } catch (err) {
    if (err instanceof FunctionError) return certs.map(pem).join('');
    throw err;
  }
}

/** UCS-2 big-endian, refusing characters outside the BMP as go-pkcs12 does. */
function bmpString(s: string, fn: string): Buffer {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c > 0xffff || (c >= 0xd800 && c <= 0xdfff)) {
      throw new FunctionError(`${fn}: pkcs12: string contains characters that cannot be encoded in UCS-2`);
    }
    out.push(c >> 8, c & 0xff);
  }
  return Buffer.from(out);
}

// Writing: go-pkcs12's Modern2023 encoder (PBES2/PBKDF2-HMAC-SHA-256/AES-256-CBC, MAC HMAC-SHA-256).

const P12_ITERATIONS = 2048;
const P12_SALT = 16;

/** RFC 7292 appendix B.2 key derivation with SHA-256 (u = 32, v = 64), for the MAC key. */
function pkcs12Kdf(password: Buffer, salt: Buffer, id: number, iterations: number, size: number): Buffer {
  const u = 32;
  const v = 64;
  const fill = (b: Buffer) => {
    if (b.length === 0) return Buffer.alloc(0);
    const n = v * Math.ceil(b.length / v);
    return Buffer.from(Array.from({ length: n }, (_, i) => b[i % b.length] as number));
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const out: Buffer[] = [];
  for (let done = 0; done < size; done += u) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let j = 1; j < iterations; j++) A = createHash('sha256').update(A).digest();
    out.push(A);
    const B = fill(A);
    for (let off = 0; off < I.length; off += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[off + k] as number) + (B[k] as number) + carry;
        I[off + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, size);
}

/** PBES2 (PKCS#5 v2.1) encryption: returns the AlgorithmIdentifier and the ciphertext. */
function pbes2Encrypt(plain: Buffer, password: string): { algorithm: Buffer; encrypted: Buffer } {
  const salt = randomBytes(P12_SALT);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, P12_ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const algorithm = seq(
    oid(OID.pbes2),
    seq(
      seq(oid(OID.pbkdf2), seq(octets(salt), uint(P12_ITERATIONS), seq(oid(OID.hmacWithSHA256)))),
      seq(oid(OID.aes256cbc), octets(iv)),
    ),
  );
  return { algorithm, encrypted };
}

const attribute = (type: string, ...values: Buffer[]) => seq(oid(type), setOf(...values));

function safeBag(type: string, value: Buffer, attributes: Buffer[] | undefined): Buffer {
  return seq(oid(type), ctx(0, true, value), ...(attributes ? [setOf(...attributes)] : []));
}

function certBag(der: Buffer, attributes: Buffer[] | undefined): Buffer {
  return safeBag(OID.certBag, seq(oid(OID.x509Certificate), ctx(0, true, octets(der))), attributes);
}

function encryptedContent(bags: Buffer[], password: string): Buffer {
  const { algorithm, encrypted } = pbes2Encrypt(seq(...bags), password);
  return seq(
    oid(OID.encryptedData),
    ctx(0, true, seq(uint(0), seq(oid(OID.data), algorithm, ctx(0, false, encrypted)))),
  );
}

function pfx(authenticatedSafe: Buffer[], password: string, fn: string): string {
  const safe = seq(...authenticatedSafe);
  const macSalt = randomBytes(P12_SALT);
  const macPassword = Buffer.concat([bmpString(password, fn), Buffer.alloc(2)]);
  const macKey = pkcs12Kdf(macPassword, macSalt, 3, P12_ITERATIONS, 32);
  const digest = createHmac('sha256', macKey).update(safe).digest();
  const der = seq(
    uint(3),
    seq(oid(OID.data), ctx(0, true, octets(safe))),
    seq(seq(seq(oid(OID.sha256)), octets(digest)), octets(macSalt), uint(P12_ITERATIONS)),
  );
  return der.toString('base64');
}

/** go-pkcs12 Modern.Encode: certificates in an encrypted SafeContents, the shrouded key beside it. */
function certsKeyToPkcs12(leaf: CertInfo, keyPemText: string, ca: CertInfo[], password: string, fn: string): string {
  const { block } = pemDecode(keyPemText);
  if (!block) throw new FunctionError(`${fn}: no PEM data found in the private key`);
  const key = esoPrivateKey(block.bytes);
  if (!key) throw new FunctionError(`${fn}: unable to parse private key type`);
  bmpString(password, fn);
  const localKeyId = attribute(OID.localKeyId, octets(createHash('sha1').update(leaf.raw).digest()));
  const certBags = [certBag(leaf.raw, [localKeyId]), ...ca.map((c) => certBag(c.raw, []))];
  const { algorithm, encrypted } = pbes2Encrypt(key.export({ type: 'pkcs8', format: 'der' }), password);
  const keyBag = safeBag(OID.shroudedKeyBag, seq(algorithm, octets(encrypted)), [localKeyId]);
  return pfx(
    [encryptedContent(certBags, password), seq(oid(OID.data), ctx(0, true, octets(seq(keyBag))))],
    password,
    fn,
  );
}

function pemToPkcs12(cert: string, key: string, password: string, fn: string): string {
  return certsKeyToPkcs12(firstCert(cert, fn), key, [], password, fn);
}

function fullPemToPkcs12(cert: string, key: string, password: string, fn: string): string {
  const { block, rest } = pemDecode(cert);
  if (!block) throw new FunctionError(`${fn}: no PEM data found in the certificate`);
  const leaf = parseCert(block.bytes, fn);
  return certsKeyToPkcs12(leaf, key, allCerts(rest, fn, 'certificate chain'), password, fn);
}

/** go-pkcs12 Modern.EncodeTrustStore: each certificate trusted for any purpose, named by its subject. */
function pemTruststoreToPkcs12(cert: string, password: string, fn: string): string {
  const certs = allCerts(cert, fn, 'certificates');
  bmpString(password, fn);
  const trusted = attribute(OID.javaTrustStore, oid(OID.anyExtendedKeyUsage));
  const bags = certs.map((c) =>
    certBag(c.raw, [trusted, attribute(OID.friendlyName, tlv(0x1e, bmpString(nameString(c.subjectRaw), fn)))]),
  );
  return pfx([encryptedContent(bags, password)], password, fn);
}

export const pkcs12Functions: Record<string, TemplateFunction> = {
  pkcs12key: checked('pkcs12key', 1, (input) => pkcs12key('', input, 'pkcs12key')),
  pkcs12keyPass: checked('pkcs12keyPass', 2, (pass, input) =>
    pkcs12key(stringNamed(pass, 'pkcs12keyPass', 'the password'), input, 'pkcs12keyPass'),
  ),
  pkcs12cert: checked('pkcs12cert', 1, (input) => pkcs12cert('', input, 'pkcs12cert')),
  pkcs12certPass: checked('pkcs12certPass', 2, (pass, input) =>
    pkcs12cert(stringNamed(pass, 'pkcs12certPass', 'the password'), input, 'pkcs12certPass'),
  ),
  pemToPkcs12: checked('pemToPkcs12', 2, (c, k) =>
    pemToPkcs12(stringParam(c, 'pemToPkcs12'), stringParam(k, 'pemToPkcs12'), '', 'pemToPkcs12'),
  ),
  pemToPkcs12Pass: checked('pemToPkcs12Pass', 3, (c, k, p) =>
    pemToPkcs12(
      stringParam(c, 'pemToPkcs12Pass'),
      stringParam(k, 'pemToPkcs12Pass'),
      stringParam(p, 'pemToPkcs12Pass'),
      'pemToPkcs12Pass',
    ),
  ),
  fullPemToPkcs12: checked('fullPemToPkcs12', 2, (c, k) =>
    fullPemToPkcs12(stringParam(c, 'fullPemToPkcs12'), stringParam(k, 'fullPemToPkcs12'), '', 'fullPemToPkcs12'),
  ),
  fullPemToPkcs12Pass: checked('fullPemToPkcs12Pass', 3, (c, k, p) =>
    fullPemToPkcs12(
      stringParam(c, 'fullPemToPkcs12Pass'),
      stringParam(k, 'fullPemToPkcs12Pass'),
      stringParam(p, 'fullPemToPkcs12Pass'),
      'fullPemToPkcs12Pass',
    ),
  ),
  pemTruststoreToPKCS12: checked('pemTruststoreToPKCS12', 1, (c) =>
    pemTruststoreToPkcs12(stringParam(c, 'pemTruststoreToPKCS12'), '', 'pemTruststoreToPKCS12'),
  ),
  pemTruststoreToPKCS12Pass: checked('pemTruststoreToPKCS12Pass', 2, (c, p) =>
    pemTruststoreToPkcs12(
      stringParam(c, 'pemTruststoreToPKCS12Pass'),
      stringParam(p, 'pemTruststoreToPKCS12Pass'),
      'pemTruststoreToPKCS12Pass',
    ),
  ),
};
