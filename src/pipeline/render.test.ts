import { describe, expect, it } from 'vitest';
import type { ExternalSecretSpec } from '../api/v1alpha1/external-secret.ts';
import type { FetchedValue } from '../providers/provider.ts';
import { SecretValue } from '../values.ts';
import { MAX_SECRET_DATA_BYTES, readId, remoteReads, renderSecretData } from './render.ts';

const CANARY = 'canary-2b9e-render';

function fetched(values: Record<string, string>): Map<string, FetchedValue> {
  return new Map(Object.entries(values).map(([k, v]) => [readId({ key: k }), { value: SecretValue.fromString(v) }]));
}

function text(data: Map<string, SecretValue>): Record<string, string> {
  return Object.fromEntries([...data].map(([k, v]) => [k, v.revealText()]));
}

const store = { name: 'demo' };

describe('renderSecretData', () => {
  it('reads each (key, version) once however many properties use it', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      data: [
        { secretKey: 'user', remoteRef: { key: 'db', property: 'user' } },
        { secretKey: 'pass', remoteRef: { key: 'db', property: 'pass' } },
        { secretKey: 'old', remoteRef: { key: 'db', version: 'v1' } },
      ],
      dataFrom: [{ extract: { key: 'db' } }],
    };
    expect(remoteReads(spec)).toEqual([
      { key: 'db', version: undefined },
      { key: 'db', version: 'v1' },
    ]);
  });

  it('selects literal keys first, then dotted paths, and serialises non-string leaves', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      data: [
        { secretKey: 'dotted', remoteRef: { key: 'cfg', property: 'a.b' } },
        { secretKey: 'nested', remoteRef: { key: 'cfg', property: 'x.y' } },
        { secretKey: 'num', remoteRef: { key: 'cfg', property: 'port' } },
        { secretKey: 'obj', remoteRef: { key: 'cfg', property: 'x' } },
      ],
    };
    const out = renderSecretData(
      spec,
      fetched({ cfg: '{"a.b":"literal","a":{"b":"path"},"x":{"y":"deep"},"port":5432}' }),
    );
    expect(text(out)).toEqual({ dotted: 'literal', nested: 'deep', num: '5432', obj: '{"y":"deep"}' });
  });

  it('decodes Base64, Base64URL and Auto', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      data: [
        { secretKey: 'b64', remoteRef: { key: 'a', decodingStrategy: 'Base64' } },
        { secretKey: 'url', remoteRef: { key: 'b', decodingStrategy: 'Base64URL' } },
        { secretKey: 'auto-yes', remoteRef: { key: 'a', decodingStrategy: 'Auto' } },
        { secretKey: 'auto-no', remoteRef: { key: 'c', decodingStrategy: 'Auto' } },
      ],
    };
    const out = renderSecretData(
      spec,
      fetched({
        a: Buffer.from('hello').toString('base64'),
        b: Buffer.from('??>>').toString('base64url'),
        c: 'plain text!',
      }),
    );
    expect(text(out)).toEqual({ b64: 'hello', url: '??>>', 'auto-yes': 'hello', 'auto-no': 'plain text!' });
  });

  it('expands dataFrom objects into keys; explicit data wins over them', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      dataFrom: [{ extract: { key: 'bundle' } }],
      data: [{ secretKey: 'host', remoteRef: { key: 'override' } }],
    };
    const out = renderSecretData(spec, fetched({ bundle: '{"host":"a","port":1,"tls":true}', override: 'b' }));
    expect(text(out)).toEqual({ host: 'b', port: '1', tls: 'true' });
  });

  it('lets the later of two data items with the same secretKey win, as ESO does', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      data: [
        { secretKey: 'password', remoteRef: { key: 'a' } },
        { secretKey: 'password', remoteRef: { key: 'b' } },
      ],
    };
    expect(text(renderSecretData(spec, fetched({ a: 'first', b: 'second' })))).toEqual({ password: 'second' });
  });

  it.each([
    [
      'invalid JSON for a property',
      { secretKey: 'x', remoteRef: { key: 'k', property: 'p' } },
      `{"p": "${CANARY}"`,
      /secretKey "x".*not valid JSON/,
    ],
    [
      'a missing property',
      { secretKey: 'x', remoteRef: { key: 'k', property: 'nope' } },
      `{"p":"${CANARY}"}`,
      /property "nope" is not in/,
    ],
    [
      'bad base64',
      { secretKey: 'x', remoteRef: { key: 'k', decodingStrategy: 'Base64' as const } },
      `${CANARY}!!`,
      /secretKey "x".*not valid Base64/,
    ],
  ])('rejects %s, naming the key and never the value', (_, item, raw, message) => {
    const spec: ExternalSecretSpec = { secretStoreRef: store, data: [item] };
    let error: Error | undefined;
    try {
      renderSecretData(spec, fetched({ k: raw }));
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain(CANARY);
    expect(String(error?.stack)).not.toContain(CANARY);
  });

  it('rejects a dataFrom key that is not a valid Secret key', () => {
    const spec: ExternalSecretSpec = { secretStoreRef: store, dataFrom: [{ extract: { key: 'k' } }] };
    // Conversion turns characters a key cannot hold into _, but "." and ".." stay what they are.
    expect(() => renderSecretData(spec, fetched({ k: `{"..":"${CANARY}"}` }))).toThrow(
      /key "\.\." is not a valid Secret key/,
    );
  });

  it('rejects data over the Secret size limit', () => {
    const spec: ExternalSecretSpec = { secretStoreRef: store, data: [{ secretKey: 'big', remoteRef: { key: 'k' } }] };
    expect(() => renderSecretData(spec, fetched({ k: 'x'.repeat(MAX_SECRET_DATA_BYTES + 1) }))).toThrow(
      /over the .*limit/,
    );
  });
});
