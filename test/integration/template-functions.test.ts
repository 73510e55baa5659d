// Template functions end to end against the real API server: `fail` is a status error naming the
// key (its data-computed message withheld) and leaves the Secret as it was; random functions
// make every refresh a rewrite, as in ESO; htpasswd writes a verifiable bcrypt line.
import bcryptjs from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

const CANARY = 'tmpl-fn-canary-91d2';
let ctl: RunningController;
let o: Objects;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  const namespace = await createNamespace(kc, 'tmplfn');
  ctl = await startController(testbed().kube, { namespace });
  o = new Objects(kc, namespace);
});

afterAll(async () => {
  await ctl?.stop();
});

async function fakeStore(entries: { key: string; value: string }[]): Promise<string> {
  const name = uniqueName('store');
  await o.secretStore(name, { fake: { data: entries } });
  return name;
}

describe('template functions', () => {
  it('fail: a status error naming the key, the Secret left as it was, no value anywhere', async () => {
    const store = await fakeStore([
      { key: 'pass', value: CANARY },
      { key: 'mode', value: 'ok' },
    ]);
    await o.externalSecret('guarded', {
      secretStoreRef: { name: store },
      data: [
        { secretKey: 'pass', remoteRef: { key: 'pass' } },
        { secretKey: 'mode', remoteRef: { key: 'mode' } },
      ],
      target: {
        template: {
          data: {
            conn: '{{ if ne .mode "ok" }}{{ fail "mode must be ok" }}{{ end }}{{ .pass }}',
            why: '{{ if ne .mode "ok" }}{{ fail .pass }}{{ end }}ok',
          },
        },
      },
    });
    await o.waitForSecret('guarded', (d) => d.conn === CANARY, 'rendered');
    const before = await o.secret('guarded');
    await o.patch('secretstores', store, {
      spec: {
        provider: {
          fake: {
            data: [
              { key: 'pass', value: CANARY },
              { key: 'mode', value: 'broken' },
            ],
          },
        },
      },
    });
    const { ready } = await o.waitForReady('guarded', { status: 'False', reason: 'SecretSyncedError' });
    expect(ready.message).toMatch(
      /template\.data\["(conn|why)"\].*error calling fail: (mode must be ok|\(message withheld)/,
    );
    expect(ready.message).not.toContain(CANARY);
    expect((await o.secret('guarded'))?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
    expect(ctl.logs.join('')).not.toContain(CANARY);
  });

  it('random functions rewrite the Secret at every refresh; htpasswd writes a bcrypt line that verifies', async () => {
    const store = await fakeStore([{ key: 'pass', value: CANARY }]);
    await o.externalSecret('random', {
      secretStoreRef: { name: store },
      refreshInterval: '1s',
      data: [{ secretKey: 'pass', remoteRef: { key: 'pass' } }],
      target: {
        template: { data: { nonce: '{{ randAlphaNum 16 }}', auth: '{{ htpasswd "admin" .pass }}' } },
      },
    });
    const first = await o.waitForSecret('random', (d) => d.nonce !== undefined, 'rendered');
    const text = await o.secretText('random');
    expect(text?.nonce).toMatch(/^[A-Za-z0-9]{16}$/);
    const [user, hash] = (text?.auth ?? '').split(/:(.*)/s);
    expect(user).toBe('admin');
    expect(bcryptjs.compareSync(CANARY, hash ?? '')).toBe(true);
    await eventually('a refresh rewrote the nonce', async () => {
      const now = await o.secretText('random');
      return now?.nonce !== text?.nonce ? now : undefined;
    });
    expect((await o.secret('random'))?.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);
  });
});
