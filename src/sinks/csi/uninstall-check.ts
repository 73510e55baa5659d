// Whether the CSI node plugin may be removed: kubelet needs the driver to unmount a volume, so a pod
// that still has a Ferry volume when the plugin goes would stay Terminating when it ends, until
// the driver came back. Pods that finished have had their volumes unmounted by kubelet already.
import type { V1Pod } from '@kubernetes/client-node';
import { DRIVER_NAME } from './node-server.ts';

export interface MountingPod {
  namespace: string;
  name: string;
  node: string;
}

/** The pod, if it still needs the plugin: it has a Ferry volume and is running or being deleted. */
export function mountingPod(pod: V1Pod): MountingPod | undefined {
  const mounts = pod.spec?.volumes?.some((v) => v.csi?.driver === DRIVER_NAME);
  if (!mounts) return undefined;
  const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (finished && !pod.metadata?.deletionTimestamp) return undefined;
  return { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', node: pod.spec?.nodeName ?? '' };
}

/** What to tell someone removing the plugin while `pods` still mount its volumes. */
export function refusal(pods: MountingPod[]): string {
  const shown = pods
    .slice(0, 20)
    .map((p) => `${p.namespace}/${p.name}${p.node ? ` (node ${p.node})` : ''}`)
    .join(', ');
  const more = pods.length > 20 ? ` and ${pods.length - 20} more` : '';
  return (
    `${pods.length} pod(s) still mount ${DRIVER_NAME} volumes: ${shown}${more}. ` +
    'Removing the CSI node plugin now would leave them stuck in Terminating when they end, because kubelet needs ' +
    'the driver to unmount. Delete or move them first and run helm uninstall again, or skip this check with ' +
    'helm uninstall --no-hooks (docs/csi.md, "Uninstall").'
  );
}
