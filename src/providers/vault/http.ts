// One connection pool per Vault client, and the request shape every Vault call shares: JSON in
// and out, X-Vault-Token, X-Vault-Namespace and the store's extra headers.
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { AnswerTooLargeError, answerTooLargeText, MAX_ANSWER_BYTES, readCapped } from '../answer-cap.ts';
import { ProviderError } from '../provider.ts';
import { vaultError, vaultNetworkError } from './errors.ts';

const REQUEST_TIMEOUT_MS = 10_000;

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
        throw new AnswerTooLargeError();
      }
      const text = (await readCapped(res.body)).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, body, headers: res.headers };
    } catch (err) {
      if (err instanceof AnswerTooLargeError)
        throw new ProviderError('Invalid', `Vault ${call.what}: ${answerTooLargeText}`);
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
