// The bed's node itself: a Ready kubelet of the bed's version on containerd, one per machine,
// and pods admitted with a ServiceAccount token as in a real cluster.
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Pods, requireNode } from '../support/pods.ts';
import { createNamespace, kubeConfigFor, testbed } from '../support/testbed.ts';
import { acquireHostLock } from '../testbed/node/host-lock.ts';
import { checkHost } from '../testbed/node/node.ts';

describe('the test bed node', () => {
  it('is Ready, running kubelet v1.35.4 on containerd', async () => {
    const node = requireNode();
    const core = kubeConfigFor(testbed().kube).makeApiClient(CoreV1Api);
    const n = await core.readNode({ name: node.name });
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(n.status?.nodeInfo?.kubeletVersion).toBe('v1.35.4');
    expect(n.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/1\./);
  });

  it('fails at once without root, saying why (the tests that need it then fail with that message)', async () => {
    await expect(checkHost(65534)).rejects.toThrow(/^a real node \(kubelet \+ containerd\) needs root/);
  });

  it('refuses a second node on the same machine, naming the lock', async () => {
    requireNode(); // the bed's node holds the lock
    await expect(acquireHostLock('/nonexistent/ferry-testbed-second/node')).rejects.toThrow(
      /another test bed already runs a node on this machine .*ferry-testbed-node\.lock/,
    );
  });

  it("gives pods the namespace's ServiceAccount token, which authenticates as that account", async () => {
    const node = requireNode();
    const kc = kubeConfigFor(testbed().kube);
    const pods = new Pods(kc, await createNamespace(kc, 'sa'), node);
    await pods.waitForDefaultServiceAccount();
    await pods.deployment('whoami', {
      script: 'while true; do echo "token=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)"; sleep 0.5; done',
    });
    const { pod, line } = await pods.waitForLine(
      'whoami',
      (l) => l.startsWith('token=ey'),
      'the pod to print its token',
    );
    expect(pod.spec?.serviceAccountName).toBe('default');
    expect(pod.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-'))).toBe(true);
    const review = await kc
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token: line.slice('token='.length) } } });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${pods.namespace}:default`);
  });
});
