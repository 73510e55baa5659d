// creationPolicy decides whether a Secret outlives its ExternalSecret, through the cluster's
// real garbage collector (kube-controller-manager in the bed's node), not through Ferry.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startController } from '../support/controller.ts';
import { Objects } from '../support/objects.ts';
import { requireNode } from '../support/pods.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';
import { eventually } from '../support/wait.ts';

let o: Objects;

// Each test, not beforeAll, asks for the node: without one every test fails with the reason.
beforeEach(() => {
  requireNode();
});

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  o = new Objects(kc, await createNamespace(kc, 'gc'));
});

describe('deleting an ExternalSecret', () => {
  it('garbage-collects its Secret with creationPolicy Owner and keeps it with Orphan', async () => {
    await o.secretStore('fake', { fake: { data: [{ key: 'k', value: 'v1' }] } });
    const ctl = await startController(testbed().kube, { namespace: o.namespace });
    try {
      await o.externalSecret('owned', {
        secretStoreRef: { name: 'fake' },
        data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
      });
      await o.externalSecret('orphaned', {
        secretStoreRef: { name: 'fake' },
        target: { creationPolicy: 'Orphan' },
        data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
      });
      await o.waitForSecret('owned', (d) => d.k === 'v1', 'Secret owned');
      await o.waitForSecret('orphaned', (d) => d.k === 'v1', 'Secret orphaned');
    } finally {
      // With the controller stopped, only the garbage collector can delete a Secret.
      await ctl.stop();
    }

    for (const name of ['owned', 'orphaned']) {
      await o.delete('externalsecrets', name);
    }
    await eventually('the garbage collector to delete Secret owned', async () =>
      (await o.secret('owned')) === undefined ? true : undefined,
    );
    // Both owners went in the same breath and the collector has acted on one: the other stays.
    const kept = await o.secretText('orphaned');
    expect(kept).toEqual({ k: 'v1' });
  });
});
