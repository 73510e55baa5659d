// The real helm binary (provisioned from the Go module proxy) pointed at the test bed, and the
// chart at helm/ferry.

import { runHelm } from '../testbed/chart.ts';
import type { KubeAccess } from '../testbed/kube-apiserver.ts';

export { CHART_DIR, chartCsiDriver, type Manifest, renderChart } from '../testbed/chart.ts';

/** Runs helm with the bed's kubeconfig; rejects with helm's own output on failure. */
export function helm(access: KubeAccess | undefined, args: string[]): Promise<string> {
  return runHelm(args, access?.kubeconfigPath);
}
