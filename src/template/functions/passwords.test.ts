/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// bcrypt, htpasswd and derivePassword (Sprig's own test vectors).
import bcryptjs from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import {
  CANARY_KEYED as CANARY,
  failureKeyed as failure,
  renderKeyed as render,
} from '../../../test/support/template-render.ts';

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

describe('derivePassword', () => {
  it.each([
    // Sprig's own test vectors (crypto_test.go, TestDerivePassword)
    ['1 "long"', 'ZedaFaxcZaso9*'],
    ['2 "long"', 'Fovi2@JifpTupx'],
    ['1 "maximum"', 'pf4zS1LjCg&LjhsZ7T2~'],
    ['1 "medium"', 'ZedJuz8$'],
    ['1 "basic"', 'pIS54PLs'],
    ['1 "short"', 'Zed5'],
    ['1 "pin"', '6685'],
  ])('derivePassword %s', (args, want) => {
    expect(render(`{{ derivePassword ${args} "password" "user" "example.com" }}`)).toBe(want);
  });

  it('derivePassword refuses an unknown template and a negative counter', () => {
    expect(failure('{{ derivePassword 1 .secret "p" "u" "s" }}')).toMatch(/cannot find password template/);
    expect(failure('{{ derivePassword 1 .secret "p" "u" "s" }}')).not.toContain(CANARY);
    expect(failure('{{ derivePassword -1 "pin" "p" "u" "s" }}')).toMatch(/expected unsigned integer; found -1/);
  });
});
