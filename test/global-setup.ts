// Starts the shared test bed (etcd, kube-apiserver, moto, OpenBao, drongo, and a real node:
// kubelet, containerd, kube-controller-manager, kube-scheduler) once per run and stops it at the
// end, on failure too. Tests reach it through inject('testbed'); a node that cannot start fails
// only the tests that need it (requireNode in test/support/pods.ts).
import type { TestProject } from 'vitest/node';
import { startTestBed, type TestBed, type TestBedInfo } from '../src/testbed/bed.ts';
import { installCrds } from '../src/testbed/install-crds.ts';
import { kubeConfigFor } from './support/kubeconfig.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestBedInfo;
  }
}

let bed: TestBed | undefined;

export async function setup(project: TestProject): Promise<void> {
  // FERRY_TESTBED_NODE=off leaves the node out (a development shortcut: only one node can run per
  // machine, so parallel work on other features can run its tests beside a run that holds it).
  // The node's tests then fail, saying so; CI never sets it.
  const node = process.env.FERRY_TESTBED_NODE !== 'off';
  bed = await startTestBed({ moto: true, openbao: true, drongo: true, node });
  if (!node) bed.info.nodeError = 'the node was left out with FERRY_TESTBED_NODE=off (never set in CI)';
  await installCrds(kubeConfigFor(bed.info.kube));
  project.provide('testbed', bed.info);
}

export async function teardown(): Promise<void> {
  await bed?.stop();
}
