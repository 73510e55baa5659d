// A kube-apiserver on loopback with RBAC, a service-account issuer (TokenRequest and
// TokenReview work) and a static admin token; no controllers, no kubelet.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pki } from './pki.ts';
import { freePort } from './ports.ts';
import { httpOk } from './probes.ts';
import { ServerProcess } from './server-process.ts';
import { toolPath } from './tools.ts';

export interface KubeAccess {
  server: string;
  caPem: string;
  token: string;
  kubeconfigPath: string;
}

export interface KubeApiServer {
  access: KubeAccess;
  etcdPrefix: string;
  process: ServerProcess;
}

export function kubeconfigYaml(access: Omit<KubeAccess, 'kubeconfigPath'>): string {
  const ca = Buffer.from(access.caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: ferry-testbed',
    `  cluster: { server: "${access.server}", certificate-authority-data: "${ca}" }`,
    'users:',
    '- name: admin',
    `  user: { token: "${access.token}" }`,
    'contexts:',
    '- name: ferry-testbed',
    '  context: { cluster: ferry-testbed, user: admin }',
    'current-context: ferry-testbed',
    '',
  ].join('\n');
}

/**
 * Starts an API server on `etcdUrl`; a fresh etcd prefix gives it an empty cluster.
 * `serviceAccountAdmission` turns on the ServiceAccount admission plugin (pods get a token
 * volume); it needs kube-controller-manager's ServiceAccount controllers, so only the bed
 * with a node sets it.
 */
export async function startKubeApiServer(opts: {
  runDir: string;
  pki: Pki;
  etcdUrl: string;
  serviceAccountAdmission?: boolean;
  /** More flags, after the defaults (a later flag wins), e.g. --min-request-timeout for short watches. */
  extraArgs?: string[];
  /** More environment, e.g. GOMEMLIMIT. */
  env?: Record<string, string>;
}): Promise<KubeApiServer> {
  const { runDir, pki, etcdUrl } = opts;
  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const etcdPrefix = `/registry-${randomBytes(6).toString('hex')}`;
  const dir = join(runDir, `kube-apiserver-${port}`);
  await mkdir(dir, { recursive: true });
  const proc = new ServerProcess({
    name: 'kube-apiserver',
    command: toolPath('kube-apiserver'),
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--etcd-prefix=${etcdPrefix}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${dir}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${pki.tokenFile}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      ...(opts.serviceAccountAdmission ? [] : ['--disable-admission-plugins=ServiceAccount']),
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      '--v=1',
      ...(opts.extraArgs ?? []),
    ],
    env: opts.env,
    logFile: join(runDir, `kube-apiserver-${port}.log`),
    probe: httpOk(`${server}/readyz`, { ca: pki.caPem }),
    readyTimeoutMs: 120_000,
  });
  await proc.start();
  const access = { server, caPem: pki.caPem, token: pki.adminToken };
  const kubeconfigPath = join(dir, 'admin.kubeconfig');
  await writeFile(kubeconfigPath, kubeconfigYaml(access), { mode: 0o600 });
  return { access: { ...access, kubeconfigPath }, etcdPrefix, process: proc };
}
