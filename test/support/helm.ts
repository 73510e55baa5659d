// The real helm binary (provisioned from the Go module proxy) pointed at the test bed, and the
// chart at helm/ferry.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { KubeAccess } from '../../src/testbed/kube-apiserver.ts';
import { toolPath } from '../../src/testbed/tools.ts';

const exec = promisify(execFile);

export const CHART_DIR = new URL('../../helm/ferry', import.meta.url).pathname;

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Runs helm with the bed's kubeconfig; rejects with helm's own output on failure. */
export async function helm(access: KubeAccess | undefined, args: string[]): Promise<string> {
  const kube = access ? ['--kubeconfig', access.kubeconfigPath] : [];
  try {
    const { stdout } = await exec(toolPath('helm'), [...args, ...kube], {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, HELM_CACHE_HOME: '/tmp/ferry-helm/cache', HELM_CONFIG_HOME: '/tmp/ferry-helm/config' },
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** `helm template` of the chart with --set values, parsed into objects. */
export async function renderChart(values: Record<string, string | number | boolean> = {}): Promise<Manifest[]> {
  const sets = Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const text = await helm(undefined, ['template', 'ferry', CHART_DIR, '--namespace', 'ferry-system', ...sets]);
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}
