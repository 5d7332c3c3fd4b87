import { variadic } from './options.js';
import { defineCommand } from './types.js';
import type { RemoteAction, RemoteResult } from '../ops/remote/remote.js';

export interface RemoteArgs {
  action: RemoteAction | 'ls' | 'rm';
  args?: string[];
  default: boolean;
  local: boolean;
  force: boolean;
  unset: boolean;
  format?: string;
}

const ARITY: Record<RemoteAction, [number, number, string]> = {
  add: [2, 2, '<name> <url>'],
  list: [0, 0, ''],
  remove: [1, 1, '<name>'],
  rename: [2, 2, '<old> <new>'],
  default: [0, 1, '[name]'],
  modify: [2, 3, '<name> <option> [value]'],
};

export const remoteCommand = defineCommand<RemoteArgs, RemoteResult>({
  name: 'remote',
  command: 'remote <action> [args..]',
  describe: 'Manage remotes: add <name> <url>, list, remove <name>, rename <old> <new>, default [name], modify <name> <option> <value>',
  builder: (y) =>
    y
      .positional('action', { choices: ['add', 'list', 'ls', 'remove', 'rm', 'rename', 'default', 'modify'] as const, describe: 'what to do' })
      .positional('args', variadic('name, url, option, value'))
      .option('default', { alias: 'd', type: 'boolean', default: false, describe: 'add: make it the default remote' })
      .option('local', { type: 'boolean', default: false, describe: 'write to .dvs/config.local (not committed: secrets, paths of this machine)' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'add: replace the URL of an existing remote' })
      .option('format', { type: 'string', choices: ['packed', 'loose'], describe: 'add: how push stores small objects: packed (few requests; default for S3, GCS, Azure and SSH) or loose (one key per object)' })
      .option('unset', { type: 'boolean', default: false, describe: 'modify: remove the option; default: remove the default' })
      .example('dvs remote add -d storage s3://my-bucket/datasets', 'add the default remote (in .dvs/config, staged)')
      .example('dvs remote modify storage endpoint http://minio:9000', 'an S3-compatible server')
      .example('dvs remote modify --local storage profile ml', 'this clone only (.dvs/config.local, never committed)')
      .example('dvs remote rename storage team-s3', 'rename (the default too, if it was), staged like add'),
  async run(args, env) {
    const action: RemoteAction = args.action === 'ls' ? 'list' : args.action === 'rm' ? 'remove' : args.action;
    const rest = (args.args ?? []).map(String);
    const [min, max, form] = ARITY[action];
    const need = action === 'modify' && args.unset ? 2 : min;
    if (rest.length < need || rest.length > (action === 'modify' && args.unset ? 2 : max)) {
      const { DvsError } = await import('../errors.js');
      throw new DvsError('USAGE', `dvs remote ${action} takes ${form || 'no arguments'} (got ${rest.length ? rest.join(' ') : 'none'})`, {
        hint: 'dvs remote --help shows every form.',
      });
    }
    const { remote } = await import('../ops/remote/remote.js');
    return remote(await env.repo(), {
      action,
      name: rest[0],
      url: action === 'add' ? rest[1] : undefined,
      newName: action === 'rename' ? rest[1] : undefined,
      option: action === 'modify' ? rest[1] : undefined,
      value: action === 'modify' ? rest[2] : undefined,
      makeDefault: args.default,
      local: args.local,
      force: args.force,
      format: args.format,
      unset: args.unset,
      cwd: env.cwd,
    });
  },
});
