// The Secret Manager calls Ferry makes, behind a small interface so the mapping in
// access.ts is the same for the gRPC and REST transports (and testable without a server).
// The implementation is the official client; Ferry turns off its retries and retries itself,
// under the store's rate budget.

import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { googleAuthLibrary } from 'google-gax';
import { MAX_ANSWER_BYTES, readCapped } from '../answer-cap.ts';
import type { Endpoint } from './resource-names.ts';

export interface AccessedVersion {
  name?: string | null;
  payload?: { data?: Uint8Array | string | null; dataCrc32c?: unknown } | null;
}

export interface VersionSummary {
  name?: string | null;
  /** ENABLED, DISABLED, DESTROYED: a number (enum) or its name, depending on the transport. */
  state?: string | number | null;
}

export interface VersionPage {
  versions: VersionSummary[];
  nextPageToken?: string;
}

export interface SecretSummary {
  /** projects/<p>[/locations/<l>]/secrets/<id> */
  name?: string | null;
  labels?: Record<string, string> | null;
}

export interface SecretPage {
  secrets: SecretSummary[];
  nextPageToken?: string;
}

export interface SecretManagerApi {
  accessVersion(name: string, signal: AbortSignal): Promise<AccessedVersion>;
  listVersions(
    parent: string,
    page: { filter?: string; pageSize: number; pageToken?: string },
    signal: AbortSignal,
  ): Promise<VersionPage>;
  listSecrets(
    parent: string,
    page: { filter?: string; pageSize: number; pageToken?: string },
    signal: AbortSignal,
  ): Promise<SecretPage>;
  /** Lists at most one secret: the cheapest call that proves the credentials and the project. */
  listOneSecret(parent: string, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export type Transport = 'GRPC' | 'REST';

export interface ApiOptions {
  endpoint: Endpoint;
  transport: Transport;
  projectID: string;
  /** Credentials; undefined lets the client find Application Default Credentials. */
  authClient?: googleAuthLibrary.AuthClient;
  callTimeoutMs?: number;
}

/** Runs a client call, cancelling it when `signal` aborts. */
async function cancellable<T>(call: Promise<T> & { cancel?: () => void }, signal: AbortSignal): Promise<T> {
  if (signal.aborted) call.cancel?.();
  const onAbort = () => call.cancel?.();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await call;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Over REST, google-gax reads each answer whole (`response.arrayBuffer()` of the auth client's
 * fetch): the auth client's fetch is wrapped so the body is read up to MAX_ANSWER_BYTES while it
 * streams, and handed on as a buffer. The client is this store client's own (gcpCredentials).
 */
function capRestAnswers(authClient: googleAuthLibrary.AuthClient): void {
  const fetch = authClient.fetch.bind(authClient);
  authClient.fetch = (async (...args: Parameters<typeof fetch>) => {
    const response = (await fetch(...args)) as unknown as Response;
    if (!response.body) return response;
    // gaxios hands a Node stream; a WHATWG one is read the same way.
    const source = response.body as unknown as Readable | NodeWebStream;
    const body = await readCapped(source instanceof Readable ? source : Readable.fromWeb(source));
    return new Response(body.length > 0 ? body : null, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }) as typeof authClient.fetch;
}

export function createSecretManagerApi(opts: ApiOptions): SecretManagerApi {
  if (opts.transport === 'REST' && opts.authClient) capRestAnswers(opts.authClient);
  const client = new SecretManagerServiceClient({
    apiEndpoint: opts.endpoint.host,
    port: opts.endpoint.port,
    protocol: opts.endpoint.protocol,
    fallback: opts.transport === 'REST',
    projectId: opts.projectID,
    // google-gax lifts gRPC's 4 MiB receive limit (-1); Ferry keeps a limit (answer-cap.ts).
    'grpc.max_receive_message_length': MAX_ANSWER_BYTES,
    ...(opts.authClient ? { authClient: opts.authClient } : {}),
  });
  const callOptions = { timeout: opts.callTimeoutMs ?? 10_000, retry: null };
  return {
    async accessVersion(name, signal) {
      const [response] = await cancellable(client.accessSecretVersion({ name }, callOptions), signal);
      return response;
    },
    async listVersions(parent, page, signal) {
      const [versions, , response] = await cancellable(
        client.listSecretVersions({ parent, ...page }, { ...callOptions, autoPaginate: false }),
        signal,
      );
      return {
        versions: versions as VersionSummary[],
        nextPageToken: response?.nextPageToken || undefined,
      };
    },
    async listSecrets(parent, page, signal) {
      const [secrets, , response] = await cancellable(
        client.listSecrets({ parent, ...page }, { ...callOptions, autoPaginate: false }),
        signal,
      );
      return {
        secrets: secrets as SecretSummary[],
        nextPageToken: response?.nextPageToken || undefined,
      };
    },
    async listOneSecret(parent, signal) {
      await cancellable(client.listSecrets({ parent, pageSize: 1 }, { ...callOptions, autoPaginate: false }), signal);
    },
    close() {
      return client.close();
    },
  };
}
