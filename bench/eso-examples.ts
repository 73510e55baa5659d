// `npm run eso-examples`: how many of ESO's own documentation examples Ferry's CRDs accept, as a
// new user would try them (apiVersion rewritten by `ferry migrate`, server-side dry-run with
// strict field validation on the test bed's real API server). Prints the module the examples come
// from, the figures, and every rejection with the API server's reason. `--verbose` also lists the
// examples counted out of scope and why.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startTestBed } from '../src/testbed/bed.ts';
import { installCrds } from '../src/testbed/install-crds.ts';
import { formatMeasurement, measureEsoExamples } from '../test/support/eso-examples.ts';

async function main(): Promise<void> {
  const bed = await startTestBed({});
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(bed.info.kube.kubeconfigPath);
    await installCrds(kc);
    const namespace = 'eso-examples';
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const m = await measureEsoExamples(kc, namespace);
    process.stdout.write(`${formatMeasurement(m)}\n`);
    if (process.argv.includes('--verbose')) {
      for (const e of m.examples.filter((x) => x.outOfScope)) {
        process.stdout.write(
          `  out of scope ${e.id} ${e.kind} [${e.provider}]: ${e.outOfScope}${e.esoMessage ? ` (${e.esoMessage})` : ''}\n`,
        );
      }
    }
  } finally {
    await bed.stop();
  }
}

await main();
