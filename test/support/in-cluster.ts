// Lets pods on the test bed's node reach the API server with their in-cluster configuration. The
// bed's API server listens on loopback and the pod network has no gateway, so this gives the
// bridge the pod subnet's first address and relays it to the API server; pods dial
// kubernetes.default.svc (a SAN of the serving certificate) mapped there with hostAliases.
import { execFile } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { promisify } from 'node:util';
import type { KubeAccess } from '../testbed/kube-apiserver.ts';
import { POD_SUBNET } from '../testbed/node/containerd.ts';
import { BRIDGE_NAME } from '../testbed/node/host-cleanup.ts';

const exec = promisify(execFile);

export interface InClusterAccess {
  /** Chart values for pods that must reach the API server (controller.* or csiNode.*). */
  podValues: { extraEnv: { name: string; value: string }[]; hostAliases: { ip: string; hostnames: string[] }[] };
  close(): Promise<void>;
}

export async function openApiServerToPods(access: KubeAccess): Promise<InClusterAccess> {
  const [network, bits] = POD_SUBNET.split('/');
  const gateway = (network ?? '').replace(/\.0$/, '.1');
  // The CNI bridge plugin makes the bridge with the first pod; make it first if no pod ran yet.
  const exists = await exec('ip', ['link', 'show', BRIDGE_NAME]).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await exec('ip', ['link', 'add', BRIDGE_NAME, 'type', 'bridge']);
    await exec('ip', ['link', 'set', BRIDGE_NAME, 'up']);
  }
  const addresses = (await exec('ip', ['-o', '-4', 'addr', 'show', 'dev', BRIDGE_NAME])).stdout;
  const added = !addresses.includes(` ${gateway}/`);
  if (added) await exec('ip', ['addr', 'add', `${gateway}/${bits}`, 'dev', BRIDGE_NAME]);
  const target = new URL(access.server);
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(0, gateway, resolve);
  });
  const port = (relay.address() as { port: number }).port;
  return {
    podValues: {
      extraEnv: [
        { name: 'KUBERNETES_SERVICE_HOST', value: 'kubernetes.default.svc' },
        { name: 'KUBERNETES_SERVICE_PORT', value: String(port) },
      ],
      hostAliases: [{ ip: gateway, hostnames: ['kubernetes.default.svc'] }],
    },
    async close() {
      relay.close();
      for (const s of sockets) s.destroy();
      if (added) await exec('ip', ['addr', 'del', `${gateway}/${bits}`, 'dev', BRIDGE_NAME]).catch(() => undefined);
    },
  };
}
