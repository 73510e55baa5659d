// A tenant's SecretStore may name its own Vault server; that server may answer anything. Here it
// answers a read with an endless body (1 GiB if read whole): the controller cuts the connection
// after MAX_ANSWER_BYTES while streaming, reports the key, and keeps syncing. The controller runs
// in the test process here; the same attack against it as a pod under the chart's memory limit
// is in helm-node.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/providers/answer-cap.ts';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

const GiB = 1024 ** 3;
let ctl: RunningController;
let o: Objects;
let server: Server;
/** Bytes the hostile server got to write for the endless answer before the connection closed. */
let sent = 0;
let closed = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.endsWith('/secret/data/small')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { data: { v: 'small' }, metadata: { version: 1 } } }));
      return;
    }
    if (req.url?.endsWith('/auth/token/lookup-self')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { id: 'tenant-token', ttl: 0, renewable: false, policies: ['default'] } }));
      return;
    }
    if (!req.url?.endsWith('/secret/data/huge')) {
      res.statusCode = 404;
      res.end('{"errors":[]}');
      return;
    }
    // No content-length: the cap must hold while streaming, not only on a declared length.
    res.setHeader('content-type', 'application/json');
    res.write('{"data":{"data":{"v":"');
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    const pump = () => {
      while (sent < GiB) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end('"}}}');
    };
    res.on('close', () => {
      closed = true;
    });
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = kubeConfigFor(testbed().kube);
  o = new Objects(kc, await createNamespace(kc, 'hostile-vault'));
  ctl = await startController(testbed().kube, { namespace: o.namespace });
});

afterAll(async () => {
  await ctl?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

describe("a tenant's Vault server answering without end", () => {
  it('is cut off after the cap while streaming; the key is reported and other keys sync', async () => {
    const creds = uniqueName('token');
    await o.core.createNamespacedSecret({
      namespace: o.namespace,
      body: { metadata: { name: creds }, stringData: { token: 'tenant-token' } },
    });
    const store = uniqueName('own-vault');
    const { port } = server.address() as AddressInfo;
    await o.secretStore(store, {
      vault: {
        server: `http://127.0.0.1:${port}`,
        path: 'secret',
        auth: { tokenSecretRef: { name: creds, key: 'token' } },
      },
    });
    // The setup works: the tenant's server serves a normal answer, and it is synced.
    await o.externalSecret('small', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'small', property: 'v' } }],
    });
    await o.waitForSecret('small', (d) => d.v === 'small', 'the normal answer synced');

    await o.externalSecret('huge', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'huge', property: 'v' } }],
    });
    const { ready } = await o.waitForReady('huge', { status: 'False', message: /the most Ferry reads/ }, 60_000);
    expect(ready.message).toContain(
      `remote key "huge": Invalid: Vault reading "huge": the answer is over ${MAX_ANSWER_BYTES} bytes`,
    );
    expect(await o.secret('huge')).toBeUndefined();
    // The connection was cut long before the gigabyte: what was written is the cap plus what the
    // sockets buffered.
    expect(closed).toBe(true);
    process.stdout.write(`hostile Vault answer: ${(sent / 2 ** 20).toFixed(0)} MiB written before the cut\n`);
    expect(sent).toBeLessThan(64 * 2 ** 20);
    // The controller still syncs: a new object on the same store.
    await o.externalSecret('after', {
      secretStoreRef: { name: store },
      data: [{ secretKey: 'v', remoteRef: { key: 'small', property: 'v' } }],
    });
    await o.waitForSecret('after', (d) => d.v === 'small', 'a new object synced after the attack');
  });
});
