// The ExternalSecret a ClusterExternalSecret wants in one namespace, whether an existing one is
// its own copy (ESO's rule: the controller owner reference names this ClusterExternalSecret),
// and whether a copy differs from what is wanted — so nothing is written when nothing changed.
import { isDeepStrictEqual } from 'node:util';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, type ClusterExternalSecret, type ExternalSecret, GROUP } from '../../api/v1alpha1/types.ts';

/** The force-sync annotations copied from the ClusterExternalSecret onto every copy (Ferry's and ESO's). */
export const FORCE_SYNC_ANNOTATIONS = ['ferry.dev/force-sync', 'external-secrets.io/force-sync'];

/** Name of the copies: spec.externalSecretName, else the ClusterExternalSecret's name. */
export function copyName(ces: ClusterExternalSecret): string {
  return ces.spec.externalSecretName ?? ces.metadata.name ?? '';
}

function controllerRef(es: ExternalSecret): V1OwnerReference | undefined {
  return es.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** Whether `es` is a copy made by the ClusterExternalSecret named `cesName`. */
export function isCopyOf(es: ExternalSecret, cesName: string): boolean {
  const ref = controllerRef(es);
  return (
    ref !== undefined &&
    ref.kind === 'ClusterExternalSecret' &&
    ref.apiVersion.split('/')[0] === GROUP &&
    ref.name === cesName
  );
}

/** The ClusterExternalSecret name a copy belongs to, if it is one. */
export function ownerOfCopy(es: ExternalSecret): string | undefined {
  const ref = controllerRef(es);
  return ref?.kind === 'ClusterExternalSecret' && ref.apiVersion.split('/')[0] === GROUP ? ref.name : undefined;
}

/** The copy in `namespace` as it should be. */
export function desiredCopy(ces: ClusterExternalSecret, namespace: string): ExternalSecret {
  const meta = ces.spec.externalSecretMetadata ?? {};
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  for (const key of FORCE_SYNC_ANNOTATIONS) {
    const value = ces.metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
    else delete annotations[key];
  }
  return {
    apiVersion: API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      name: copyName(ces),
      namespace,
      labels: meta.labels ?? {},
      annotations,
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: 'ClusterExternalSecret',
          name: ces.metadata.name ?? '',
          uid: ces.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: ces.spec.externalSecretSpec,
  };
}

/**
 * `current` brought to `desired`: spec, labels and annotations replaced (as ESO does), this
 * ClusterExternalSecret as controller, other owner references and everything else kept.
 * Undefined when `current` already is as wanted.
 */
export function updatedCopy(current: ExternalSecret, desired: ExternalSecret): ExternalSecret | undefined {
  const others = (current.metadata.ownerReferences ?? []).filter((r) => r.controller !== true);
  const owners = [...others, ...(desired.metadata.ownerReferences ?? [])];
  const same =
    isDeepStrictEqual(current.spec, desired.spec) &&
    isDeepStrictEqual(current.metadata.labels ?? {}, desired.metadata.labels ?? {}) &&
    isDeepStrictEqual(current.metadata.annotations ?? {}, desired.metadata.annotations ?? {}) &&
    isDeepStrictEqual(current.metadata.ownerReferences ?? [], owners);
  if (same) return undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      ...current.metadata,
      labels: desired.metadata.labels,
      annotations: desired.metadata.annotations,
      ownerReferences: owners,
    },
    spec: desired.spec,
  };
}
