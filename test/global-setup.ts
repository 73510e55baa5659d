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
  bed = await startTestBed({ moto: true, openbao: true, drongo: true, node: true });
  await installCrds(kubeConfigFor(bed.info.kube));
  project.provide('testbed', bed.info);
}

export async function teardown(): Promise<void> {
  await bed?.stop();
}
