// `ferry controller`: runs the operator until SIGTERM or SIGINT, then drains and exits.
import { KubeConfig } from '@kubernetes/client-node';
import { CONTROLLER_USAGE, ConfigError, parseControllerConfig } from '../config.ts';
import { Controller } from '../controller/controller.ts';
import { LeaderElector } from '../kube/leader-election.ts';
import { startHttpServer } from '../observability/http-server.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { EgressAllowList } from '../providers/egress.ts';

export const command = {
  summary: 'run the operator',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help')) {
      process.stdout.write(`${CONTROLLER_USAGE}\n`);
      return 0;
    }
    let config: ReturnType<typeof parseControllerConfig>;
    try {
      config = parseControllerConfig(argv);
      checkAllowList(config.namespacedStoreAllowedHosts);
    } catch (err) {
      process.stderr.write(`ferry controller: ${(err as Error).message}\n\n${CONTROLLER_USAGE}\n`);
      return 2;
    }
    const logger = createLogger(config.logLevel);
    const kc = new KubeConfig();
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault();
    const elector = config.leaderElection ? new LeaderElector(kc, config.leaderElection, logger) : undefined;
    const controller = new Controller(kc, config, logger, new Metrics({ processMetrics: true }), elector);
    const server = config.metricsAddr
      ? await startHttpServer(
          config.metricsAddr,
          controller.metrics,
          () => controller.ready,
          () => controller.describe(),
        )
      : undefined;

    const stop = new AbortController();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down: finishing reconciles in flight');
        stop.abort();
      });
    }
    try {
      await controller.run(stop.signal);
      // Exit non-zero so the pod restarts as a follower; its writes stopped when the lease lapsed.
      if (controller.leadershipLost) return 1;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      logger.fatal({ err: String(err) }, 'controller failed');
      return 1;
    } finally {
      server?.close();
    }
    return 0;
  },
};

/** A bad --namespaced-store-allowed-hosts entry stops start-up with the flag and entry named. */
function checkAllowList(entries: string[]): void {
  try {
    new EgressAllowList(entries);
  } catch (err) {
    throw new Error(`--namespaced-store-allowed-hosts: ${(err as Error).message}`);
  }
}
