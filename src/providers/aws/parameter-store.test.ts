// How Parameter Store answers map to values and error classes, and which listing a find query
// makes. The answers are the shapes AWS documents; moto-backed behaviour is in
// test/integration/aws-parameterstore.test.ts.
import type { SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider.ts';
import { findParameterNames } from './parameter-find.ts';
import { parameterStoreReads } from './parameter-store.ts';

interface Sent {
  command: string;
  input: Record<string, unknown>;
}

/** An SSM client answering each command with `answer`; records what was sent. */
function ssmAnswering(answer: (s: Sent) => unknown) {
  const sent: Sent[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const s = { command: command.constructor.name, input: command.input };
      sent.push(s);
      const out = answer(s);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as SSMClient;
  return { client, sent };
}

const signal = new AbortController().signal;

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });
}

describe('Parameter Store reads', () => {
  it('maps a GetParameters answer to each key: values by name or ARN, InvalidParameters as NotFound for that key', async () => {
    const { client, sent } = ssmAnswering(() => ({
      Parameters: [
        { Name: '/p/a', Value: 'A', Version: 3 },
        { Name: '/p/b', ARN: 'arn:aws:ssm:eu-west-1:111111111111:parameter/p/b', Value: 'B', Version: 1 },
      ],
      InvalidParameters: ['/p/missing'],
    }));
    const arn = 'arn:aws:ssm:eu-west-1:111111111111:parameter/p/b';
    const reads = parameterStoreReads(client, '');
    const out = await reads.readMany?.(
      [{ key: '/p/a' }, { key: arn }, { key: '/p/missing' }, { key: '/p/silent' }],
      signal,
    );
    expect(sent).toEqual([
      {
        command: 'GetParametersCommand',
        input: {
          Names: ['/p/a', arn, '/p/missing', '/p/silent'],
          WithDecryption: true,
        },
      },
    ]);
    expect(out?.[0]).toMatchObject({ versionId: '3' });
    expect(out?.[0] instanceof ProviderError ? undefined : out?.[0]?.value.revealText()).toBe('A');
    // A parameter shared from another account is asked for, and answered, by its ARN.
    expect(out?.[1] instanceof ProviderError ? undefined : out?.[1]?.value.revealText()).toBe('B');
    expect(out?.[2]).toMatchObject({ kind: 'NotFound', message: expect.stringContaining('"/p/missing"') });
    // Neither a value nor named invalid: never taken for not-found.
    expect(out?.[3]).toMatchObject({ kind: 'Transient' });
  });

  it('gives every key of a failed batch the call’s error class, with Retry-After on a throttle', async () => {
    const throttled = Object.assign(awsError('ThrottlingException', 400), {
      $response: { headers: { 'retry-after': '3' } },
    });
    const { client } = ssmAnswering(() => throttled);
    const out = await parameterStoreReads(client, '').readMany?.([{ key: '/a' }, { key: '/b' }], signal);
    expect(out).toEqual([expect.objectContaining({ kind: 'Throttled', retryAfterMs: 3000 }), expect.anything()]);
    expect(out?.[1]).toBe(out?.[0]);
  });

  it('reads a version or label as name:version, and classifies GetParameter errors', async () => {
    const { client, sent } = ssmAnswering((s) =>
      s.input.Name === '/x:7' ? awsError('ParameterVersionNotFound', 400) : awsError('AccessDeniedException', 400),
    );
    const reads = parameterStoreReads(client, '');
    await expect(reads.read({ key: '/x', version: '7' }, signal)).rejects.toMatchObject({ kind: 'NotFound' });
    await expect(reads.read({ key: '/x', version: 'prod' }, signal)).rejects.toMatchObject({
      kind: 'Denied',
      message: expect.stringContaining('reading "/x" version prod'),
    });
    expect(sent.map((s) => s.input)).toEqual([
      { Name: '/x:7', WithDecryption: true },
      { Name: '/x:prod', WithDecryption: true },
    ]);
    // Versioned and metadata reads are never batched.
    expect(reads.batchable?.({ key: '/x', version: '7' })).toBe(false);
    expect(reads.batchable?.({ key: '/x', metadataPolicy: 'Fetch' })).toBe(false);
    expect(reads.batchable?.({ key: '/x' })).toBe(true);
    expect(reads.maxBatch).toBe(10);
  });

  it('reads tags for metadataPolicy Fetch, without the version, and a missing parameter is NotFound', async () => {
    const { client, sent } = ssmAnswering((s) =>
      s.input.ResourceId === '/p/gone'
        ? awsError('InvalidResourceId', 400)
        : { TagList: [{ Key: 'owner', Value: 'payments' }] },
    );
    const reads = parameterStoreReads(client, '/p/');
    const got = await reads.read({ key: 'x', version: '2', metadataPolicy: 'Fetch' }, signal);
    expect(JSON.parse(got.value.revealText())).toEqual({ owner: 'payments' });
    expect(sent[0]).toEqual({
      command: 'ListTagsForResourceCommand',
      input: { ResourceType: 'Parameter', ResourceId: '/p/x' },
    });
    await expect(reads.read({ key: 'gone', metadataPolicy: 'Fetch' }, signal)).rejects.toMatchObject({
      kind: 'NotFound',
    });
  });
});

