import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests spawn processes and git; two workers match the CI machine's two cores.
    pool: 'forks',
    maxWorkers: 2,
    teardownTimeout: 30_000,
    // No credential probes to cloud metadata servers: every test server is on loopback.
    env: { AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none', GIT_CONFIG_NOSYSTEM: '1' },
  },
});
