// A client certificate signed by the bed CA and a kubeconfig using it, so kube-controller-manager
// and kube-scheduler act as their own users (system:kube-controller-manager, system:kube-scheduler)
// and the bootstrap RBAC roles apply to them.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeAccess } from '../kube-apiserver.ts';
import type { Pki } from '../pki.ts';

const run = promisify(execFile);

/** Writes `<dir>/<name>.{key,crt,kubeconfig}` for user `commonName`; returns the kubeconfig path. */
export async function componentKubeconfig(
  dir: string,
  name: string,
  commonName: string,
  pki: Pki,
  kube: KubeAccess,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const [key, csr, crt] = ['key', 'csr', 'crt'].map((ext) => join(dir, `${name}.${ext}`)) as [string, string, string];
  try {
    await run('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${commonName}`,
      '-keyout',
      key,
      '-out',
      csr,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      pki.caCert,
      '-CAkey',
      pki.caKey,
      '-CAcreateserial',
      '-days',
      '30',
      '-out',
      crt,
    ]);
  } catch (err) {
    throw new Error(`openssl failed while creating the client certificate for ${commonName} in ${dir}: ${String(err)}`);
  }
  const kubeconfig = join(dir, `${name}.kubeconfig`);
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: ferry-testbed',
      `  cluster: { server: "${kube.server}", certificate-authority: "${pki.caCert}" }`,
      'users:',
      `- name: ${name}`,
      `  user: { client-certificate: "${crt}", client-key: "${key}" }`,
      'contexts:',
      `- name: ${name}`,
      `  context: { cluster: ferry-testbed, user: ${name} }`,
      `current-context: ${name}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return kubeconfig;
}
