// Runs a Ferry controller in the test process, scoped to one namespace, with every log line
// captured so tests can search it (canary checks).
import type { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { Controller, type ControllerConfig } from '../../src/controller/controller.ts';
import type { KubeAccess } from '../testbed/kube-apiserver.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../testbed/loopback-servers.ts';
import { keepEmitted } from './emitted.ts';
import { kubeConfigFor } from './kubeconfig.ts';
import { testbed } from './testbed.ts';

export interface RunningController {
  controller: Controller;
  logs: string[];
  kc: KubeConfig;
  stop(): Promise<void>;
}

export async function startController(
  access: KubeAccess,
  config: Partial<ControllerConfig> = {},
): Promise<RunningController> {
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(line) });
  const kc = kubeConfigFor(access);
  const controller = new Controller(
    kc,
    {
      concurrency: 8,
      kubeQps: 200,
      kubeBurst: 400,
      providerQps: 100,
      providerBurst: 200,
      shareWindowMs: 60_000,
      // Tests watch refreshes of 1 s and force objects more than once; the production floor and
      // force interval (10 s each) have their own tests (test/attacks/tenant-flood.test.ts).
      minRefreshIntervalMs: 1000,
      forceSyncIntervalMs: 1000,
      ...config,
      // The bed's servers listen on loopback; tests that prove the rule pass [] (tenant-egress).
      namespacedStoreAllowedHosts: config.namespacedStoreAllowedHosts ?? BED_LOOPBACK_ALLOWED_HOSTS,
    },
    logger,
  );
  const ac = new AbortController();
  const done = controller.run(ac.signal);
  const deadline = Date.now() + 30_000;
  while (!controller.ready) {
    if (Date.now() > deadline) throw new Error(`controller did not become ready:\n${logs.slice(-20).join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    controller,
    logs,
    kc,
    async stop() {
      ac.abort();
      await done;
      keepEmitted(testbed().runDir, 'controller', logs);
    },
  };
}

/** Secret writes (create, update, replace) the controller sent for one ExternalSecret. */
export function secretWrites(ctl: RunningController, name: string): number {
  return ctl.logs
    .map((l) => JSON.parse(l) as { name?: string; outcome?: string })
    .filter((l) => l.name === name && l.outcome !== undefined).length;
}
