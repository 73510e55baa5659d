// Registers the plugin with the kubelet the way node-driver-registrar would: a Registration
// service on a socket in the kubelet's plugins_registry directory, answering with the plugin's
// name and CSI endpoint. Used where the sidecar cannot run (the test bed) or is not wanted.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from '../../observability/logger.ts';
import { DRIVER_NAME } from './node-server.ts';
import type { CsiServices } from './protocol.ts';

export interface Registration {
  server: Server;
  /** Resolves once kubelet has reported a successful registration. */
  registered: Promise<void>;
}

export async function registerWithKubelet(opts: {
  services: CsiServices;
  registrationDir: string;
  csiSocket: string;
  logger: Logger;
}): Promise<Registration> {
  const socket = join(opts.registrationDir, `${DRIVER_NAME}-reg.sock`);
  let done: () => void = () => {};
  const registered = new Promise<void>((resolve) => {
    done = resolve;
  });
  const server = new Server();
  server.addService(opts.services.registration, {
    GetInfo: (_call: unknown, callback: (err: null, res: unknown) => void) =>
      callback(null, { type: 'CSIPlugin', name: DRIVER_NAME, endpoint: opts.csiSocket, supported_versions: ['1.0.0'] }),
    NotifyRegistrationStatus: (
      call: { request: { plugin_registered?: boolean; error?: string } },
      callback: (err: null, res: unknown) => void,
    ) => {
      if (call.request.plugin_registered) {
        opts.logger.info({ driver: DRIVER_NAME }, 'registered with the kubelet');
        done();
      } else opts.logger.error({ error: call.request.error }, 'the kubelet refused the registration');
      callback(null, {});
    },
  });
  await rm(socket, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return { server, registered };
}
