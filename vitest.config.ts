import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
