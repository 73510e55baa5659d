// The chart at helm/ferry rendered by the bed's real helm binary (`helm template`), for the
// objects the demo and the tests apply from it (the CSIDriver, RBAC) without installing a release.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1CSIDriver } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { toolPath } from './tools.ts';

const exec = promisify(execFile);

export const CHART_DIR = new URL('../../helm/ferry', import.meta.url).pathname;

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Runs helm; `kubeconfig` points it at a cluster. Rejects with helm's own output on failure. */
export async function runHelm(args: string[], kubeconfig?: string): Promise<string> {
  const kube = kubeconfig ? ['--kubeconfig', kubeconfig] : [];
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

/**
 * `helm template` of the chart (release "ferry" in ferry-system) with --set values, and a values
 * file made from `valuesObject` for lists and maps, parsed into objects.
 */
export async function renderChart(
  values: Record<string, string | number | boolean> = {},
  valuesObject?: object,
): Promise<Manifest[]> {
  const sets = Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const dir = valuesObject ? await mkdtemp(join(tmpdir(), 'ferry-values-')) : undefined;
  try {
    if (dir) await writeFile(join(dir, 'values.json'), JSON.stringify(valuesObject));
    const file = dir ? ['--values', join(dir, 'values.json')] : [];
    const text = await runHelm(['template', 'ferry', CHART_DIR, '--namespace', 'ferry-system', ...sets, ...file]);
    const docs = parseAllDocuments(text);
    // A mapping with a key twice is an error the API server would not report the same way.
    const broken = docs.flatMap((d) => d.errors.map((e) => e.message));
    if (broken.length > 0) throw new Error(`helm template rendered invalid YAML: ${broken.join('; ')}`);
    return docs.map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** The chart's CSIDriver object, rendered with csiNode values. */
export async function chartCsiDriver(csiNode: object = {}): Promise<V1CSIDriver> {
  const driver = (await renderChart({}, { csiNode: { enabled: true, ...csiNode } })).find(
    (o) => o.kind === 'CSIDriver',
  );
  if (!driver) throw new Error('the chart rendered no CSIDriver');
  return driver as unknown as V1CSIDriver;
}
