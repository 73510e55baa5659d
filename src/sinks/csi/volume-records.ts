// The plugin's memory of the volumes it mounted, on disk under its data directory, so that a
// restarted plugin finds them and keeps rotating them. Tokens are never written here.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WrittenSet } from './atomic-writer.ts';

export interface VolumeRecord {
  volumeId: string;
  targetPath: string;
  namespace: string;
  podName: string;
  podUid: string;
  serviceAccount: string;
  externalSecret: string;
  /** The pod's fsGroup (volume_mount_group), owner group of every file. */
  gid?: number;
  /** The writer's record of the files it made: the current version directory and visible names. */
  written?: WrittenSet;
  /** Memory the current files take on the volume's tmpfs (counted against --volume-memory). */
  bytes?: number;
  /** Provider version mounted for each remote key (for audit and status). */
  versions: Record<string, string>;
  publishedAt: string;
  refreshedAt?: string;
  lastError?: string;
}

export class VolumeRecords {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'volumes');
  }

  private file(volumeId: string): string {
    return join(this.dir, `${createHash('sha256').update(volumeId).digest('hex').slice(0, 32)}.json`);
  }

  async save(record: VolumeRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(record.volumeId);
    await writeFile(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async remove(volumeId: string): Promise<void> {
    await rm(this.file(volumeId), { force: true });
  }

  async loadAll(): Promise<VolumeRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records: VolumeRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      try {
        records.push(JSON.parse(await readFile(join(this.dir, name), 'utf8')) as VolumeRecord);
      } catch {
        await rm(join(this.dir, name), { force: true });
      }
    }
    return records;
  }
}
