import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Containers are real processes; two files at a time keep a 2-core machine responsive.
    maxWorkers: 2,
    projects: [
      // Pure TypeScript: passes in a clone with node_modules and no native build, and runs
      // with the addon off to keep it so.
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          env: { TSRUN_ADDON: 'off' },
        },
      },
      // The native core without containers: the addon, libseccomp, the shim launcher (C++).
      {
        test: {
          name: 'native',
          include: ['test/native/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
