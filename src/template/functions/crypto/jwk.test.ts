/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// JWK → PEM against keys node:crypto makes.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderKeyed as render } from '../../../../test/support/template-render.ts';

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
