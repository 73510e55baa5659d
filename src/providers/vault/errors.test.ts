import { describe, expect, it } from 'vitest';
import { vaultError, vaultNetworkError } from './errors.ts';

describe('vaultError', () => {
  it('maps statuses to error classes', () => {
    expect(vaultError(404, { errors: [] }, {}, 'reading "a"').kind).toBe('NotFound');
    expect(vaultError(403, { errors: ['permission denied'] }, {}, 'reading "a"').kind).toBe('Denied');
    expect(vaultError(400, { errors: ['bad'] }, {}, 'reading "a"').kind).toBe('Invalid');
    expect(vaultError(400, { errors: ['invalid role or secret ID'] }, {}, 'logging in', { login: true }).kind).toBe(
      'Denied',
    );
    expect(vaultError(500, {}, {}, 'reading "a"').kind).toBe('Transient');
    expect(vaultError(412, {}, {}, 'reading "a"').kind).toBe('Transient');
  });

  it('says when a 404 is a deleted or destroyed KV v2 version', () => {
    const deleted = vaultError(
      404,
      { data: { data: null, metadata: { version: 2, deletion_time: '2026-11-29T10:00:00Z', destroyed: false } } },
      {},
      'reading "a"',
    );
    expect(deleted.kind).toBe('NotFound');
    expect(deleted.message).toMatch(/version deleted: version 2 was deleted at 2026-11-29T10:00:00Z/);
    const destroyed = vaultError(404, { data: { metadata: { version: 1, destroyed: true } } }, {}, 'reading "a"');
    expect(destroyed.message).toMatch(/version 1 was destroyed/);
    expect(vaultError(404, { errors: [] }, {}, 'reading "a"').message).toMatch(/no secret at this path/);
  });

  it('takes a 404 about the path, not the secret, as a misconfigured store (Invalid), never as not-found', () => {
    // The answers of OpenBao 2.7 (checked against the bed's dev server).
    const noMount = vaultError(
      404,
      { errors: ['no handler for route "nomount/data/foo". route entry not found.'] },
      {},
      'reading "foo"',
    );
    expect(noMount.kind).toBe('Invalid');
    expect(noMount.message).toMatch(/no secrets engine is mounted at this path/);
    const v1OnV2 = vaultError(
      404,
      {
        data: null,
        warnings: [
          "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the OpenBao CLI, use 'bao kv get' for this operation.",
        ],
      },
      {},
      'reading "foo"',
    );
    expect(v1OnV2.kind).toBe('Invalid');
    expect(v1OnV2.message).toMatch(/KV version 2, the store says version "v1"/);
    expect(vaultError(404, { errors: [] }, {}, 'reading "foo"').kind).toBe('NotFound');
  });

  it('treats a sealed server as transient and honours Retry-After on 429', () => {
    const sealed = vaultError(503, { errors: ['Vault is sealed'] }, {}, 'reading "a"');
    expect(sealed.kind).toBe('Transient');
    expect(sealed.message).toMatch(/sealed/);
    const throttled = vaultError(429, { errors: ['rate limit quota exceeded'] }, { 'retry-after': '7' }, 'reading "a"');
    expect(throttled.kind).toBe('Throttled');
    expect(throttled.retryAfterMs).toBe(7000);
  });

  it('classifies network failures as transient and TLS failures as invalid configuration', () => {
    expect(vaultNetworkError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), 'reading "a"').kind).toBe(
      'Transient',
    );
    expect(
      vaultNetworkError(Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'reading "a"')
        .kind,
    ).toBe('Invalid');
  });
});
