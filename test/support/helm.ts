// The real helm binary (provisioned from the Go module proxy) pointed at the test bed, and the
// chart at helm/ferry.

import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { type Manifest, runHelm } from '../testbed/chart.ts';
import type { KubeAccess } from '../testbed/kube-apiserver.ts';
import { uniqueName } from './testbed.ts';

export { CHART_DIR, chartCsiDriver, type Manifest, renderChart } from '../testbed/chart.ts';

/** Runs helm with the bed's kubeconfig; rejects with helm's own output on failure. */
export function helm(access: KubeAccess | undefined, args: string[]): Promise<string> {
  return runHelm(args, access?.kubeconfigPath);
}

/**
 * Creates the chart's ValidatingAdmissionPolicy whose name ends in `-${suffix}`, and its binding,
 * from rendered `objects` under one unique name (the bed is shared and they are cluster-scoped).
 * Returns a function that deletes both.
 */
export async function applyChartPolicy(
  kc: KubeConfig,
  objects: Manifest[],
  suffix: string,
): Promise<() => Promise<void>> {
  const ours = (kind: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name.endsWith(`-${suffix}`)) as unknown;
  const policy = ours('ValidatingAdmissionPolicy') as V1ValidatingAdmissionPolicy | undefined;
  const binding = ours('ValidatingAdmissionPolicyBinding') as V1ValidatingAdmissionPolicyBinding | undefined;
  if (!policy?.metadata || !binding?.metadata || !binding.spec)
    throw new Error(`the chart rendered no ${suffix} policy`);
  const name = uniqueName(suffix);
  policy.metadata.name = name;
  binding.metadata.name = name;
  binding.spec.policyName = name;
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  await admission.createValidatingAdmissionPolicy({ body: policy });
  await admission.createValidatingAdmissionPolicyBinding({ body: binding });
  return async () => {
    await admission.deleteValidatingAdmissionPolicyBinding({ name }).catch(() => undefined);
    await admission.deleteValidatingAdmissionPolicy({ name }).catch(() => undefined);
  };
}
