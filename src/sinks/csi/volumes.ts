// The volumes of one node: mount on NodePublishVolume (tmpfs, filled atomically, or nothing at
// all), keep fresh on each ExternalSecret's refresh grid and when it changes, unmount on
// NodeUnpublishVolume. A failed refresh leaves the mounted files exactly as they were.
import { mkdir, rmdir } from 'node:fs/promises';
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { refreshSeed, settingsOf } from '../../controller/externalsecret/settings.ts';
import { nextRefreshAt } from '../../controller/schedule.ts';
import { objectVersion } from '../../controller/status.ts';
import type { WorkloadIdentity } from '../../controller/store-clients.ts';
import { type ReconcileResult, WorkQueue } from '../../kube/work-queue.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { ProviderError } from '../../providers/provider.ts';
import { writeAtomically } from './atomic-writer.ts';
import { isMountPoint, mountTmpfs, unmount } from './tmpfs.ts';
import { type VolumeRecord, VolumeRecords } from './volume-records.ts';
import { readVolumeContent, type VolumeSourceDeps, VolumeSourceError } from './volume-source.ts';

/** Room for a full 1 MiB Secret's worth of files twice over (old and new set during a swap). */
const TMPFS_BYTES = 4 * 1024 * 1024;

export const CONTEXT = {
  externalSecret: 'externalSecret',
  podName: 'csi.storage.k8s.io/pod.name',
  podNamespace: 'csi.storage.k8s.io/pod.namespace',
  podUid: 'csi.storage.k8s.io/pod.uid',
  serviceAccount: 'csi.storage.k8s.io/serviceAccount.name',
  tokens: 'csi.storage.k8s.io/serviceAccount.tokens',
  ephemeral: 'csi.storage.k8s.io/ephemeral',
} as const;

export interface PublishRequest {
  volumeId: string;
  targetPath: string;
  context: Record<string, string>;
  gid?: number;
}

/** A request the plugin refuses outright (gRPC INVALID_ARGUMENT). */
export class PublishArgumentError extends Error {}

interface PodToken {
  token: string;
  expiresAt: number;
}

interface Volume {
  record: VolumeRecord;
  /** Tokens kubelet sent at the last (re)publish, by audience. Memory only. */
  tokens: Map<string, PodToken>;
  /** objectVersion of the ExternalSecret the files were last written from. */
  writtenFrom?: string;
}

export interface VolumeManagerOptions {
  dataDir: string;
  source: VolumeSourceDeps;
  externalSecret(namespace: string, name: string): ExternalSecret | undefined;
  metrics: Metrics;
  logger: Logger;
  concurrency?: number;
}

export class VolumeManager {
  private readonly volumes = new Map<string, Volume>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly records: VolumeRecords;
  private readonly queue: WorkQueue;
  private readonly opts: VolumeManagerOptions;

  constructor(opts: VolumeManagerOptions) {
    this.opts = opts;
    this.records = new VolumeRecords(opts.dataDir);
    this.queue = new WorkQueue({
      name: 'csi-volumes',
      concurrency: opts.concurrency ?? 10,
      metrics: opts.metrics,
      handler: (id) => this.serially(id, () => this.refresh(id)),
      onError: (id, err) => opts.logger.error({ volumeId: id, err: String(err) }, 'volume refresh crashed'),
    });
  }

  /** Runs the refresh queue until `signal` aborts. Mounted volumes stay mounted for their pods. */
  run(signal: AbortSignal): Promise<void> {
    return this.queue.run(signal);
  }

  /** Picks up the volumes a previous run mounted that are still mounted; forgets the others. */
  async restore(): Promise<number> {
    for (const record of await this.records.loadAll()) {
      if (!(await isMountPoint(record.targetPath))) {
        await this.records.remove(record.volumeId);
        continue;
      }
      this.volumes.set(record.volumeId, { record, tokens: new Map() });
      this.queue.add(record.volumeId, 'periodic');
    }
    this.opts.metrics.csiVolumes.set(this.volumes.size);
    return this.volumes.size;
  }

  get size(): number {
    return this.volumes.size;
  }

  list(): VolumeRecord[] {
    return [...this.volumes.values()].map((v) => v.record);
  }

