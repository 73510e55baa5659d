// `npm run eso-examples`: how many of ESO's own documentation examples Ferry's CRDs accept, as a
// new user would try them (apiVersion rewritten by `ferry migrate`, server-side dry-run with
// strict field validation on the test bed's real API server), and how many of the accepted
// ExternalSecret examples then sync: applied for real next to a working store of their provider on
// the bed (moto, OpenBao, drongo, the spec-faithful Key Vault test server, fake), seeded with
// canaries, with a Ferry controller running in this process (test/support/eso-examples-sync.ts).
// Prints the module the examples come from, the figures, every rejection with the API server's
// reason and every example that did not sync with its status. `--verbose` also lists the examples
// counted out of scope and why.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { Controller } from '../src/controller/controller.ts';
import { extractExamples } from '../test/support/eso-docs.ts';
import { formatMeasurement, measureEsoExamples, readScope } from '../test/support/eso-examples.ts';
import { explainSync, formatSync, measureSync } from '../test/support/eso-examples-sync.ts';
import { startTestBed } from '../test/testbed/bed.ts';
import { installCrds } from '../test/testbed/install-crds.ts';
import { BED_LOOPBACK_ALLOWED_HOSTS } from '../test/testbed/loopback-servers.ts';
import { esoModule } from '../test/testbed/tools.ts';

async function main(): Promise<void> {
  const bed = await startTestBed({ moto: true, openbao: true, drongo: true });
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  try {
    if (!bed.moto || !bed.openbao || !bed.drongo) throw new Error('the bed started without moto, OpenBao or drongo');
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    await installCrds(kc);
    const namespace = 'eso-examples';
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const scope = readScope();
    const m = await measureEsoExamples(kc, namespace, scope);
    process.stdout.write(`${formatMeasurement(m)}\n`);
    if (process.argv.includes('--verbose')) {
      for (const e of m.examples.filter((x) => !!x.outOfScope)) {
        process.stdout.write(
          `  out of scope ${e.id} ${e.kind} [${e.provider}]: ${e.outOfScope}${e.esoMessage ? ` (${e.esoMessage})` : ''}\n`,
        );
      }
    }
    // The controller reads AWS through moto (the SDK's endpoint variables) and logs nowhere.
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = bed.moto.access.endpoint;
    process.env.AWS_ENDPOINT_URL_SSM = bed.moto.access.endpoint;
    process.env.AWS_ENDPOINT_URL_STS = bed.moto.access.endpoint;
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    const controller = new Controller(
      kc,
      {
        concurrency: 8,
        kubeQps: 200,
        kubeBurst: 400,
        providerQps: 100,
        providerBurst: 200,
        shareWindowMs: 60_000,
        namespacedStoreAllowedHosts: BED_LOOPBACK_ALLOWED_HOSTS,
      },
      pino({ level: 'silent' }),
    );
    running = controller.run(ac.signal);
    while (!controller.ready) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const results = await measureSync(kc, m, extractExamples(esoModule().docsDir).examples, {
      aws: bed.moto.access,
      vault: { ...bed.openbao.access, admin: bed.openbao.admin },
      gcp: { endpoint: bed.drongo.access.endpoint, admin: bed.drongo.admin },
      azure: {
        kubeIssuer: bed.info.kube.server,
        kubeSigningKeyPem: await readFile(join(bed.info.pkiDir, 'sa.pub'), 'utf8'),
      },
    });
    explainSync(results, scope.notSynced);
    process.stdout.write(`${formatSync(results)}\n  (synced in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  } finally {
    ac.abort();
    await running;
    await bed.stop();
  }
}

await main();
