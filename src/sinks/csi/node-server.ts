// The CSI Identity and Node services over a unix socket: argument checks, and the mapping of
// every failure to a gRPC status whose message says what to fix (kubelet shows it in the pod's
// events). Node-only plugin: inline ephemeral volumes, no staging, no attach.
import { rm } from 'node:fs/promises';
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { type ErrorCode, FerryError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { CsiServices, NodePublishVolumeRequest, NodeUnpublishVolumeRequest } from './protocol.ts';
import type { VolumeManager } from './volumes.ts';

export const DRIVER_NAME = 'csi.ferry.dev';

/** The gRPC status of each error code: kubelet shows status and message in the pod's Events. */
const STATUS_BY_CODE: Record<ErrorCode, status> = {
  NotFound: status.NOT_FOUND,
  Denied: status.PERMISSION_DENIED,
  Throttled: status.RESOURCE_EXHAUSTED,
  Invalid: status.FAILED_PRECONDITION,
  Transient: status.UNAVAILABLE,
  InvalidSpec: status.FAILED_PRECONDITION,
  BadReference: status.FAILED_PRECONDITION,
  TenancyDenied: status.FAILED_PRECONDITION,
  Render: status.FAILED_PRECONDITION,
  TemplateSource: status.UNAVAILABLE,
  TargetConflict: status.FAILED_PRECONDITION,
  FileLayout: status.FAILED_PRECONDITION,
  UnsafeEntry: status.FAILED_PRECONDITION,
  BadRequest: status.INVALID_ARGUMENT,
  Untrusted: status.FAILED_PRECONDITION,
  OverBudget: status.RESOURCE_EXHAUSTED,
};

class CallError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.code = code;
  }
}

function invalid(message: string): CallError {
  return new CallError(status.INVALID_ARGUMENT, message);
}

function toCallError(err: unknown): CallError {
  if (err instanceof CallError) return err;
  if (err instanceof FerryError) return new CallError(STATUS_BY_CODE[err.code], err.message);
  return new CallError(status.INTERNAL, (err as Error)?.message ?? String(err));
}

/** Adapts an async handler to grpc-js's callback style. */
function unary<Req, Res>(
  fn: (req: Req) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const e = toCallError(err);
        callback({ code: e.code, details: e.message, name: 'CallError', message: e.message }, null);
      },
    );
  };
}

export interface NodeServerOptions {
  services: CsiServices;
  volumes: VolumeManager;
  nodeName: string;
  version: string;
  metrics: Metrics;
  logger: Logger;
}

export function nodeServiceImplementation(opts: NodeServerOptions): {
  identity: UntypedServiceImplementation;
  node: UntypedServiceImplementation;
} {
  const { volumes, metrics, logger } = opts;
  const unimplemented = unary(async () => {
    throw new CallError(status.UNIMPLEMENTED, 'not supported by the Ferry node plugin (ephemeral volumes only)');
  });
  return {
    identity: {
      GetPluginInfo: unary(async () => ({ name: DRIVER_NAME, vendor_version: opts.version })),
      GetPluginCapabilities: unary(async () => ({ capabilities: [] })),
      Probe: unary(async () => ({ ready: { value: true } })),
    },
    node: {
      NodeGetCapabilities: unary(async () => ({
        // The pod's fsGroup arrives as volume_mount_group; the plugin applies it to every file.
        capabilities: [{ rpc: { type: 'VOLUME_MOUNT_GROUP' } }],
      })),
      NodeGetInfo: unary(async () => ({ node_id: opts.nodeName, max_volumes_per_node: '0' })),
      NodePublishVolume: unary(async (req: NodePublishVolumeRequest) => {
        if (!req.volume_id) throw invalid('volume_id is required');
        if (!req.target_path) throw invalid('target_path is required');
        if (!req.volume_capability) throw invalid('volume_capability is required');
        if (req.volume_capability.block) throw invalid('block volumes are not supported; use a mount volume');
        const group = req.volume_capability.mount?.volume_mount_group;
        const gid = group ? Number(group) : undefined;
        if (gid !== undefined && (!Number.isInteger(gid) || gid < 0)) {
          throw invalid(`volume_mount_group "${group}" is not a numeric group id`);
        }
        const started = process.hrtime.bigint();
        let result = 'error';
        try {
          result = await volumes.publish({
            volumeId: req.volume_id,
            targetPath: req.target_path,
            context: req.volume_context ?? {},
            readonly: req.readonly === true,
            gid,
          });
          return {};
        } catch (err) {
          const e = toCallError(err);
          result = err instanceof FerryError ? err.code : status[e.code];
          logger.warn(
            { volumeId: req.volume_id, pod: req.volume_context?.['csi.storage.k8s.io/pod.name'], error: e.message },
            'NodePublishVolume failed; nothing was mounted',
          );
          throw e;
        } finally {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.csiPublishSeconds.observe({ result }, seconds);
        }
      }),
      NodeUnpublishVolume: unary(async (req: NodeUnpublishVolumeRequest) => {
        if (!req.volume_id) throw invalid('volume_id is required');
        if (!req.target_path) throw invalid('target_path is required');
        await volumes.unpublish(req.volume_id, req.target_path);
        return {};
      }),
      NodeStageVolume: unimplemented,
      NodeUnstageVolume: unimplemented,
      NodeGetVolumeStats: unimplemented,
      NodeExpandVolume: unimplemented,
    },
  };
}

/** Serves Identity and Node on `socketPath` (a stale socket from a previous run is replaced). */
export async function serveCsi(socketPath: string, opts: NodeServerOptions): Promise<Server> {
  const server = new Server();
  const impl = nodeServiceImplementation(opts);
  server.addService(opts.services.identity, impl.identity);
  server.addService(opts.services.node, impl.node);
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  return server;
}