  /** NodePublishVolume: mounts and fills the volume, or refreshes its tokens on a republish. */
  async publish(req: PublishRequest): Promise<'mounted' | 'republished'> {
    const { context } = req;
    if (context[CONTEXT.ephemeral] !== 'true') {
      throw new PublishArgumentError(
        'only inline ephemeral volumes are supported: use a csi volume in the pod spec (volumeAttributes externalSecret: <name>)',
      );
    }
    const name = context[CONTEXT.externalSecret];
    const namespace = context[CONTEXT.podNamespace];
    if (!name)
      throw new PublishArgumentError('volumeAttributes.externalSecret is required: the ExternalSecret to mount');
    if (!namespace) throw new PublishArgumentError(`volume context lacks ${CONTEXT.podNamespace} (podInfoOnMount)`);
    const tokens = parseTokens(context[CONTEXT.tokens]);

    return this.serially(req.volumeId, async () => {
      const existing = this.volumes.get(req.volumeId);
      if (existing && existing.record.targetPath === req.targetPath && (await isMountPoint(req.targetPath))) {
        existing.tokens = tokens;
        const es = this.opts.externalSecret(namespace, name);
        // kubelet republishes often; a due refresh or a changed ExternalSecret is queued, not awaited.
        if (es && objectVersion(es) !== existing.writtenFrom) this.queue.add(req.volumeId, 'urgent');
        return 'republished';
      }
      const es = this.opts.externalSecret(namespace, name);
      if (!es) {
        throw new VolumeSourceError('BadReference', `ExternalSecret ${namespace}/${name} does not exist`);
      }
      const record: VolumeRecord = {
        volumeId: req.volumeId,
        targetPath: req.targetPath,
        namespace,
        podName: context[CONTEXT.podName] ?? '',
        podUid: context[CONTEXT.podUid] ?? '',
        serviceAccount: context[CONTEXT.serviceAccount] ?? 'default',
        externalSecret: name,
        gid: req.gid,
        versions: {},
        publishedAt: new Date().toISOString(),
      };
      const volume: Volume = { record, tokens };
      // Read first: a volume that cannot be filled is never mounted at all, let alone empty.
      const content = await readVolumeContent(es, this.workload(volume), this.opts.source);
      await mkdir(req.targetPath, { recursive: true, mode: 0o750 });
      if (!(await isMountPoint(req.targetPath))) {
        await mountTmpfs(req.targetPath, { sizeBytes: TMPFS_BYTES, gid: req.gid });
      }
      try {
        await writeAtomically(req.targetPath, content.files, { gid: req.gid });
      } catch (err) {
        await unmount(req.targetPath).catch(() => undefined);
        await rmdir(req.targetPath).catch(() => undefined);
        throw err;
      }
      record.versions = content.versions;
      record.refreshedAt = new Date().toISOString();
      volume.writtenFrom = objectVersion(es);
      this.volumes.set(req.volumeId, volume);
      await this.records.save(record);
      this.opts.metrics.csiVolumes.set(this.volumes.size);
      this.schedule(volume, es);
      this.opts.logger.info(
        { volumeId: req.volumeId, namespace, pod: record.podName, externalSecret: name, files: content.files.length },
        'volume mounted',
      );
      return 'mounted';
    });
  }

