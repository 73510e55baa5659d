// The auth.iam login request: what Vault's AWS auth method decodes, and a signature checked by an
// independent SigV4 computation (AWS's documented algorithm, written out here with node:crypto),
// so a header left out of the signature or a wrong scope fails.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CALLER_IDENTITY_BODY, signedCallerIdentity, stsUrl } from './iam.ts';

const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const when = new Date('2026-01-02T03:04:05Z');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** SigV4 of a POST with no query, from the headers listed in SignedHeaders. */
function expectedSignature(url: URL, headers: Record<string, string>, signedNames: string[], region: string): string {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();
  const canonical = [
    'POST',
    url.pathname,
    '',
    signedNames.map((n) => `${n}:${headers[n]?.trim()}\n`).join(''),
    signedNames.join(';'),
    sha(CALLER_IDENTITY_BODY),
  ].join('\n');
  const amzDate = headers['x-amz-date'] ?? '';
  const scope = `${amzDate.slice(0, 8)}/${region}/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha(canonical)].join('\n');
  let key = hmac(`AWS4${keys.secretAccessKey}`, amzDate.slice(0, 8));
  for (const part of [region, 'sts', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(toSign).digest('hex');
}

function decode(payload: Record<string, string>) {
  const raw = JSON.parse(unb64(payload.iam_request_headers ?? '')) as Record<string, string[]>;
  const headers = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v.join(',')]));
  const auth = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    headers.authorization ?? '',
  );
  if (!auth) throw new Error(`no SigV4 authorization header in ${JSON.stringify(Object.keys(headers))}`);
  return { raw, headers, credential: auth[1], signed: (auth[2] ?? '').split(';'), signature: auth[3] };
}

describe('auth.iam signed GetCallerIdentity', () => {
  it('is a POST of GetCallerIdentity to the given URL, base64 as Vault decodes it, headers as name -> [values]', async () => {
    const url = 'https://sts.eu-west-1.amazonaws.com/';
    const payload = await signedCallerIdentity({ keys, region: 'eu-west-1', url, signingDate: when });
    expect(payload.iam_http_request_method).toBe('POST');
    expect(unb64(payload.iam_request_url ?? '')).toBe(url);
    expect(unb64(payload.iam_request_body ?? '')).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    const { raw, headers, credential } = decode(payload);
    for (const v of Object.values(raw)) expect(Array.isArray(v) && v.length === 1).toBe(true);
    expect(headers.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(headers['x-amz-date']).toBe('20260102T030405Z');
    expect(credential).toBe('AKIDEXAMPLE/20260102/eu-west-1/sts/aws4_request');
    expect(headers['x-vault-aws-iam-server-id']).toBeUndefined();
    expect(headers['x-amz-security-token']).toBeUndefined();
  });

  it('signs the X-Vault-AWS-IAM-Server-ID header, the host and the session token', async () => {
    const url = 'http://127.0.0.1:5000/';
    const payload = await signedCallerIdentity({
      keys: { ...keys, sessionToken: 'session-token-value' },
      region: 'us-east-1',
      url,
      serverId: 'vault.example.com',
      signingDate: when,
    });
    const { headers, signed, signature } = decode(payload);
    expect(headers['x-vault-aws-iam-server-id']).toBe('vault.example.com');
    expect(headers.host).toBe('127.0.0.1:5000');
    expect(headers['x-amz-security-token']).toBe('session-token-value');
    expect(signed).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-vault-aws-iam-server-id']));
    expect(signed).toContain('x-amz-security-token');
    expect(signature).toBe(expectedSignature(new URL(url), headers, signed, 'us-east-1'));
    // The same check fails for another server ID: the header is covered by the signature.
    const tampered = { ...headers, 'x-vault-aws-iam-server-id': 'other.example.com' };
    expect(signature).not.toBe(expectedSignature(new URL(url), tampered, signed, 'us-east-1'));
  });
});

describe('auth.iam STS URL', () => {
  it('is the global endpoint in us-east-1 and the regional one elsewhere', () => {
    expect(stsUrl('us-east-1', {})).toBe('https://sts.amazonaws.com/');
    expect(stsUrl('eu-central-1', {})).toBe('https://sts.eu-central-1.amazonaws.com/');
    expect(stsUrl('cn-north-1', {})).toBe('https://sts.cn-north-1.amazonaws.com.cn/');
  });

  it('follows AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, as the AWS SDK does', () => {
    expect(stsUrl('eu-west-1', { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL: 'http://x' })).toBe(
      'http://127.0.0.1:4566/',
    );
    expect(stsUrl('eu-west-1', { AWS_ENDPOINT_URL: 'http://localhost:5000' })).toBe('http://localhost:5000/');
  });
});
