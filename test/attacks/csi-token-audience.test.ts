// The CSI node plugin runs the controller's read code with each pod's own token, so the rule "a
// SecretStore never asks for the API server's own audience" (docs/security.md, "Consent before
// reaching other objects", item 3) must hold there too. The plugin is called as kubelet calls it
// (pod info and tokens from the real API server). The shared CSIDriver hands out `vault`
// tokens only, so this plugin is told that `vault` is one of the API server's audiences
// (--api-audiences), standing in for a cluster whose API server accepts a name the CSIDriver
// lists. A loopback stand-in for the tenant's Vault records every token it is sent.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMountPoint } from '../../src/sinks/csi/tmpfs.ts';
import { call, kubeletContext, publishRequest, type RunningPlugin, startPlugin } from '../support/csi.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';
import { startTokenRecordingVault, type TokenRecordingVault } from '../support/token-recording-vault.ts';
import { eventually } from '../support/wait.ts';

let plugin: RunningPlugin;
let o: Objects;
let dir: string;
let vaultServer: TokenRecordingVault;
let address: string;
const clusterStores: string[] = [];

beforeAll(async () => {
  vaultServer = await startTokenRecordingVault();
  address = vaultServer.address;
  const kc = kubeConfigFor(testbed().kube);
  o = new Objects(kc, await createNamespace(kc, 'csi-audience'));
  await o.core.createNamespacedServiceAccount({ namespace: o.namespace, body: { metadata: { name: 'app' } } });
  dir = join(testbed().runDir, `csi-audience-${randomBytes(3).toString('hex')}`);
  plugin = await startPlugin(testbed().kube, dir, { apiAudiences: ['vault'] });
});

afterAll(async () => {
  for (const record of plugin?.plugin.volumes.list() ?? []) {
    await call(plugin.node, 'NodeUnpublishVolume', { volume_id: record.volumeId, target_path: record.targetPath });
  }
  await plugin?.stop();
  for (const name of clusterStores) {
    await o.custom.deleteClusterCustomObject({
      group: 'ferry.dev',
      version: 'v1alpha1',
      plural: 'clustersecretstores',
      name,
    });
  }
  await vaultServer?.close();
});

function vault(role: string) {
  return {
    vault: {
      server: address,
      path: 'secret',
      auth: { kubernetes: { role, serviceAccountRef: { name: 'app', audiences: ['vault'] } } },
    },
  };
}

/** NodePublishVolume for a pod of ServiceAccount app, retried until the plugin has seen the objects. */
async function publish(externalSecret: string): Promise<{ err?: ServiceError; target: string }> {
  const volumeId = `csi-${randomBytes(8).toString('hex')}`;
  const target = join(dir, 'pods', volumeId);
  const pod = { namespace: o.namespace, name: uniqueName('pod'), serviceAccount: 'app' };
  const context = await kubeletContext(testbed().kube, pod, externalSecret, ['vault']);
  const err = await eventually(`the plugin sees ${externalSecret}`, async () => {
    const e = await call(plugin.node, 'NodePublishVolume', publishRequest(volumeId, target, context)).then(
      () => null,
      (x: ServiceError) => x,
    );
    return e && /does not exist/.test(e.details) ? undefined : { e };
  });
  return { err: err.e ?? undefined, target };
}

function filesOnly(storeRef: { name: string; kind?: 'SecretStore' | 'ClusterSecretStore' }) {
  return {
    secretStoreRef: storeRef,
    target: { creationPolicy: 'None' as const },
    data: [{ secretKey: 'v', remoteRef: { key: 'k', property: 'v' } }],
  };
}

describe("the CSI plugin and a SecretStore asking for the API server's audience", () => {
  it('logs in as the pod through a ClusterSecretStore (setup), and refuses the SecretStore: no token leaves', async () => {
    const css = uniqueName('csi-css');
    clusterStores.push(css);
    await o.clusterSecretStore(css, { provider: vault('csi-cluster') });
    await o.externalSecret('through-cluster', filesOnly({ name: css, kind: 'ClusterSecretStore' }));
    const ok = await publish('through-cluster');
    expect(ok.err).toBeUndefined();
    expect(vaultServer.received.filter((r) => r.role === 'csi-cluster').map((r) => r.aud)).toContainEqual(['vault']);

    await o.secretStore('tenant', vault('csi-tenant'));
    await o.externalSecret('through-tenant', filesOnly({ name: 'tenant' }));
    const refused = await publish('through-tenant');
    expect(refused.err?.details).toContain("vault is the API server's own audience, refused in a SecretStore");
    expect(vaultServer.received.filter((r) => r.role === 'csi-tenant')).toEqual([]);
    expect(await isMountPoint(refused.target)).toBe(false);
  });
});
