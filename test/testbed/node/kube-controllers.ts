// kube-controller-manager and kube-scheduler for the node's bed: Deployments become ReplicaSets
// and Pods, Pods get scheduled, owner references are garbage-collected, namespaces get their
// `default` ServiceAccount. Each runs as its own user; stop them before the API server (a
// connected kube-controller-manager keeps it from exiting on SIGTERM).
import { join } from 'node:path';
import type { KubeAccess } from '../kube-apiserver.ts';
import type { Pki } from '../pki.ts';
import { freePort } from '../ports.ts';
import { httpOk } from '../probes.ts';
import { ServerProcess } from '../server-process.ts';
import { toolPath } from '../tools.ts';
import { componentKubeconfig } from './component-identity.ts';

function commonFlags(kubeconfig: string, pki: Pki, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    // The bed has no front-proxy CA; skipping the lookup silences the log noise it causes.
    '--authentication-skip-lookup=true',
    `--client-ca-file=${pki.caCert}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
  ];
}

export async function startControllerManager(dir: string, pki: Pki, kube: KubeAccess): Promise<ServerProcess> {
  const kubeconfig = await componentKubeconfig(
    dir,
    'kube-controller-manager',
    'system:kube-controller-manager',
    pki,
    kube,
  );
  const port = await freePort();
  const proc = new ServerProcess({
    name: 'kube-controller-manager',
    command: toolPath('kube-controller-manager'),
    args: [
      ...commonFlags(kubeconfig, pki, port),
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      // With a dedicated identity each controller must use its own ServiceAccount's rights.
      '--use-service-account-credentials=true',
      '--controllers=*',
      `--cert-dir=${join(dir, 'kube-controller-manager-certs')}`,
      '--kube-api-qps=100',
      '--kube-api-burst=200',
      '--v=1',
    ],
    logFile: join(dir, '..', 'kube-controller-manager.log'),
    // It answers 404 on /readyz; /healthz is the probe.
    probe: httpOk(`https://127.0.0.1:${port}/healthz`, { insecure: true }),
    readyTimeoutMs: 60_000,
  });
  await proc.start();
  return proc;
}

export async function startScheduler(dir: string, pki: Pki, kube: KubeAccess): Promise<ServerProcess> {
  const kubeconfig = await componentKubeconfig(dir, 'kube-scheduler', 'system:kube-scheduler', pki, kube);
  const port = await freePort();
  const proc = new ServerProcess({
    name: 'kube-scheduler',
    command: toolPath('kube-scheduler'),
    args: [...commonFlags(kubeconfig, pki, port), '--v=1'],
    logFile: join(dir, '..', 'kube-scheduler.log'),
    probe: httpOk(`https://127.0.0.1:${port}/healthz`, { insecure: true }),
    readyTimeoutMs: 60_000,
  });
  await proc.start();
  return proc;
}