describe('Parameter Store find', () => {
  it('lists by path without tags (no decryption), strips the prefix and checks the name regexp', async () => {
    const { client, sent } = ssmAnswering((s) =>
      s.input.NextToken
        ? { Parameters: [{ Name: '/prod/app/db/pass' }, { Name: '/prod/app-other/x' }] }
        : { Parameters: [{ Name: '/prod/app/db/user' }, { Name: '/prod/app/api' }], NextToken: 't1' },
    );
    const names = await findParameterNames(client, '/prod/', { path: 'app/', nameRegexp: '^app/db/' }, signal);
    expect(names).toEqual(['app/db/pass', 'app/db/user']);
    expect(sent.map((s) => s.input)).toEqual([
      { Path: '/prod/app', Recursive: true, WithDecryption: false, MaxResults: 10, NextToken: undefined },
      { Path: '/prod/app', Recursive: true, WithDecryption: false, MaxResults: 10, NextToken: 't1' },
    ]);
  });

  it('describes with tag filters and a recursive path filter when tags are given', async () => {
    const { client, sent } = ssmAnswering(() => ({ Parameters: [{ Name: '/team/a' }, { Name: '/teams/b' }] }));
    const names = await findParameterNames(client, '', { path: '/team', tags: { env: 'prod' } }, signal);
    expect(names).toEqual(['/team/a']);
    expect(sent[0]).toMatchObject({
      command: 'DescribeParametersCommand',
      input: {
        ParameterFilters: [
          { Key: 'tag:env', Option: 'Equals', Values: ['prod'] },
          { Key: 'Path', Option: 'Recursive', Values: ['/team'] },
        ],
      },
    });
  });

  it('falls back to DescribeParameters when GetParametersByPath is denied, as ESO does', async () => {
    const { client, sent } = ssmAnswering((s) =>
      s.command === 'GetParametersByPathCommand'
        ? awsError('AccessDeniedException', 400)
        : { Parameters: [{ Name: 'root' }] },
    );
    expect(await findParameterNames(client, '', {}, signal)).toEqual(['root']);
    expect(sent.map((s) => s.command)).toEqual(['GetParametersByPathCommand', 'DescribeParametersCommand']);
    expect(sent[1]?.input.ParameterFilters).toBeUndefined();
  });

  it('refuses a name regexp that does not compile', async () => {
    const { client } = ssmAnswering(() => ({}));
    await expect(findParameterNames(client, '', { nameRegexp: '(' }, signal)).rejects.toMatchObject({
      kind: 'Invalid',
    });
  });
});
