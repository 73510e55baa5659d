// The volumes of one node: mount on NodePublishVolume (tmpfs, filled atomically, or nothing at
// all; read-only for the pod), keep fresh on each ExternalSecret's refresh grid and when it
// changes, unmount on NodeUnpublishVolume. A failed refresh leaves the mounted files exactly as
// they were.
import type { ExternalSecret } from '../../api/v1alpha1/types.ts';
import { FerryError } from '../../errors.ts';
import { type ReconcileResult, WorkQueue } from '../../kube/work-queue.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { noTemplateSources, type ReadPipeline, versionsRead } from '../../pipeline/index.ts';
import { nextRefreshAt } from '../../pipeline/refresh-timing.ts';
import { objectVersion, refreshSeed } from '../../pipeline/settings.ts';
import type { WorkloadIdentity } from '../../pipeline/store-clients.ts';
import { ProviderError } from '../../providers/provider.ts';
import { type FileEntry, footprintBytes, writeAtomically } from './atomic-writer.ts';
import { MemoryBudget } from './memory-budget.ts';
import { type DriverPolicy, type PodToken, PublishArgumentError, parsePublishContext } from './publish-context.ts';
import { volumeFiles } from './volume-files.ts';
import {
  isAttached,
  mountVolume,
  prepareMountsDir,
  reattachVolume,
  unmountVolume,
  type VolumePaths,
  volumePaths,
} from './volume-mounts.ts';
import { type VolumeRecord, VolumeRecords } from './volume-records.ts';

export interface PublishRequest {
  volumeId: string;
  targetPath: string;
  context: Record<string, string>;
  /** kubelet's `readonly`: the pod's volumes[].csi.readOnly. */
  readonly: boolean;
  gid?: number;
}

interface Volume {
  record: VolumeRecord;
  paths: VolumePaths;
  /** Tokens kubelet sent at the last (re)publish, by audience. Memory only. */
  tokens: Map<string, PodToken>;
  /** objectVersion of the ExternalSecret the files were last written from. */
  writtenFrom?: string;
}

/** What a volume holds: its files, and the provider version read for each remote key. */
interface VolumeContent {
  files: FileEntry[];
  versions: Record<string, string>;
}

export interface VolumeManagerOptions {
  dataDir: string;
  pipeline: ReadPipeline;
  externalSecret(namespace: string, name: string): ExternalSecret | undefined;
  /** What the CSIDriver object allows the plugin to trust, at the time of the call. */
  driver(): DriverPolicy;
  /** The node's budget for volume contents, in bytes. */
  memoryBytes: number;
  metrics: Metrics;
  logger: Logger;
  concurrency?: number;
}

export class VolumeManager {
  private readonly volumes = new Map<string, Volume>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly records: VolumeRecords;
  private readonly queue: WorkQueue;
  private readonly budget: MemoryBudget;
  private readonly opts: VolumeManagerOptions;

