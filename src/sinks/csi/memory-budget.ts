// The node's budget for volume contents. tmpfs pages are charged to the memory cgroup of the
// process that writes them, the plugin: volumes beyond what its memory limit leaves would get the
// plugin killed. Each write reserves what the new set takes before it is written (the old set
// stays until the swap), so the plugin refuses a mount or keeps a volume's old files at the bound
// instead. A mount is admitted only with room left for a rotation besides, so that a full node
// still rotates the volumes it has.

import { FerryError } from '../../errors.ts';

/** The budget is spent: gRPC RESOURCE_EXHAUSTED for a mount; the old files stay for a rotation. */
export class MemoryBudgetError extends FerryError {
  constructor(message: string) {
    super('OverBudget', message);
  }
}

const size = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;

export class MemoryBudget {
  readonly limitBytes: number;
  #used = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  get usedBytes(): number {
    return this.#used;
  }

  /** Counts `bytes` as used, or throws when they do not fit with `headroom` to spare. */
  reserve(bytes: number, what: string, headroom = 0): void {
    if (this.#used + bytes + headroom > this.limitBytes) {
      throw new MemoryBudgetError(
        `${what} needs ${size(bytes)} of the node's volume memory, of which ${size(this.#used)} of ${size(this.limitBytes)} is in use (csi-node --volume-memory, chart value csiNode.volumeMemory)`,
      );
    }
    this.#used += bytes;
  }

  /** Counts `bytes` as used whether or not they fit: volumes already mounted before a restart. */
  claim(bytes: number): void {
    this.#used += bytes;
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}
