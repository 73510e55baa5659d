// Provider answers are read up to MAX_ANSWER_BYTES while they stream, through each SDK's own
// transport, so a server answering without end costs a failed read, never the process's memory.
// Vault's path, with the whole controller, is tenant-vault-answer.test.ts. Here the AWS SDK
// (Ferry's aws provider, pointed at a local server as AWS_ENDPOINT_URL_* would point it), the
// Azure Key Vault SDK (with the policy Ferry's azurekv client carries; a store's vaultUrl may be
// any https server) and Google's client over REST (Ferry's Secret Manager API, as gcpsm builds it
// for an endpoint with transport REST) against an HTTP(S) server whose answers first are normal
// (the setup works), then 1 GiB long.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SecretClient } from '@azure/keyvault-secrets';
import { googleAuthLibrary } from 'google-gax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/providers/answer-cap.ts';
import { awsProvider } from '../../src/providers/aws/aws-provider.ts';
import { cappedAnswers } from '../../src/providers/azure/capped-answers.ts';
import { classifyAzureError } from '../../src/providers/azure/errors.ts';
import { EgressPolicy } from '../../src/providers/egress.ts';
import { classifyGcpError } from '../../src/providers/gcp/errors.ts';
import { createSecretManagerApi } from '../../src/providers/gcp/secret-manager-api.ts';
import { ProviderError, type StoreContext } from '../../src/providers/provider.ts';
import { SecretValue } from '../../src/values.ts';
import { localServingCert, trustInThisProcess } from '../support/local-ca.ts';

const GiB = 1024 ** 3;

/** A server that answers `normal` until `huge` is set, then an endless JSON body; counts what it wrote. */
function hostile(normal: string) {
  const state = { huge: false, sent: 0, closed: false };
  const handler = (_req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    if (!state.huge) {
      res.end(normal);
      return;
    }
    // No content-length: the cap must hold while streaming.
    res.write('{"SecretString":"');
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    res.on('close', () => {
      state.closed = true;
    });
    const pump = () => {
      while (state.sent < GiB && !res.destroyed) {
        state.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end('"}');
    };
    pump();
  };
  return { state, handler };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const ctx: StoreContext = {
  storeKind: 'SecretStore',
  storeName: 'hostile',
  defaultNamespace: 'tenant',
  readSecretKey: async () => SecretValue.fromString('key'),
  readConfigMapKey: async () => SecretValue.fromString(''),
  requestToken: async () => '',
  readServiceAccountAnnotations: async () => ({}),
  recordLogin: () => {},
  // The server is on loopback; the egress rule has its own test (tenant-egress.test.ts).
  egress: EgressPolicy.unrestricted,
};

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('an endless provider answer', () => {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
  });

  it('is cut by the AWS client after the cap and reported as Invalid', async () => {
    const { state, handler } = hostile(
      JSON.stringify({ ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:db', Name: 'db', SecretString: 'small' }),
    );
    const server = createHttpServer(handler);
    servers.push(server);
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${await listen(server)}`;
    const client = await awsProvider.createClient(
      {
        region: 'us-east-1',
        auth: {
          secretRef: {
            accessKeyIDSecretRef: { name: 'aws', key: 'id' },
            secretAccessKeySecretRef: { name: 'aws', key: 'secret' },
          },
        },
      },
      ctx,
    );
    try {
      // The setup works: a normal answer is read.
      const read = await client.read({ key: 'db' }, AbortSignal.timeout(10_000));
      expect(read.value.revealText()).toBe('small');

      state.huge = true;
      const err = await client.read({ key: 'db' }, AbortSignal.timeout(60_000)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).kind).toBe('Invalid');
      expect((err as Error).message).toContain(`the answer is over ${MAX_ANSWER_BYTES} bytes`);
      await new Promise((r) => setTimeout(r, 200));
      expect(state.closed).toBe(true);
      process.stdout.write(`endless AWS answer: ${(state.sent / 2 ** 20).toFixed(0)} MiB written before the cut\n`);
      expect(state.sent).toBeLessThan(64 * 2 ** 20);
    } finally {
      await client.close();
    }
  });

  it('is cut by the Key Vault client after the cap and reported as Invalid', async () => {
    const serving = await localServingCert('ferry-hostile-vault');
    trustInThisProcess(serving.caPem);
    const { state, handler } = hostile(
      JSON.stringify({ value: 'small', id: 'https://127.0.0.1/secrets/db/1', attributes: { enabled: true } }),
    );
    const server = createHttpsServer({ key: serving.key, cert: serving.cert }, handler);
    servers.push(server);
    const url = `https://127.0.0.1:${await listen(server)}`;
    const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    // As Ferry's azurekv client is built (azure-provider.ts): no SDK retries, answers capped.
    const client = new SecretClient(url, credential, {
      retryOptions: { maxRetries: 0 },
      disableChallengeResourceVerification: true,
      additionalPolicies: [cappedAnswers],
    });
    // The setup works: a normal answer is read and parsed.
    expect((await client.getSecret('db')).value).toBe('small');

    state.huge = true;
    const err = await client.getSecret('db').catch((e: unknown) => e);
    const classified = classifyAzureError(err, 'reading "db"');
    expect(classified.kind).toBe('Invalid');
    expect(classified.message).toContain(`the answer is over ${MAX_ANSWER_BYTES} bytes`);
    await new Promise((r) => setTimeout(r, 200));
    expect(state.closed).toBe(true);
    process.stdout.write(`endless Key Vault answer: ${(state.sent / 2 ** 20).toFixed(0)} MiB written before the cut\n`);
    expect(state.sent).toBeLessThan(64 * 2 ** 20);
  });

  it("is cut by Google's client over REST after the cap and reported as Invalid", async () => {
    const version = {
      name: 'projects/p/secrets/db/versions/1',
      payload: { data: Buffer.from('small').toString('base64') },
    };
    const { state, handler } = hostile(JSON.stringify(version));
    const server = createHttpServer(handler);
    servers.push(server);
    const port = await listen(server);
    // A token already held: the answer, not the login, is under test.
    const authClient = new googleAuthLibrary.OAuth2Client();
    authClient.setCredentials({ access_token: 'token', expiry_date: Date.now() + 3_600_000 });
    const api = createSecretManagerApi({
      endpoint: { host: '127.0.0.1', port, protocol: 'http' },
      transport: 'REST',
      projectID: 'p',
      authClient,
    });
    // The setup works: a normal answer is read and decoded.
    const read = await api.accessVersion('projects/p/secrets/db/versions/latest', AbortSignal.timeout(10_000));
    expect(Buffer.from(read.payload?.data ?? '').toString()).toBe('small');

    state.huge = true;
    const err = await api
      .accessVersion('projects/p/secrets/db/versions/latest', AbortSignal.timeout(60_000))
      .catch((e: unknown) => e);
    const classified = classifyGcpError(err, 'reading "db"');
    expect(classified.kind).toBe('Invalid');
    expect(classified.message).toContain(`the answer is over ${MAX_ANSWER_BYTES} bytes`);
    await new Promise((r) => setTimeout(r, 200));
    expect(state.closed).toBe(true);
    process.stdout.write(
      `endless Google REST answer: ${(state.sent / 2 ** 20).toFixed(0)} MiB written before the cut\n`,
    );
    expect(state.sent).toBeLessThan(64 * 2 ** 20);
  });
});
