import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Integration files that run longest (measured in CI, 2026-12-08), longest first. On a fresh
 * clone Vitest has no durations cached and runs larger files first; some short files run long
 * (api-faults, api-throttling) and, started last, left one worker running alone for a minute.
 * Started first, the two workers finish together.
 */
const SLOW_FIRST = [
  'test/integration/helm-node.test.ts',
  'test/integration/chaos.test.ts',
  'test/integration/lifecycle.test.ts',
  'test/integration/template-differential.test.ts',
  'test/integration/api-faults.test.ts',
  'test/integration/least-privilege.test.ts',
  'test/integration/idle-watches.test.ts',
  'test/integration/sync-vault.test.ts',
  'test/integration/api-throttling.test.ts',
  'test/integration/sync-aws.test.ts',
  'test/attacks/tenant-cpu-template.test.ts',
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((path) => spec.moduleId.endsWith(path));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    // Stable: files not listed keep Vitest's order, after the listed ones of their project.
    return sorted
      .map((spec, i) => ({ spec, i }))
      .sort((a, b) =>
        a.spec.project.name === b.spec.project.name ? rank(a.spec) - rank(b.spec) || a.i - b.i : a.i - b.i,
      )
      .map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: SlowFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/support/**/*.test.ts', 'test/architecture/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/attacks/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // Integration files mostly wait on servers: two at a time halve the suite on 2 cores
          // (Vitest's default is one worker less than the cores, so one file at a time here).
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