  constructor(opts: VolumeManagerOptions) {
    this.opts = opts;
    this.records = new VolumeRecords(opts.dataDir);
    this.budget = new MemoryBudget(opts.memoryBytes);
    opts.metrics.csiVolumeMemory.set({ kind: 'limit' }, opts.memoryBytes);
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

  /**
   * Picks up the volumes a previous run mounted that are still mounted (those an older plugin
   * mounted writable at the target too, made read-only now); forgets the others.
   */
  async restore(): Promise<number> {
    await prepareMountsDir(this.opts.dataDir);
    for (const record of await this.records.loadAll()) {
      const paths = volumePaths(this.opts.dataDir, record.volumeId, record.targetPath);
      // A failure here is retried by the volume's refresh; only a target gone is forgotten.
      const state = await reattachVolume(paths).catch((err: Error) => {
        this.opts.logger.error({ volumeId: record.volumeId, error: err.message }, 'could not take a volume back yet');
        return 'retry' as const;
      });
      if (state === 'gone') {
        await unmountVolume(paths).catch(() => undefined);
        await this.records.remove(record.volumeId);
        continue;
      }
      this.budget.claim(record.bytes ?? 0);
      this.volumes.set(record.volumeId, { record, paths, tokens: new Map() });
      this.queue.add(record.volumeId, 'periodic');
    }
    this.counted();
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
    const { pod, externalSecret: name, tokens } = parsePublishContext(req.context, this.opts.driver());
    const { namespace } = pod;

    return this.serially(req.volumeId, async () => {
      const existing = this.volumes.get(req.volumeId);
      if (existing && existing.record.targetPath === req.targetPath && (await isAttached(existing.paths))) {
        existing.tokens = tokens;
        const es = this.opts.externalSecret(namespace, name);
        // kubelet republishes often; a due refresh or a changed ExternalSecret is queued, not awaited.
        if (es && objectVersion(es) !== existing.writtenFrom) this.queue.add(req.volumeId, 'urgent');
        return 'republished';
      }
      if (existing) await this.forget(existing);
      // A pod that may write into its volume could plant what the plugin then trusts: refused
      // here, and the pod's view is mounted read-only whatever it asks.
      if (!req.readonly) {
        throw new PublishArgumentError(
          `volume of pod ${namespace}/${pod.name}: set readOnly: true on the pod's csi volume (volumes[].csi.readOnly); Ferry's volumes are read-only`,
        );
      }
      const es = this.opts.externalSecret(namespace, name);
      if (!es) {
        throw new FerryError('BadReference', `ExternalSecret ${namespace}/${name} does not exist`);
      }
      const record: VolumeRecord = {
        volumeId: req.volumeId,
        targetPath: req.targetPath,
        namespace,
        podName: pod.name,
        podUid: pod.uid,
        serviceAccount: pod.serviceAccount,
        externalSecret: name,
        gid: req.gid,
        versions: {},
        publishedAt: new Date().toISOString(),
      };
      const paths = volumePaths(this.opts.dataDir, req.volumeId, req.targetPath);
      const volume: Volume = { record, paths, tokens };
      // Read first: a volume that cannot be filled is never mounted at all, let alone empty.
      const content = await this.read(es, volume);
      const bytes = footprintBytes(content.files);
      // Room for one rotation of the largest volume stays free, so rotations go on at the bound.
      const largest = Math.max(bytes, ...[...this.volumes.values()].map((v) => v.record.bytes ?? 0));
      this.budget.reserve(bytes, `the volume of pod ${namespace}/${pod.name} (ExternalSecret ${name})`, largest);
      try {
        const { written } = await mountVolume(paths, { gid: req.gid }, (dir) =>
          writeAtomically(dir, content.files, { gid: req.gid }),
        );
        record.written = written;
      } catch (err) {
        this.budget.release(bytes);
        throw err;
      }
      record.bytes = bytes;
      record.versions = content.versions;
      record.refreshedAt = new Date().toISOString();
      volume.writtenFrom = objectVersion(es);
      this.volumes.set(req.volumeId, volume);
      await this.records.save(record);
      this.counted();
      this.schedule(volume, es);
      this.opts.logger.info(
        { volumeId: req.volumeId, namespace, pod: record.podName, externalSecret: name, files: content.files.length },
        'volume mounted',
      );
      return 'mounted';
    });
  }

  /** NodeUnpublishVolume: unmounts and removes the target and the private mount; idempotent. */
  async unpublish(volumeId: string, targetPath: string): Promise<void> {
    await this.serially(volumeId, async () => {
      this.queue.forget(volumeId);
      await unmountVolume(volumePaths(this.opts.dataDir, volumeId, targetPath));
      const volume = this.volumes.get(volumeId);
      if (volume) await this.forget(volume);
      else await this.records.remove(volumeId);
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
    // Never write through an unmounted path: the files would land on the node's disk.
    if (!(await isAttached(volume.paths)) && (await reattachVolume(volume.paths)) === 'gone') {
      log.warn('volume is no longer mounted; forgetting it');
      await unmountVolume(volume.paths).catch(() => undefined);
      await this.forget(volume);
      return undefined;
    }
    const es = this.opts.externalSecret(record.namespace, record.externalSecret);
    if (!es) {
      await this.noteError(record, 'ExternalSecret deleted; the mounted files are kept as they are');
      return undefined;
    }
    const started = Date.now();
    try {
      const content = await this.read(es, volume, started);
      const changed = await this.rewrite(volume, content.files);
      volume.writtenFrom = objectVersion(es);
      record.versions = content.versions;
      record.refreshedAt = new Date(started).toISOString();
      record.lastError = undefined;
      await this.records.save(record);
      this.opts.metrics.csiRotations.inc({ result: changed ? 'changed' : 'unchanged' });
      if (changed) log.info({ externalSecret: record.externalSecret }, 'volume files rotated');
    } catch (err) {
      const kind = err instanceof FerryError ? err.code : 'Transient';
      this.opts.metrics.csiRotations.inc({ result: kind });
      await this.noteError(record, `${kind}: ${(err as Error).message}`);
      log.warn({ error: (err as Error).message }, 'volume refresh failed; the mounted files are left as they were');
      const retryAfterMs = err instanceof FerryError ? err.retryAfterMs : undefined;
      return { failed: true, retryAfterMs };
    }
    return this.nextRefresh(es);
  }

  private nextRefresh(es: ExternalSecret): ReconcileResult {
    const interval = this.opts.pipeline.settings(es).refreshIntervalMs;
    if (interval <= 0) return {};
    return { requeueAfterMs: nextRefreshAt(Date.now(), interval, refreshSeed(es)) - Date.now() };
  }

  private schedule(volume: Volume, es: ExternalSecret): void {
    const next = this.nextRefresh(es).requeueAfterMs;
    if (next !== undefined) this.queue.addAfter(volume.record.volumeId, next, 'periodic');
  }

  /** Reads and renders the volume's ExternalSecret as the pod (any failure throws, before a file is touched). */
  private async read(es: ExternalSecret, volume: Volume, started = Date.now()): Promise<VolumeContent> {
    const { rendered, fetched, resolved } = await this.opts.pipeline.read(es, {
      sources: noTemplateSources('CSI volumes'),
      workload: this.workload(volume),
      started,
      lastSyncAt: Date.parse(volume.record.refreshedAt ?? '') || undefined,
    });
    return { files: volumeFiles(es.spec, rendered.data), versions: versionsRead(es, resolved, fetched) };
  }

  /** Writes a new set into a mounted volume, the new set's memory reserved until the old one is gone. */
  private async rewrite(volume: Volume, files: Parameters<typeof writeAtomically>[1]): Promise<boolean> {
    const { record } = volume;
    const bytes = footprintBytes(files);
    this.budget.reserve(bytes, `rotating the volume of pod ${record.namespace}/${record.podName}`);
    let result: Awaited<ReturnType<typeof writeAtomically>>;
    try {
      result = await writeAtomically(volume.paths.private, files, { gid: record.gid, previous: record.written });
    } catch (err) {
      this.budget.release(bytes);
      throw err;
    }
    this.budget.release(result.changed ? (record.bytes ?? 0) : bytes);
    if (result.changed) record.bytes = bytes;
    record.written = result.written;
    this.counted();
    return result.changed;
  }

  /** Drops a volume the plugin no longer serves: its memory, its record, its refreshes. */
  private async forget(volume: Volume): Promise<void> {
    const id = volume.record.volumeId;
    this.queue.forget(id);
    if (this.volumes.get(id) === volume) this.volumes.delete(id);
    this.budget.release(volume.record.bytes ?? 0);
    await this.records.remove(id);
    this.counted();
  }

  private counted(): void {
    this.opts.metrics.csiVolumes.set(this.volumes.size);
    this.opts.metrics.csiVolumeMemory.set({ kind: 'used' }, this.budget.usedBytes);
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
      namespace,
      serviceAccount,
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
            : `kubelet sent no token of ServiceAccount ${namespace}/${serviceAccount} for audience "${audience}" (it sent ${known}): add the audience to the CSIDriver's tokenRequests (chart value csiNode.tokenRequests)`,
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
