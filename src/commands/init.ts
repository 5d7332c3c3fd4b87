import { defineCommand } from './types.js';
import type { InitResult } from '../ops/setup/init.js';

export const initCommand = defineCommand<Record<string, never>, InitResult>({
  name: 'init',
  command: 'init',
  describe: 'Set up dvs in the current Git repository (.dvs/, .dvsignore, .gitignore entries)',
  noRepo: true,
  builder: (y) => y.example('dvs init && git commit -m "Set up dvs"', 'start versioning data in this Git repository'),
  async run(_args, env) {
    const { init } = await import('../ops/setup/init.js');
    return init({ cwd: env.cwd });
  },
});
