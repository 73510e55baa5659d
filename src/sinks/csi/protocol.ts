// The CSI spec (csi.proto v1.12.0) and the kubelet's plugin-registration API, loaded at run time
// from files fetched from their Go modules by .ci/fetch-protos.ts (never copied into this repository),
// plus the few message shapes the node plugin reads and writes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type GrpcObject, loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export interface CsiServices {
  identity: ServiceDefinition;
  node: ServiceDefinition;
  registration: ServiceDefinition;
  /** Client constructors, for tests and csi tools. */
  clients: { Identity: GrpcObject[string]; Node: GrpcObject[string]; Registration: GrpcObject[string] };
}

export class ProtocolFilesMissingError extends Error {}

export function loadCsiServices(protoDir: string): CsiServices {
  const csi = join(protoDir, 'csi.proto');
  const registration = join(protoDir, 'pluginregistration.proto');
  for (const file of [csi, registration]) {
    if (!existsSync(file)) {
      throw new ProtocolFilesMissingError(
        `${file} is missing: point --proto-dir (or FERRY_PROTO_DIR) at the directory holding csi.proto and pluginregistration.proto; the image has them in /usr/share/ferry/proto, and from the sources \`node .ci/fetch-protos.ts DIR\` fetches them`,
      );
    }
  }
  const definition = loadSync([csi, registration], {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = loadPackageDefinition(definition) as unknown as {
    csi: { v1: Record<string, { service: ServiceDefinition } & GrpcObject[string]> };
    pluginregistration: Record<string, { service: ServiceDefinition } & GrpcObject[string]>;
  };
  const { Identity, Node } = root.csi.v1;
  const { Registration } = root.pluginregistration;
  if (!Identity || !Node || !Registration) throw new Error('csi.proto or pluginregistration.proto lacks a service');
  return {
    identity: Identity.service,
    node: Node.service,
    registration: Registration.service,
    clients: { Identity, Node, Registration },
  };
}

/** NodePublishVolumeRequest, as proto-loader decodes it (keepCase). */
export interface NodePublishVolumeRequest {
  volume_id: string;
  target_path: string;
  staging_target_path?: string;
  readonly?: boolean;
  volume_capability?: {
    mount?: { fs_type?: string; mount_flags?: string[]; volume_mount_group?: string } | null;
    block?: unknown;
    access_mode?: { mode?: string } | null;
  } | null;
  volume_context?: Record<string, string>;
  secrets?: Record<string, string>;
  publish_context?: Record<string, string>;
}

export interface NodeUnpublishVolumeRequest {
  volume_id: string;
  target_path: string;
}