  /** NodeUnpublishVolume: unmounts and removes the target; idempotent. */
  async unpublish(volumeId: string, targetPath: string): Promise<void> {
    await this.serially(volumeId, async () => {
      this.queue.forget(volumeId);
      await unmount(targetPath);
      await rmdir(targetPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.volumes.delete(volumeId);
      await this.records.remove(volumeId);
      this.opts.metrics.csiVolumes.set(this.volumes.size);
    });
  }

  /** The ExternalSecret (or its store) changed: refresh its volumes now. */
  externalSecretChanged(namespace: string, name: string): void {
    for (const [id, v] of this.volumes) {
      if (v.record.namespace === namespace && v.record.externalSecret === name) this.queue.add(id, 'urgent');
    }
  }

  /** Every volume of a namespace's ExternalSecrets, or all (a ClusterSecretStore changed). */
  refreshAll(filter: (record: VolumeRecord) => boolean = () => true): void {
    for (const [id, v] of this.volumes) if (filter(v.record)) this.queue.add(id, 'urgent');
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async refresh(volumeId: string): Promise<ReconcileResult | undefined> {
    const volume = this.volumes.get(volumeId);
    if (!volume) return undefined;
    const { record } = volume;
    const log = this.opts.logger.child({ volumeId, namespace: record.namespace, pod: record.podName });
    // Never write through an unmounted target: the files would land on the node's disk.
    if (!(await isMountPoint(record.targetPath))) {
      log.warn('volume is no longer mounted; forgetting it');
      this.volumes.delete(volumeId);
      await this.records.remove(volumeId);
      this.opts.metrics.csiVolumes.set(this.volumes.size);
      return undefined;
    }
    const es = this.opts.externalSecret(record.namespace, record.externalSecret);
    if (!es) {
      await this.noteError(record, 'ExternalSecret deleted; the mounted files are kept as they are');
      return undefined;
    }
    const started = Date.now();
    try {
      const content = await readVolumeContent(es, this.workload(volume), this.opts.source, started);
      const changed = await writeAtomically(record.targetPath, content.files, { gid: record.gid });
      volume.writtenFrom = objectVersion(es);
      record.versions = content.versions;
      record.refreshedAt = new Date(started).toISOString();
      record.lastError = undefined;
      await this.records.save(record);
      this.opts.metrics.csiRotations.inc({ result: changed ? 'changed' : 'unchanged' });
      if (changed) log.info({ externalSecret: record.externalSecret }, 'volume files rotated');
    } catch (err) {
      const kind = err instanceof VolumeSourceError || err instanceof ProviderError ? err.kind : 'Transient';
      this.opts.metrics.csiRotations.inc({ result: kind });
      await this.noteError(record, `${kind}: ${(err as Error).message}`);
      log.warn({ error: (err as Error).message }, 'volume refresh failed; the mounted files are left as they were');
      const retryAfterMs = err instanceof VolumeSourceError ? err.retryAfterMs : undefined;
      return { failed: true, retryAfterMs };
    }
    return this.nextRefresh(es);
  }

  private nextRefresh(es: ExternalSecret): ReconcileResult {
    const interval = settingsOf(es).refreshIntervalMs;
    if (interval <= 0) return {};
    return { requeueAfterMs: nextRefreshAt(Date.now(), interval, refreshSeed(es)) - Date.now() };
  }

  private schedule(volume: Volume, es: ExternalSecret): void {
    const next = this.nextRefresh(es).requeueAfterMs;
    if (next !== undefined) this.queue.addAfter(volume.record.volumeId, next, 'periodic');
  }

  private async noteError(record: VolumeRecord, message: string): Promise<void> {
    record.lastError = message;
    await this.records.save(record);
  }

  /** The pod's identity: the freshest token kubelet gave any live volume of its ServiceAccount. */
  private workload(volume: Volume): WorkloadIdentity {
    const { namespace, serviceAccount } = volume.record;
    return {
      key: `${namespace}/${serviceAccount}`,
      token: (audience) => {
        let best: PodToken | undefined;
        for (const v of [volume, ...this.volumes.values()]) {
          if (v.record.namespace !== namespace || v.record.serviceAccount !== serviceAccount) continue;
          const t = v.tokens.get(audience);
          if (t && t.expiresAt > Date.now() && (!best || t.expiresAt > best.expiresAt)) best = t;
        }
        if (best) return best.token;
        const known = [...volume.tokens.keys()].map((a) => `"${a}"`).join(', ') || 'none';
        throw new ProviderError(
          volume.tokens.size === 0 ? 'Transient' : 'Invalid',
          volume.tokens.size === 0
            ? `no current token of ServiceAccount ${namespace}/${serviceAccount}: waiting for kubelet to republish the volume`
            : `kubelet sent no token of ServiceAccount ${namespace}/${serviceAccount} for audience "${audience}" (it sent ${known}): add the audience to the CSIDriver's tokenRequests`,
        );
      },
    };
  }

  /** One operation at a time per volume (publish, refresh and unpublish never overlap). */
  private serially<T>(volumeId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(volumeId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(volumeId, settled);
    void settled.then(() => {
      if (this.locks.get(volumeId) === settled) this.locks.delete(volumeId);
    });
    return next;
  }
}

/** kubelet's `serviceAccount.tokens`: `{"<audience>": {"token": …, "expirationTimestamp": …}}`. */
function parseTokens(json: string | undefined): Map<string, PodToken> {
  const tokens = new Map<string, PodToken>();
  if (!json) return tokens;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new PublishArgumentError(`${CONTEXT.tokens} is not JSON`);
  }
  for (const [audience, value] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
    const { token, expirationTimestamp } = (value ?? {}) as { token?: string; expirationTimestamp?: string };
    if (!token) continue;
    const expiresAt = Date.parse(expirationTimestamp ?? '');
    tokens.set(audience, { token, expiresAt: Number.isFinite(expiresAt) ? expiresAt : Date.now() + 10 * 60_000 });
  }
  return tokens;
}
