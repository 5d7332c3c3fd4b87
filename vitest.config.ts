import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { SlowestFirst } from './test/sequencer.js';
import { slowdown } from './test/timing.js';

// End-to-end tests run a dozen commands each: on a busy 2-core machine every one takes several times
// longer than idle. The timeout stretches with the slowness measured once, at start (up to 5x).
const stretch = Math.min(5, slowdown());

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: Math.round(60_000 * stretch),
    hookTimeout: Math.round(120_000 * stretch),
    // End-to-end tests spawn processes and git; two workers match the CI machine's two cores.
    pool: 'forks',
    maxWorkers: 2,
    // The longest files first, so that no long file is left to run alone at the end (test/sequencer.ts).
    sequence: { sequencer: SlowestFirst },
    teardownTimeout: 30_000,
    // No credential probes to cloud metadata servers: every test server is on loopback.
    // No user config of the machine's (~/.config/dvs/config) either: a test that wants one sets its own.
    env: { AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none', GIT_CONFIG_NOSYSTEM: '1', DVS_CONFIG_DIR: join(tmpdir(), 'dvs-tests-no-user-config') },
  },
});
