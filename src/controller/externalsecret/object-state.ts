// What the controller remembers about one ExternalSecret between reconciles, in memory only.

export interface ObjectState {
  /** Reads must have started after this (force-sync, annotation change). */
  freshAfter?: number;
  /** When the provider was last re-read for a forced sync. */
  forcedAt?: number;
  /** A forced sync arrived sooner than the controller's --force-sync-interval after the last: re-read when it has passed. */
  forcePending?: boolean;
  /** The generation whose raised refreshInterval was already reported (an Event per generation). */
  refreshRaisedFor?: number;
  /** When the last successful sync in this process ended. */
  syncedAt?: number;
  /** Reads found missing, and when first seen, to confirm a deletion on a later refresh. */
  missing?: { ids: string; firstAt: number };
  /** What Ferry last wrote, to tell its own writes from drift. */
  written?: { hash: string; keys: string[] };
  /**
   * What Ferry is writing now: the watch can deliver the write before its response arrives, and
   * that echo must not look like drift (it would queue a second sync of every object written).
   */
  writing?: { hash: string; keys: string[] };
  /** Content hash of the last sync with creationPolicy None (files only), for restart-on-change. */
  contentHash?: string;
  /** The names each dataFrom[].find listed (by index) at the last write, for the generation written. */
  found?: { generation: number; names: Map<number, string[]> };
  /** The store (its read-sharing key) whose provider did not answer the last sync; retried when it does. */
  waitingOn?: string;
  /** Why the last content change rolled fewer workloads than asked (no consent, rollouts off); for the status. */
  rolloutNote?: string;
}
