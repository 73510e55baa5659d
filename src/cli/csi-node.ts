// `ferry csi-node`: the CSI node plugin (a DaemonSet in a cluster), until SIGTERM or SIGINT.
import { KubeConfig } from '@kubernetes/client-node';
import { CSI_NODE_USAGE, parseCsiNodeConfig } from '../config.ts';
import { startHttpServer } from '../observability/http-server.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { EgressAllowList } from '../providers/egress.ts';
import { CsiPlugin } from '../sinks/csi/csi-plugin.ts';

const VERSION = '0.1.0';

export const command = {
  summary: 'run the CSI node plugin (files in pods, never stored in etcd)',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help')) {
      process.stdout.write(`${CSI_NODE_USAGE}\n`);
      return 0;
    }
    let config: ReturnType<typeof parseCsiNodeConfig>;
    try {
      config = parseCsiNodeConfig(argv);
      checkAllowList(config.namespacedStoreAllowedHosts);
    } catch (err) {
      process.stderr.write(`ferry csi-node: ${(err as Error).message}\n\n${CSI_NODE_USAGE}\n`);
      return 2;
    }
    const logger = createLogger(config.logLevel);
    const kc = new KubeConfig();
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault();
    const plugin = new CsiPlugin(kc, { ...config, version: VERSION }, logger, new Metrics({ processMetrics: true }));
    const server = config.metricsAddr
      ? await startHttpServer(config.metricsAddr, plugin.metrics, () => plugin.ready)
      : undefined;
    const stop = new AbortController();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down; mounted volumes stay for their pods');
        stop.abort();
      });
    }
    try {
      await plugin.run(stop.signal);
    } catch (err) {
      logger.fatal({ err: String(err) }, 'CSI node plugin failed');
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
