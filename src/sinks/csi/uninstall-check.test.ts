import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mountingPod, refusal } from './uninstall-check.ts';

const pod = (phase: string, driver = 'csi.ferry.dev', deleting = false): V1Pod => ({
  metadata: { namespace: 'apps', name: `p-${phase}`, deletionTimestamp: deleting ? new Date() : undefined },
  spec: {
    nodeName: 'n1',
    containers: [],
    volumes: [
      { name: 's', csi: { driver } },
      { name: 'tmp', emptyDir: {} },
    ],
  },
  status: { phase },
});

describe('mountingPod', () => {
  it('counts running, pending and terminating pods with a Ferry volume; not finished ones or other drivers', () => {
    expect(mountingPod(pod('Running'))).toEqual({ namespace: 'apps', name: 'p-Running', node: 'n1' });
    expect(mountingPod(pod('Pending'))).toBeDefined();
    expect(mountingPod(pod('Succeeded'))).toBeUndefined();
    expect(mountingPod(pod('Failed', 'csi.ferry.dev', true))).toBeDefined();
    expect(mountingPod(pod('Running', 'secrets-store.csi.k8s.io'))).toBeUndefined();
  });

  it('names the pods, at most twenty, and the way out', () => {
    const many = Array.from({ length: 22 }, (_, i) => ({ namespace: 'apps', name: `p${i}`, node: 'n1' }));
    const text = refusal(many);
    expect(text).toMatch(/^22 pod\(s\) still mount csi\.ferry\.dev volumes: apps\/p0 \(node n1\), /);
    expect(text).toMatch(/apps\/p19 \(node n1\) and 2 more\./);
    expect(text).toMatch(/stuck in Terminating .* helm uninstall --no-hooks/);
  });
});
