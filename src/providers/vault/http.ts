// One connection pool per Vault client, and the request shape every Vault call shares: JSON in
// and out, X-Vault-Token, X-Vault-Namespace and the store's extra headers.
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { ProviderError } from '../provider.ts';
import { vaultError, vaultNetworkError } from './errors.ts';

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The most of one answer read: a KV value fits a Secret (1 MiB) and a LIST page of thousands of
 * names a few MiB. The store's server may be the tenant's own; past this the connection is cut
 * while streaming, so a 1 GiB answer costs the controller no more than this.
 */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

class AnswerTooLarge extends Error {}

/** The body as text, or AnswerTooLarge once more than `limit` bytes came (the stream is destroyed). */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new AnswerTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface VaultAnswer {
  status: number;
  /** Parsed JSON body; undefined when empty or not JSON. May hold secret data on success. */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface VaultCall {
  method: 'GET' | 'POST' | 'PUT';
  /** API path under /v1/, without a leading slash. */
  path: string;
  token?: string;
  /** Overrides the store's namespace (auth.namespace on login). */
  namespace?: string;
  json?: unknown;
  signal?: AbortSignal;
  /** Used in error messages: `reading "app/db"`. */
  what: string;
}

export class VaultHttp {
  private readonly base: string;
  private readonly agent: Agent;
  private readonly namespace: string | undefined;
  private readonly headers: Record<string, string>;

  constructor(opts: {
    server: string;
    caPem?: string;
    namespace?: string;
    headers?: Record<string, string>;
    /** Resolves host names at connect time; refuses addresses the store may not reach (egress.ts). */
    lookup?: LookupFunction;
  }) {
    this.base = `${opts.server.replace(/\/+$/, '')}/v1/`;
    this.agent = new Agent({
      connect: { ...(opts.caPem ? { ca: opts.caPem } : {}), ...(opts.lookup ? { lookup: opts.lookup } : {}) },
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    this.namespace = opts.namespace;
    this.headers = opts.headers ?? {};
  }

  /** Sends one request; throws a ProviderError only when no HTTP answer came back. */
  async send(call: VaultCall): Promise<VaultAnswer> {
    const headers: Record<string, string> = { ...this.headers, accept: 'application/json' };
    const namespace = call.namespace ?? this.namespace;
    if (namespace) headers['x-vault-namespace'] = namespace;
    if (call.token) headers['x-vault-token'] = call.token;
    if (call.json !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await request(this.base + call.path, {
        dispatcher: this.agent,
        method: call.method,
        headers,
        body: call.json === undefined ? undefined : JSON.stringify(call.json),
        signal: call.signal,
      });
      const length = Number(res.headers['content-length']);
      if (length > MAX_ANSWER_BYTES) {
        res.body.destroy();
        throw new AnswerTooLarge();
      }
      const text = await readCapped(res.body, MAX_ANSWER_BYTES);
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, body, headers: res.headers };
    } catch (err) {
      if (err instanceof AnswerTooLarge) {
        throw new ProviderError(
          'Invalid',
          `Vault ${call.what}: the answer is over ${MAX_ANSWER_BYTES} bytes, the most Ferry reads; the connection was cut`,
        );
      }
      throw vaultNetworkError(err, call.what);
    }
  }

  /** Sends one request and throws the classified error unless it answered 2xx. */
  async ok(call: VaultCall, opts: { login?: boolean } = {}): Promise<VaultAnswer> {
    return this.check(await this.send(call), call, opts);
  }

  /** The answer if it is 2xx; otherwise its classified error is thrown. */
  check(answer: VaultAnswer, call: Pick<VaultCall, 'what'>, opts: { login?: boolean } = {}): VaultAnswer {
    if (answer.status >= 200 && answer.status <= 299) return answer;
    throw vaultError(answer.status, answer.body, answer.headers, call.what, opts);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
