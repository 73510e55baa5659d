// ESO's own documentation examples against Ferry's CRDs on the real API server (the measurement of
// `npm run eso-examples`): every in-scope example is accepted, or its rejection is explained by an
// entry of test/fixtures/eso-examples/scope.yaml, and every entry there still explains one. Then
// every accepted ExternalSecret example is applied for real on a private API server (a controller
// watching every namespace runs there) next to a working store of its provider on the bed, seeded
// with canaries (test/support/eso-examples-sync.ts): it syncs, or scope.yaml's notSynced says why.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningController, startController } from '../support/controller.ts';
import { CANARY_PATTERN } from '../support/emitted.ts';
import { extractExamples } from '../support/eso-docs.ts';
import {
  formatMeasurement,
  type Measurement,
  measureEsoExamples,
  readScope,
  SCOPE_FILE,
  type Scope,
  unusedEntries,
} from '../support/eso-examples.ts';
import {
  explainSync,
  formatSync,
  measureSync,
  type SyncResult,
  unusedSyncEntries,
} from '../support/eso-examples-sync.ts';
import { usePrivateApiServer } from '../support/private-apiserver.ts';
import { createNamespace, kubeConfigFor, pointAwsSdkAt, testbed } from '../support/testbed.ts';
import { DrongoAdmin } from '../testbed/drongo.ts';
import { OpenBaoAdmin } from '../testbed/openbao.ts';
import { esoModule } from '../testbed/tools.ts';

const own = usePrivateApiServer();
let m: Measurement;
let scope: Scope;

beforeAll(async () => {
  const kc = kubeConfigFor(testbed().kube);
  scope = readScope();
  m = await measureEsoExamples(kc, await createNamespace(kc, 'eso-examples'), scope);
  process.stdout.write(`${formatMeasurement(m)}\n`);
}, 300_000);

describe("ESO's documentation examples", () => {
  it('come from the pinned ESO module, and enough of them are found and accepted by ESO to measure', () => {
    expect(m.origin.module).toBe('github.com/external-secrets/external-secrets');
    expect(m.origin.zipHash).toMatch(/^h1:/);
    // Floors, not figures: they fail when extraction or the ESO CRD install breaks.
    expect(m.examples.length).toBeGreaterThan(200);
    expect(m.examples.filter((e) => e.esoAccepted).length).toBeGreaterThan(150);
    expect(m.examples.filter((e) => !e.outOfScope).length).toBeGreaterThan(50);
  });

  it('in scope are all accepted by Ferry, except the rejections scope.yaml explains', () => {
    const unexplained = m.examples
      .filter((e) => !e.outOfScope && !e.ferryAccepted && !e.explainedBy)
      .map((e) => `${e.id}: ${e.ferryMessage}`);
    expect(unexplained, `rejected and not explained in ${SCOPE_FILE}`).toEqual([]);
  });

  it('leave no entry of scope.yaml unused (remove an entry once its work has landed)', () => {
    expect(unusedEntries(m, scope).map((e) => e.reason)).toEqual([]);
  });

  it('accepted by Ferry had nothing reported unsupported by ferry migrate, and the rejected had', () => {
    const inScope = m.examples.filter((e) => !e.outOfScope);
    const acceptedWithFindings = inScope.filter((e) => e.ferryAccepted && e.unsupported.length > 0).map((e) => e.id);
    expect(acceptedWithFindings).toEqual([]);
    // Every rejection for an unknown field is one migrate listed (it reads the same schemas).
    const unknownNotListed = inScope
      .filter((e) => !e.ferryAccepted && e.ferryMessage?.includes('unknown field') && e.unsupported.length === 0)
      .map((e) => e.id);
    expect(unknownNotListed).toEqual([]);
  });
});

describe("ESO's accepted ExternalSecret examples, synced on the bed", () => {
  let ctl: RunningController;
  let vault: OpenBaoAdmin;
  let results: SyncResult[];

  beforeAll(async () => {
    const bed = testbed();
    // A missing server fails here; nothing is skipped.
    if (!bed.aws || !bed.vault || !bed.gcp) throw new Error('the test bed runs without moto, OpenBao or drongo');
    pointAwsSdkAt(bed.aws.endpoint);
    ctl = await startController(own.get().server.access);
    vault = new OpenBaoAdmin(bed.vault, '');
    const started = Date.now();
    results = await measureSync(own.get().kc, m, extractExamples(esoModule().docsDir).examples, {
      aws: bed.aws,
      vault: { ...bed.vault, admin: vault },
      gcp: { endpoint: bed.gcp.endpoint, admin: new DrongoAdmin(bed.gcp) },
      azure: {
        kubeIssuer: own.get().server.access.server,
        kubeSigningKeyPem: await readFile(join(bed.pkiDir, 'sa.pub'), 'utf8'),
      },
    });
    explainSync(results, scope.notSynced);
    process.stdout.write(`${formatSync(results)}\n  (synced in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }, 300_000);

  afterAll(async () => {
    await ctl?.stop();
    await vault?.close();
  });

  it('are measured: every accepted ExternalSecret example, each provider of the bed syncing some', () => {
    const accepted = m.examples.filter(
      (e) => !e.outOfScope && e.ferryAccepted && (e.kind === 'ExternalSecret' || e.kind === 'ClusterExternalSecret'),
    );
    expect(results.map((r) => r.id)).toEqual(accepted.map((e) => e.id));
    // A floor, not the figure: it fails when the machinery stops providing a provider's store.
    for (const provider of ['aws', 'vault', 'gcpsm', 'azurekv', 'fake']) {
      expect(results.filter((r) => r.synced && r.backend.startsWith(provider)).length, provider).toBeGreaterThan(0);
    }
  });

  it('sync, except those scope.yaml explains under notSynced', () => {
    const unexplained = results.filter((r) => !r.synced && !r.explainedBy).map((r) => `${r.id}: ${r.reason}`);
    expect(unexplained, `not synced and not explained in ${SCOPE_FILE}`).toEqual([]);
  });

  it('leave no notSynced entry unused', () => {
    expect(unusedSyncEntries(results, scope.notSynced).map((e) => e.reason)).toEqual([]);
  });

  it('report no canary value in any status they left', () => {
    expect(results.filter((r) => CANARY_PATTERN.test(r.reason ?? '')).map((r) => r.id)).toEqual([]);
  });
});
