// Telling Ferry's own writes, and harmless metadata edits by others, from drift that must be
// repaired: a Secret is intact when its data still hashes to what Ferry wrote.
import type { V1Secret } from '@kubernetes/client-node';
import type { Settings } from '../../pipeline/settings.ts';
import { dataHash, HASH_ANNOTATION } from '../../sinks/secret/secret-writer.ts';
import { type SecretData, SecretValue } from '../../values.ts';
import type { ObjectState } from './object-state.ts';

function dataOf(secret: V1Secret, keys?: string[]): SecretData {
  const entries = Object.entries(secret.data ?? {}).filter(([k]) => !keys || keys.includes(k));
  return new Map(entries.map(([k, v]) => [k, SecretValue.fromBytes(Buffer.from(v, 'base64'))]));
}

/** The record of a write, in the form isIntact compares against. */
export function writtenRecord(s: Settings, data: SecretData): NonNullable<ObjectState['written']> {
  return { hash: dataHash(s.creationPolicy === 'Merge' ? '' : s.type, data), keys: [...data.keys()] };
}

/**
 * Whether the target holds what Ferry last wrote; with creationPolicy None there is nothing to
 * hold. An Orphan target always counts as intact, as in ESO (isSecretValid): edits to it, or its
 * deletion, are undone only by the next due sync, not at once.
 */
export function isIntact(secret: V1Secret | undefined, s: Settings, state: ObjectState): boolean {
  if (s.creationPolicy === 'None' || s.creationPolicy === 'Orphan') return true;
  if (!secret) return false;
  const mine = (record: ObjectState['written']): boolean =>
    record !== undefined && dataHash('', dataOf(secret, record.keys)) === record.hash;
  if (s.creationPolicy === 'Merge') return mine(state.written) || mine(state.writing);
  const actual = dataHash(secret.type ?? 'Opaque', dataOf(secret));
  const recorded = state.written?.hash ?? secret.metadata?.annotations?.[HASH_ANNOTATION];
  return actual === recorded || actual === state.writing?.hash;
}
