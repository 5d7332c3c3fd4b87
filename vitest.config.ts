import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    // No user config of the machine's (~/.config/dvs/config) either: a test that wants one sets its own.
    env: { AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none', GIT_CONFIG_NOSYSTEM: '1', DVS_CONFIG_DIR: join(tmpdir(), 'dvs-tests-no-user-config') },
  },
});
